// Observing from a replica (Target.vantage): each etcd cluster as usual from
// the local member on 127.0.0.1, and beside it the local member's /metrics,
// whose peer connections say what a replica can know of the members it
// cannot ask (src/domain/peer-view.ts). The console and status both get it:
// the Observer makes this source in place of the plain one.
import { request } from 'node:http';
import { type PeerObservation, peerObservationError, peerObservationOf } from '../domain/peer-view.js';
import type { EtcdObservation } from '../domain/types.js';
import { EtcdClusterSource, type ObserveEtcdOptions } from './etcd.js';
import { errorMessage } from './etcd-client.js';

/** etcd's /metrics is ~150 KB; anything much larger is not etcd's. */
const MAX_METRICS_BYTES = 8 << 20;

/** GET `url` within `timeoutMs` (the whole exchange), at most `maxBytes`. */
export function fetchText(url: string, timeoutMs: number, maxBytes = MAX_METRICS_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new Error(`${url}: more than ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    const deadline = setTimeout(
      () => req.destroy(new Error(`${url}: no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
    req.end();
  });
}

/** The local member's peer view, or why it could not be read. */
export async function readPeerView(from: string, url: string, timeoutMs: number): Promise<PeerObservation> {
  try {
    return peerObservationOf(await fetchText(url, timeoutMs), from, url);
  } catch (err) {
    return peerObservationError(from, url, errorMessage(err));
  }
}

export class VantageEtcdSource extends EtcdClusterSource {
  constructor(
    private readonly vantage: { replica: string; metricsURL: string },
    ...args: ConstructorParameters<typeof EtcdClusterSource>
  ) {
    super(...args);
  }

  override async observe(opts: ObserveEtcdOptions = {}): Promise<EtcdObservation> {
    const [obs, peers] = await Promise.all([
      super.observe(opts),
      readPeerView(this.vantage.replica, this.vantage.metricsURL, this.timeoutMs),
    ]);
    return { ...obs, peers };
  }
}
