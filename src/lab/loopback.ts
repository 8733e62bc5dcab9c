// Each lab (and each test cluster) owns one 127.N.0.0/16 block so that several
// can run at once with etcd on its real ports (2379, 2380, 4002, 2381). The
// block is claimed by listening on 127.N.0.1:CLAIM_PORT: the kernel makes that
// exclusive, and the claim ends with the process that holds it.
import { createServer, type Server } from 'node:net';

export const CLAIM_PORT = 10443;

export interface LoopbackBlock {
  /** Second octet. */
  n: number;
  /** 127.N.0.1: the lab's own services. */
  controlIP: string;
  /** The server holding the claim; the lab's Compute server may take it over. */
  server: Server;
}

/** Linux routes all of 127/8 to lo; other systems only 127.0.0.1 without setup. */
export function loopbackBlocksSupported(): boolean {
  return process.platform === 'linux';
}

/** Listens on host:port alone (no shared port); rejects with the listen error. */
export function listenExclusive(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function tryListen(server: Server, host: string, port: number): Promise<boolean> {
  return listenExclusive(server, host, port).then(
    () => true,
    () => false,
  );
}

/** Whether host:port can be listened on now (nothing holds it, and we may bind it). */
export async function canListen(host: string, port: number): Promise<boolean> {
  const probe = createServer();
  if (!(await tryListen(probe, host, port))) return false;
  await new Promise<void>((r) => probe.close(() => r()));
  return true;
}

/** The first VMs' etcd client ports in block N can be listened on (nothing left running there). */
export async function etcdPortsFree(n: number): Promise<boolean> {
  for (let vm = 1; vm <= 5; vm++) if (!(await canListen(`127.${n}.1.${vm}`, 2379))) return false;
  return true;
}

/** Claims a free block; pass `server` to make it the claim (e.g. an HTTP server). */
export async function claimLoopbackBlock(server?: Server, preferred?: number): Promise<LoopbackBlock> {
  if (!loopbackBlocksSupported()) throw new Error('the lab needs Linux (a distinct loopback address per VM)');
  const tried = new Set<number>();
  const candidates = preferred !== undefined ? [preferred] : [];
  while (tried.size < 200) {
    const n = candidates.shift() ?? 16 + Math.floor(Math.random() * 230);
    if (tried.has(n)) continue;
    tried.add(n);
    const s = server ?? createServer();
    const controlIP = `127.${n}.0.1`;
    if (await tryListen(s, controlIP, CLAIM_PORT)) {
      // A lab whose supervisor died leaves its claim free while its etcd
      // processes live on in the block (until `lab up` resumes and reaps
      // them): a new lab or test cluster must not move in beside them.
      if (n === preferred || (await etcdPortsFree(n))) return { n, controlIP, server: s };
      await new Promise<void>((r) => s.close(() => r()));
      continue;
    }
    if (preferred !== undefined && n === preferred) throw new Error(`loopback block 127.${n}/16 is in use`);
  }
  throw new Error('no free loopback block found');
}
