// The precompiled etcd3 definition the CLI bundles use (scripts/etcd-protos.mjs)
// gives @grpc/grpc-js what etcd3's own proto-loader call gives it: every
// service and method with the same paths, streaming flags and names, and
// (de)serializers that produce the same bytes and objects.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  ETCD3_LOAD_OPTIONS,
  etcdPackageDefinition,
  etcdRpcJson,
  // @ts-expect-error: a build script in plain JavaScript, without types
} from '../../scripts/etcd-protos.mjs';

const etcd3 = createRequire(createRequire(import.meta.url).resolve('etcd3'));

interface Method {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  originalName: string;
  requestSerialize(v: unknown): Buffer;
  requestDeserialize(b: Buffer): unknown;
  responseSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}
type Definition = Record<string, Record<string, Method> | { format: string }>;

// What etcd3 1.1.2 does when it is imported (lib/connection-pool.js).
const reference = etcd3('@grpc/proto-loader').loadSync(
  etcd3.resolve('etcd3/proto/rpc.proto'),
  ETCD3_LOAD_OPTIONS,
) as Definition;
const precompiled = etcdPackageDefinition(
  etcdRpcJson(),
  ETCD3_LOAD_OPTIONS,
  etcd3('protobufjs'),
  etcd3('lodash.camelcase'),
) as Definition;

const services = (d: Definition) =>
  Object.entries(d).filter(([, v]) => !('format' in v)) as [string, Record<string, Method>][];

describe('the precompiled etcd3 definition', () => {
  it('has every service and method of etcd3 own, with the same paths, streams and names', () => {
    const want = services(reference);
    expect(want.map(([n]) => n)).toEqual(
      expect.arrayContaining(['etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Cluster']),
    );
    expect(
      services(precompiled)
        .map(([n]) => n)
        .sort(),
    ).toEqual(want.map(([n]) => n).sort());
    for (const [name, methods] of want) {
      const got = precompiled[name] as Record<string, Method>;
      expect(Object.keys(got).sort(), name).toEqual(Object.keys(methods).sort());
      for (const [m, ref] of Object.entries(methods)) {
        const { path, requestStream, responseStream, originalName } = got[m]!;
        expect({ path, requestStream, responseStream, originalName }, `${name}.${m}`).toEqual({
          path: ref.path,
          requestStream: ref.requestStream,
          responseStream: ref.responseStream,
          originalName: ref.originalName,
        });
      }
    }
  });

  it('serializes and deserializes as etcd3 own (64-bit ids as strings, enums by name, defaults)', () => {
    const kv = (d: Definition) => d['etcdserverpb.KV'] as Record<string, Method>;
    const cluster = (d: Definition) => d['etcdserverpb.Cluster'] as Record<string, Method>;
    const range = {
      key: Buffer.from('/registry/leases/'),
      range_end: Buffer.from('/registry/leases0'),
      limit: 5,
    };
    expect(kv(precompiled).Range!.requestSerialize(range)).toEqual(
      kv(reference).Range!.requestSerialize(range),
    );
    const response = {
      header: {
        cluster_id: '14841639068965178418',
        member_id: '10276657743932975437',
        revision: '42',
        raft_term: '2',
      },
      kvs: [{ key: Buffer.from('a'), value: Buffer.from('b'), mod_revision: '41', version: '3' }],
      count: '1',
    };
    const bytes = kv(reference).Range!.responseSerialize(response);
    expect(kv(precompiled).Range!.responseSerialize(response)).toEqual(bytes);
    const decoded = kv(precompiled).Range!.responseDeserialize(bytes);
    expect(decoded).toEqual(kv(reference).Range!.responseDeserialize(bytes));
    expect(decoded).toMatchObject({ header: { member_id: '10276657743932975437' }, more: false });
    const members = {
      members: [{ ID: '10276657743932975437', name: 'm', peerURLs: ['https://a:2380'], isLearner: true }],
    };
    const mbytes = cluster(reference).MemberList!.responseSerialize(members);
    expect(cluster(precompiled).MemberList!.responseDeserialize(mbytes)).toEqual(
      cluster(reference).MemberList!.responseDeserialize(mbytes),
    );
    const watch = (d: Definition) => d['etcdserverpb.Watch'] as Record<string, Method>;
    const event = { watch_id: '1', events: [{ type: 'DELETE', kv: { key: Buffer.from('k') } }] };
    const wbytes = watch(reference).Watch!.responseSerialize(event);
    expect(watch(precompiled).Watch!.responseDeserialize(wbytes)).toEqual(
      watch(reference).Watch!.responseDeserialize(wbytes),
    );
    expect(() => kv(precompiled).Range!.requestSerialize([])).toThrow(/expected object/);
  });
});
