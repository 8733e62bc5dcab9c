// What the Compute clients send as credentials: nothing to an emulator (plain
// http on loopback, the lab), gcloud's CLOUDSDK_AUTH_ACCESS_TOKEN_FILE token
// when it is set, and a clear line when there are no credentials at all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createComputeClients, isEmulator } from '../../src/gce/clients.js';
import { NO_CREDENTIALS, toGceApiError } from '../../src/gce/operations.js';

let server: Server;
let endpoint: string;
const seen: IncomingHttpHeaders[] = [];
/** The token files' directory, removed after the file. */
const tokens = mkdtempSync(join(tmpdir(), 'kube-ha-token-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: 'kubernetes-master', status: 'RUNNING' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/compute/v1/`;
});
afterAll(async () => {
  rmSync(tokens, { recursive: true, force: true });
  await new Promise<void>((r) => server.close(() => r()));
});

async function getInstance(accessTokenFile: string | null): Promise<IncomingHttpHeaders> {
  const clients = await createComputeClients({ endpoint, timeoutMs: 5000, accessTokenFile });
  try {
    const [vm] = await clients.instances.get({
      project: 'p',
      zone: 'us-central1-b',
      instance: 'kubernetes-master',
    });
    expect(vm.status).toBe('RUNNING');
    return seen.at(-1)!;
  } finally {
    await clients.close();
  }
}

describe('Compute credentials', () => {
  it('an emulator (plain http on loopback) gets no credentials', async () => {
    expect((await getInstance(null)).authorization).toBeUndefined();
  });

  it("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE's token is sent as a bearer token", async () => {
    const file = join(tokens, 'token');
    writeFileSync(file, 'ya29.lab-token\n');
    expect((await getInstance(file)).authorization).toBe('Bearer ya29.lab-token');
  });

  it('an unreadable or empty token file is a clear error before any call', async () => {
    await expect(
      createComputeClients({ endpoint, timeoutMs: 5000, accessTokenFile: '/nonexistent/token' }),
    ).rejects.toThrow(/CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=\/nonexistent\/token cannot be read/);
    const empty = join(tokens, 'empty');
    writeFileSync(empty, '\n');
    await expect(createComputeClients({ endpoint, timeoutMs: 5000, accessTokenFile: empty })).rejects.toThrow(
      /is empty/,
    );
  });

  it('only plain http on a loopback address is an emulator: https or another host gets credentials', () => {
    const cases: [string, boolean][] = [
      ['http://127.0.0.1:8080/compute/v1/', true],
      ['http://127.5.0.1:443/', true],
      ['http://localhost:9000/', true],
      ['http://[::1]:9000/', true],
      ['https://127.0.0.1:8443/', false],
      ['https://compute-psc.p.googleapis.com/compute/v1/', false],
      ['http://10.0.0.5:8080/', false],
      ['http://127.0.0.1.example.com/', false],
    ];
    for (const [u, emulator] of cases) expect(isEmulator(new URL(u)), u).toBe(emulator);
  });

  it('no credentials at all reads as what to run, not as a web page to browse', () => {
    const e = toGceApiError(
      new Error(
        'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.',
      ),
    );
    expect([e.code, e.reason, e.message]).toEqual([401, 'noCredentials', NO_CREDENTIALS]);
    expect(e.transient).toBe(false);
  });
});
