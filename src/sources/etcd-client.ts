// The product's side of the etcd client: member records as etcdctl shows
// them. The client factory and error wording are shared with the lab
// (src/net/etcd-client.ts).
import type { IMember } from 'etcd3';
import type { EtcdMember } from '../domain/types.js';

export { createEtcdClient, errorMessage } from '../net/etcd-client.js';

/** A member as etcd's member list returns it, with its ID in hex. */
export function toEtcdMember(m: IMember): EtcdMember {
  return {
    id: memberIdHex(m.ID),
    name: m.name,
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: Boolean(m.isLearner),
  };
}

/** Member IDs arrive as uint64 decimal strings; etcdctl prints hex. */
export function memberIdHex(id: string | number | bigint): string {
  return BigInt(id).toString(16);
}
