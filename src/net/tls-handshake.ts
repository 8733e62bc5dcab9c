// One TLS handshake with a member's client endpoint, as the etcd client makes
// it: the operator's CA, client pair and h2, the chain verified, the name not
// (kube-up's member certificates name `etcd-<instance>`, never the address
// dialled). What the handshake is for (the name to verify against, the
// certificates' dates) is read from the connected socket.
import { readFileSync, statSync } from 'node:fs';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { isIPAddress } from '../domain/member-endpoints.js';
import { urlHost } from '../domain/names.js';
import { startDeadline } from './deadline.js';
import type { TlsFiles } from './etcd-client.js';

const contexts = new Map<string, SecureContext>();

/**
 * One secure context per set of files (and their modification times): making
 * one reads and parses the CA and the key pair, ~5 ms of CPU, once per member
 * per handshake before (issue 12). A rewritten file makes a new one.
 */
function secureContextFor(tls: TlsFiles): SecureContext {
  const files = [tls.caFile, tls.certFile, tls.keyFile];
  const key = files.map((f) => (f ? `${f}@${statSync(f).mtimeMs}` : '')).join('|');
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = createSecureContext({
      ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
    });
    contexts.set(key, ctx);
  }
  return ctx;
}

/** Handshakes with `endpoint` and returns `read(socket)`; rejects on a failure or after `timeoutMs`. */
export function verifiedHandshake<T>(
  endpoint: string,
  tls: TlsFiles,
  timeoutMs: number,
  read: (socket: TLSSocket) => T,
): Promise<T> {
  const url = new URL(endpoint);
  const host = urlHost(endpoint) ?? url.hostname;
  return new Promise((resolve, reject) => {
    let secureContext: SecureContext;
    try {
      secureContext = secureContextFor(tls);
    } catch (err) {
      reject(err);
      return;
    }
    const socket = connect({
      host,
      port: Number(url.port) || 443,
      ...(isIPAddress(host) ? {} : { servername: host }),
      secureContext,
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
      ALPNProtocols: ['h2'],
    });
    const timer = startDeadline(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`deadline exceeded: no TLS handshake in ${(timeoutMs / 1000).toFixed(1)} s`));
    });
    socket.once('secureConnect', () => {
      timer.cancel();
      try {
        resolve(read(socket));
      } catch (err) {
        reject(err);
      } finally {
        socket.destroy();
      }
    });
    socket.once('error', (err) => {
      timer.cancel();
      socket.destroy();
      reject(err);
    });
  });
}
