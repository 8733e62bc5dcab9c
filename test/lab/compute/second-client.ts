// A second Compute client for the conformance tests: Google's discovery-based
// client (@googleapis/compute), written independently of the
// @google-cloud/compute library kube-ha uses, so that the lab cannot pass
// only because it shares kube-ha's client's assumptions. It talks to the lab
// on loopback only: a fixed access token (no metadata server, no token
// fetch), and every request goes through a fetch that refuses anything but
// 127.0.0.1 and records what was asked.
import { auth, compute, type compute_v1 } from '@googleapis/compute';
import { startService } from './harness.js';

export interface SecondClient {
  c: compute_v1.Compute;
  /** Every URL the client (or its auth) fetched. */
  urls: string[];
  /** URLs refused because they were not on loopback (must stay empty). */
  refused: string[];
  endpoint: string;
  service: Awaited<ReturnType<typeof startService>>['service'];
  close(): Promise<void>;
}

export async function startSecondClient(
  opts: Parameters<typeof startService>[0] = {},
): Promise<SecondClient> {
  const lab = await startService(opts);
  const urls: string[] = [];
  const refused: string[] = [];
  const guard = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    urls.push(url);
    if (new URL(url).hostname !== '127.0.0.1') {
      refused.push(url);
      throw new Error(`refused: ${url} is not on loopback`);
    }
    return fetch(input, init);
  }) as typeof fetch;
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: 'lab-token', expiry_date: Date.now() + 24 * 3600_000 });
  // The auth client's own requests (a token refresh would be one) go through the guard too.
  oauth.transporter.defaults.fetchImplementation = guard;
  const c = compute({
    version: 'v1',
    rootUrl: `${lab.endpoint}/`,
    auth: oauth,
    fetchImplementation: guard,
    retry: false,
  });
  return {
    c,
    urls,
    refused,
    endpoint: lab.endpoint,
    service: lab.service,
    close: () => lab.close(),
  };
}

export interface HttpFailure {
  status: number;
  reason: string | undefined;
  message: string;
  body: {
    error?: {
      code?: number;
      message?: string;
      status?: string;
      errors?: { reason?: string; message?: string }[];
    };
  };
}

/** The HTTP error of a call that must fail; throws if it succeeds. */
export async function httpFailure(p: Promise<unknown>): Promise<HttpFailure> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; response?: { status?: number; data?: unknown } };
    const body = (e.response?.data ?? {}) as HttpFailure['body'];
    return {
      status: e.response?.status ?? e.status ?? 0,
      reason: body.error?.errors?.[0]?.reason,
      message: body.error?.message ?? String(err),
      body,
    };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Waits for a zonal, regional or global operation with `operations.wait` until DONE. */
export async function waitDone(
  c: compute_v1.Compute,
  project: string,
  op: compute_v1.Schema$Operation,
): Promise<compute_v1.Schema$Operation> {
  let cur = op;
  const last = (u: string | null | undefined) => (u ?? '').split('/').pop() ?? '';
  for (let i = 0; i < 50 && cur.status !== 'DONE'; i++) {
    const name = cur.name ?? '';
    if (cur.zone) {
      cur = (await c.zoneOperations.wait({ project, zone: last(cur.zone), operation: name })).data;
    } else if (cur.region) {
      cur = (await c.regionOperations.wait({ project, region: last(cur.region), operation: name })).data;
    } else cur = (await c.globalOperations.wait({ project, operation: name })).data;
  }
  if (cur.status !== 'DONE') throw new Error(`operation ${cur.name} not DONE`);
  return cur;
}

/** Waits and requires success. */
export async function ok(
  c: compute_v1.Compute,
  project: string,
  p: Promise<{ data: compute_v1.Schema$Operation }>,
): Promise<compute_v1.Schema$Operation> {
  const op = await waitDone(c, project, (await p).data);
  if (op.error?.errors?.length) throw new Error(`operation failed: ${JSON.stringify(op.error.errors)}`);
  return op;
}
