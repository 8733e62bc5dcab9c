// Probes kube-apiserver's readiness on each replica, with a deadline: /readyz
// (Kubernetes 1.16+; /healthz is deprecated since), and /healthz when /readyz
// answers 404 (an older apiserver). The certificate is not verified: kube-up
// issues none for a replica's own IP (only for the static IP and the names), so,
// like GCE's health checker, the probe only asks whether the server says "ok".
// Used by status, the console and the operations, so it lives in none of them.
import { Agent, type RequestOptions, request } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ApiserverProbe } from '../domain/types.js';
import { startDeadline } from './deadline.js';

/** kube-apiserver's secure port on GCE. */
export const APISERVER_PORT = 443;

export interface ProbeOptions {
  timeoutMs: number;
  path?: string;
  /**
   * Keep the connection for the next probe (the console's, every few
   * seconds): a TLS handshake per probe was most of a probe's CPU. Not for
   * a load balancer's address, where each probe must be a new connection to
   * say what a new client gets.
   */
  keepAlive?: boolean;
}

/** One kept connection per apiserver; idle ones do not hold the process. */
const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
// One TLS context for every probe (each request would make its own, the same
// one: no CA, key or certificate of ours; the server's is not verified). With
// no CA given, Node loads its whole root store into it: ~40 ms of CPU on a
// status' first probe (issue 12), for certificates the probe never checks.
let probeContext: SecureContext | undefined;

/** kube-apiserver's readiness endpoint; the fallback for apiservers older than 1.16. */
export const READYZ = '/readyz';
export const HEALTHZ = '/healthz';

/** `https://host:port/readyz`, with IPv6 hosts in brackets. */
export function apiserverURL(host: string, port: number, path = READYZ): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `https://${h}:${port}${path}`;
}

const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connect timed out',
};

/**
 * The checks a failing /readyz or /healthz lists as `[-]NAME failed: reason`
 * (k8s.io/apiserver healthz handleRootHealth: every check, then "<name> check failed").
 */
export function failedChecks(body: string): string[] {
  const out: string[] = [];
  for (const line of body.split('\n')) {
    const m = /^\[-\]([^\s]+) failed/.exec(line.trim());
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

/**
 * GET `url`, and when it is a /readyz that answers 404, the same host's
 * /healthz (the URL in the result says which answered). Ready = HTTP 200 with
 * body "ok". The deadline covers both requests. Never rejects: failures come
 * back as `{ healthy: false, error }`.
 */
export async function probeApiserver(host: string, url: string, opts: ProbeOptions): Promise<ApiserverProbe> {
  const started = Date.now();
  let first = await probeOnce(host, url, opts);
  // A kept connection the server closed as it was reused: that says nothing of the server.
  if (first.staleSocket) first = await probeOnce(host, url, { ...opts, keepAlive: false });
  if (first.status !== 404 || !url.endsWith(READYZ)) return first.probe;
  const left = opts.timeoutMs - (Date.now() - started);
  if (left <= 0) return first.probe;
  const fallback = `${url.slice(0, -READYZ.length)}${HEALTHZ}`;
  return (await probeOnce(host, fallback, { ...opts, timeoutMs: left })).probe;
}

function probeOnce(
  host: string,
  url: string,
  opts: ProbeOptions,
): Promise<{ probe: ApiserverProbe; status: number | null; staleSocket?: boolean }> {
  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    const done = (
      p: Omit<ApiserverProbe, 'host' | 'url' | 'failedChecks'> & { failedChecks?: string[] },
      keep = false,
      staleSocket = false,
    ) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (!keep) req.destroy();
      resolve({
        probe: { host, url, failedChecks: [], ...p },
        status,
        ...(staleSocket ? { staleSocket } : {}),
      });
    };
    const agent = opts.keepAlive ? keptAlive : false;
    probeContext ??= createSecureContext({ ca: [] });
    // tls.connect takes secureContext through https.request (its types do not say so).
    const options: RequestOptions & { secureContext: SecureContext } = {
      method: 'GET',
      rejectUnauthorized: false,
      agent,
      secureContext: probeContext,
    };
    const req = request(url, options, (res) => {
      status = res.statusCode ?? null;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 4096) chunks.push(c);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').trim();
        const ok = res.statusCode === 200 && body === 'ok';
        const failed = ok ? [] : failedChecks(body);
        // The failed checks say why; the first line of any other body stands in for them.
        const why = failed.length
          ? failed.map((c) => `${c} failed`).join(', ')
          : body.split('\n')[0]?.slice(0, 200);
        done(
          {
            healthy: ok,
            answered: true,
            error: ok ? null : `HTTP ${res.statusCode}${why ? `: ${why}` : ''}`,
            failedChecks: failed,
          },
          Boolean(opts.keepAlive),
        );
      });
      res.on('error', (err) => done({ healthy: false, answered: true, error: err.message }));
    });
    // Counts only time this process could have heard the answer (src/net/deadline.ts).
    const timer = startDeadline(opts.timeoutMs, () =>
      done({
        healthy: false,
        answered: false,
        error: `no answer in ${(opts.timeoutMs / 1000).toFixed(1)} s`,
      }),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const word = err.code ? WORDS[err.code] : undefined;
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      done({ healthy: false, answered: false, error: word ?? err.message }, false, stale);
    });
    req.end();
  });
}

/**
 * Probes every host at once; resolves within about `timeoutMs`. With
 * `keepAlive`, every host but `fresh` (a load balancer's address) keeps its connection.
 */
export async function probeApiservers(
  hosts: readonly string[],
  port: number,
  opts: ProbeOptions & { fresh?: readonly string[] },
): Promise<ApiserverProbe[]> {
  const unique = [...new Set(hosts)];
  const { fresh = [], ...probe } = opts;
  return Promise.all(
    unique.map((h) =>
      probeApiserver(h, apiserverURL(h, port, opts.path), {
        ...probe,
        keepAlive: Boolean(opts.keepAlive) && !fresh.includes(h),
      }),
    ),
  );
}
