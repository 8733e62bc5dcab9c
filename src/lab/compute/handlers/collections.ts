// The lab's resource collections and what each one does as GCE does it: the
// kind of its resources, where they live (a zone, a region or the global
// scope), the word GCE's "already being used" message names them by, and
// whether one being created stays hidden until its insert is DONE.
import type {
  AddressResource,
  DiskResource,
  ForwardingRuleResource,
  HttpHealthCheckResource,
  InstanceResource,
  TargetPoolResource,
} from '../types.js';

export type ScopeKind = 'zone' | 'region' | 'global';

export interface Collection {
  kind: string;
  scope: ScopeKind;
  /** `type` of errors.inUse: "The <inUseAs> resource '...' is already being used by '...'". */
  inUseAs?: string;
  /** GCE shows it (get, list, references) only once its insert is DONE. */
  hiddenWhilePending?: boolean;
}

export const COLLECTIONS = {
  instances: { kind: 'compute#instance', scope: 'zone' },
  disks: { kind: 'compute#disk', scope: 'zone', inUseAs: 'disk' },
  addresses: { kind: 'compute#address', scope: 'region', inUseAs: 'address' },
  targetPools: {
    kind: 'compute#targetPool',
    scope: 'region',
    inUseAs: 'targetPool',
    hiddenWhilePending: true,
  },
  forwardingRules: { kind: 'compute#forwardingRule', scope: 'region', hiddenWhilePending: true },
  httpHealthChecks: {
    kind: 'compute#httpHealthCheck',
    scope: 'global',
    inUseAs: 'httpHealthCheck',
    hiddenWhilePending: true,
  },
} as const satisfies Record<string, Collection>;

/** A table with a collection behind it (images are a catalog, served in handlers/images.ts). */
export type CollectionName = keyof typeof COLLECTIONS;

interface Resources {
  instances: InstanceResource;
  disks: DiskResource;
  addresses: AddressResource;
  targetPools: TargetPoolResource;
  forwardingRules: ForwardingRuleResource;
  httpHealthChecks: HttpHealthCheckResource;
}

export type ResourceOf<K extends CollectionName> = Resources[K];
