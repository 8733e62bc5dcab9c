// Probes kube-apiserver's /healthz on each replica, with a deadline. The
// certificate is not verified: kube-up issues none for a replica's own IP
// (only for the static IP and the names), so, like GCE's health checker, the
// probe only asks whether the server says "ok". Used by the product (status,
// operations) and by the lab's load balancer, so it lives in neither.
import { request } from 'node:https';
import type { ApiserverProbe } from '../domain/types.js';

/** kube-apiserver's secure port on GCE. */
export const APISERVER_PORT = 443;

export interface ProbeOptions {
  timeoutMs: number;
  path?: string;
}

/** `https://host:port/healthz`, with IPv6 hosts in brackets. */
export function apiserverURL(host: string, port: number, path = '/healthz'): string {
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
 * One GET of `url`. Healthy = HTTP 200 with body "ok" (what /healthz answers).
 * Never rejects: failures come back as `{ healthy: false, error }`.
 */
export function probeApiserver(host: string, url: string, opts: ProbeOptions): Promise<ApiserverProbe> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (p: Omit<ApiserverProbe, 'host' | 'url'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ host, url, ...p });
    };
    const req = request(url, { method: 'GET', rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 4096) chunks.push(c);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').trim();
        const ok = res.statusCode === 200 && body === 'ok';
        done({
          healthy: ok,
          answered: true,
          error: ok ? null : `HTTP ${res.statusCode}${body ? `: ${body.split('\n')[0]?.slice(0, 200)}` : ''}`,
        });
      });
      res.on('error', (err) => done({ healthy: false, answered: true, error: err.message }));
    });
    const timer = setTimeout(
      () =>
        done({
          healthy: false,
          answered: false,
          error: `no answer in ${(opts.timeoutMs / 1000).toFixed(1)} s`,
        }),
      opts.timeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const word = err.code ? WORDS[err.code] : undefined;
      done({ healthy: false, answered: false, error: word ?? err.message });
    });
    req.end();
  });
}

/** Probes every host at once; resolves within about `timeoutMs`. */
export async function probeApiservers(
  hosts: readonly string[],
  port: number,
  opts: ProbeOptions,
): Promise<ApiserverProbe[]> {
  const unique = [...new Set(hosts)];
  return Promise.all(unique.map((h) => probeApiserver(h, apiserverURL(h, port, opts.path), opts)));
}
