import { describe, expect, it } from 'vitest';
import {
  describeRequest,
  parseAddRequest,
  parseRemoveRequest,
  parseReplaceRequest,
  RequestError,
} from '../../src/domain/ops/request.js';

describe('operation requests', () => {
  it('add: --zone, or KUBE_GCE_ZONE; KUBE_REPLICA_NAME names the replica', () => {
    expect(parseAddRequest({ zone: 'us-central1-b' })).toEqual({
      kind: 'add',
      zone: 'us-central1-b',
      name: null,
    });
    expect(
      parseAddRequest(
        {},
        {
          KUBE_GCE_ZONE: 'us-central1-c',
          KUBE_REPLICATE_EXISTING_MASTER: 'true',
          KUBE_REPLICA_NAME: 'kubernetes-master-zz1',
        },
      ),
    ).toEqual({ kind: 'add', zone: 'us-central1-c', name: 'kubernetes-master-zz1' });
    // The flag wins over the variable.
    expect(parseAddRequest({ zone: 'us-central1-a' }, { KUBE_GCE_ZONE: 'us-central1-c' }).zone).toBe(
      'us-central1-a',
    );
  });

  it('add: refuses a missing or malformed zone and a kube-up new-cluster environment', () => {
    expect(() => parseAddRequest({})).toThrow(/--zone/);
    expect(() => parseAddRequest({ zone: 'uscentral' })).toThrow(/--zone: 'uscentral' is not a GCE zone/);
    expect(() => parseAddRequest({}, { KUBE_GCE_ZONE: 'nope' })).toThrow(/KUBE_GCE_ZONE/);
    expect(() =>
      parseAddRequest({ zone: 'us-central1-b' }, { KUBE_REPLICATE_EXISTING_MASTER: 'false' }),
    ).toThrow(RequestError);
    expect(() => parseAddRequest({ zone: 'us-central1-b', replica: 'Bad_Name' })).toThrow(
      /not a valid instance name/,
    );
  });

  it('remove: by replica or by zone, never both; kube-down variables', () => {
    expect(parseRemoveRequest({ replica: 'kubernetes-master-x7k' })).toEqual({
      kind: 'remove',
      replica: 'kubernetes-master-x7k',
      zone: null,
      keepDisk: false,
    });
    expect(parseRemoveRequest({ zone: 'us-central1-b', 'keep-disk': true })).toEqual({
      kind: 'remove',
      replica: null,
      zone: 'us-central1-b',
      keepDisk: true,
    });
    expect(
      parseRemoveRequest({}, { KUBE_GCE_ZONE: 'us-central1-b', KUBE_DELETE_NODES: 'false' }),
    ).toMatchObject({
      zone: 'us-central1-b',
    });
    expect(
      parseRemoveRequest({}, { KUBE_GCE_ZONE: 'us-central1-b', KUBE_REPLICA_NAME: 'kubernetes-master-x7k' }),
    ).toMatchObject({ replica: 'kubernetes-master-x7k', zone: null });
    // An explicit --zone beats an inherited KUBE_REPLICA_NAME.
    expect(
      parseRemoveRequest({ zone: 'us-central1-c' }, { KUBE_REPLICA_NAME: 'kubernetes-master-x7k' }),
    ).toMatchObject({
      replica: null,
      zone: 'us-central1-c',
    });
    expect(() => parseRemoveRequest({ replica: 'a', zone: 'us-central1-b' })).toThrow(/not both/);
    expect(() => parseRemoveRequest({})).toThrow(/--replica NAME or --zone ZONE/);
    expect(() => parseRemoveRequest({ zone: 'us-central1-b' }, { KUBE_DELETE_NODES: 'true' })).toThrow(
      /KUBE_DELETE_NODES=true/,
    );
  });

  it('replace: --replica required, --force and --zone optional', () => {
    expect(parseReplaceRequest({ replica: 'kubernetes-master', force: true })).toEqual({
      kind: 'replace',
      replica: 'kubernetes-master',
      zone: null,
      force: true,
      keepDisk: false,
    });
    expect(parseReplaceRequest({ replica: 'kubernetes-master', 'keep-disk': true })).toMatchObject({
      keepDisk: true,
    });
    expect(() => parseReplaceRequest({})).toThrow(/--replica/);
    expect(() => parseReplaceRequest({ replica: 'kubernetes-master', zone: 'x' })).toThrow(/--zone/);
  });

  it('describes itself in one line', () => {
    expect(describeRequest({ kind: 'add', zone: 'us-central1-b', name: null })).toBe(
      'add a replica in us-central1-b',
    );
    expect(describeRequest({ kind: 'remove', replica: null, zone: 'us-central1-b' })).toBe(
      'remove a replica in us-central1-b',
    );
    expect(describeRequest({ kind: 'replace', replica: 'r', zone: null, force: true })).toBe(
      'replace r (forced)',
    );
  });
});
