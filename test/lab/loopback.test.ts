import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { claimLoopbackBlock, etcdPortsFree } from '../../src/lab/loopback.js';

describe('loopback blocks', () => {
  it('a claimed block is free of etcd listeners until something listens on a VM etcd port', async () => {
    const block = await claimLoopbackBlock();
    try {
      expect(await etcdPortsFree(block.n)).toBe(true);
      // What a dead supervisor's etcd child looks like: a listener in the block.
      const orphan = createServer();
      await new Promise<void>((r) => orphan.listen({ host: `127.${block.n}.1.3`, port: 2379 }, () => r()));
      try {
        expect(await etcdPortsFree(block.n)).toBe(false);
      } finally {
        await new Promise<void>((r) => orphan.close(() => r()));
      }
      expect(await etcdPortsFree(block.n)).toBe(true);
    } finally {
      await new Promise<void>((r) => block.server.close(() => r()));
    }
  });
});
