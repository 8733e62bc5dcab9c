// What an operator asks for: add, remove or replace one control-plane replica.
// Parsed from flag values with kube-up's environment variables as fallbacks,
// so that scripts written for kube-up/kube-down keep working. Pure: the CLI
// turns RequestError into a usage error (exit 2) before anything is observed.
import { GCE_NAME } from '../names.js';
import type { EtcdClusterName } from '../types.js';

export type OpKind = 'add' | 'remove' | 'replace' | RemedyKind | 'defrag';

export interface AddRequest {
  kind: 'add';
  zone: string;
  /** KUBE_REPLICA_NAME: an explicit name; otherwise kube-up's `<master>-xxx` rule. */
  name: string | null;
}

export interface RemoveRequest {
  kind: 'remove';
  /** Exactly one of replica / zone is set; zone alone means "a replica in that zone". */
  replica: string | null;
  zone: string | null;
  /** Leave the removed member's data disk for `kube-ha cleanup` (absent in journals before it existed). */
  keepDisk?: boolean;
}

export interface ReplaceRequest {
  kind: 'replace';
  replica: string;
  /** Zone of the new replica; default: the replaced replica's zone. */
  zone: string | null;
  /** Replace even a healthy replica. */
  force: boolean;
  /** As RemoveRequest.keepDisk. */
  keepDisk?: boolean;
}

/**
 * The lighter remedies for a sick replica, tried before a replace: reset its
 * VM (instances.reset: a hung VM) or start it (instances.start: TERMINATED or
 * STOPPED). No etcd membership changes; the VM, its disks and its members stay.
 */
export type RemedyKind = 'reset' | 'start';

export interface RemedyRequest {
  kind: RemedyKind;
  replica: string;
  /** reset: reset even a replica whose members look healthy (never one quorum depends on). */
  force: boolean;
  /** Nothing is removed, so no disk is left behind: never set (read alike with remove's and replace's). */
  keepDisk?: undefined;
}

/** NOSPACE's remedy: compact, defragment member by member, disarm (plan-defrag.ts). */
export interface DefragRequest {
  kind: 'defrag';
  /** null: every cluster in NOSPACE, else main. */
  cluster: EtcdClusterName | null;
  /** Nothing is removed: never set (read alike with remove's and replace's). */
  keepDisk?: undefined;
}

export type OpRequest = AddRequest | RemoveRequest | ReplaceRequest | RemedyRequest | DefragRequest;

export function isRemedy(r: { kind: string }): r is RemedyRequest {
  return r.kind === 'reset' || r.kind === 'start';
}

export class RequestError extends Error {
  override name = 'RequestError';
}

/** GCE zone names: region plus a one-letter suffix (us-central1-a). */
const ZONE = /^[a-z]+(-[a-z]+)*[0-9]+-[a-z]$/;

export function validZone(zone: string, source: string): string {
  if (!ZONE.test(zone)) throw new RequestError(`${source}: '${zone}' is not a GCE zone (like us-central1-b)`);
  return zone;
}

export function validReplicaName(name: string, source: string): string {
  if (!GCE_NAME.test(name)) {
    throw new RequestError(
      `${source}: '${name}' is not a valid instance name (lower-case letters, digits, -)`,
    );
  }
  return name;
}

/**
 * What an added replica's name becomes part of (plan.ts diskNameOf and
 * internalAddressName): each must be a GCE name too, so a name that only
 * fails there is refused here rather than midway through the add.
 */
const DERIVED_SUFFIXES = ['-pd', '-internal-ip'] as const;

/** A new replica's name: valid itself, and so are the disk and address named after it. */
export function validNewReplicaName(name: string, source: string): string {
  validReplicaName(name, source);
  for (const suffix of DERIVED_SUFFIXES) {
    const derived = `${name}${suffix}`;
    if (!GCE_NAME.test(derived)) {
      const longest = 63 - Math.max(...DERIVED_SUFFIXES.map((x) => x.length));
      throw new RequestError(
        `${source}: '${name}' is too long: '${derived}' (${derived.length} characters) exceeds GCE's 63; use at most ${longest} characters`,
      );
    }
  }
  return name;
}

/** Flag values as node:util parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | undefined>;

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function envStr(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const v = env[key];
  return v !== undefined && v !== '' ? v : undefined;
}

/** Flag first, then the kube-up variable; says which one a bad value came from. */
function pick(values: FlagValues, flag: string, env: NodeJS.ProcessEnv, variable: string) {
  const f = str(values[flag]);
  if (f !== undefined) return { value: f, source: `--${flag}` };
  const e = envStr(env, variable);
  if (e !== undefined) return { value: e, source: variable };
  return null;
}

export function parseAddRequest(values: FlagValues, env: NodeJS.ProcessEnv = {}): AddRequest {
  const replicate = envStr(env, 'KUBE_REPLICATE_EXISTING_MASTER');
  // kube-up with this unset or false creates a whole new cluster; add only ever replicates.
  if (replicate !== undefined && replicate !== 'true') {
    throw new RequestError(
      `KUBE_REPLICATE_EXISTING_MASTER=${replicate}: kube-ha add only replicates an existing master (unset it or set it to true)`,
    );
  }
  const zone = pick(values, 'zone', env, 'KUBE_GCE_ZONE');
  if (!zone) throw new RequestError('add needs --zone ZONE (or KUBE_GCE_ZONE)');
  const name = pick(values, 'replica', env, 'KUBE_REPLICA_NAME');
  return {
    kind: 'add',
    zone: validZone(zone.value, zone.source),
    name: name ? validNewReplicaName(name.value, name.source) : null,
  };
}

export function parseRemoveRequest(values: FlagValues, env: NodeJS.ProcessEnv = {}): RemoveRequest {
  const deleteNodes = envStr(env, 'KUBE_DELETE_NODES');
  // kube-down with KUBE_DELETE_NODES=true tears down the whole cluster; refuse to guess.
  if (deleteNodes !== undefined && deleteNodes !== 'false') {
    throw new RequestError(
      `KUBE_DELETE_NODES=${deleteNodes}: kube-ha remove only removes one control-plane replica (unset it or set it to false)`,
    );
  }
  const replica = pick(values, 'replica', env, 'KUBE_REPLICA_NAME');
  const zone = pick(values, 'zone', env, 'KUBE_GCE_ZONE');
  // A flag beats a variable: `--zone` with KUBE_REPLICA_NAME set means the zone.
  const flagReplica = str(values.replica) !== undefined;
  const flagZone = str(values.zone) !== undefined;
  if (flagReplica && flagZone) throw new RequestError('remove takes --replica NAME or --zone ZONE, not both');
  const keepDisk = values['keep-disk'] === true;
  if (replica && (flagReplica || !flagZone)) {
    return { kind: 'remove', replica: validReplicaName(replica.value, replica.source), zone: null, keepDisk };
  }
  if (zone) return { kind: 'remove', replica: null, zone: validZone(zone.value, zone.source), keepDisk };
  throw new RequestError('remove needs --replica NAME or --zone ZONE (or KUBE_REPLICA_NAME / KUBE_GCE_ZONE)');
}

export function parseReplaceRequest(values: FlagValues, env: NodeJS.ProcessEnv = {}): ReplaceRequest {
  const replica = pick(values, 'replica', env, 'KUBE_REPLICA_NAME');
  if (!replica) throw new RequestError('replace needs --replica NAME (or KUBE_REPLICA_NAME)');
  const zone = str(values.zone);
  return {
    kind: 'replace',
    replica: validReplicaName(replica.value, replica.source),
    zone: zone ? validZone(zone, '--zone') : null,
    force: values.force === true,
    keepDisk: values['keep-disk'] === true,
  };
}

/** `reset|start --replica NAME` (or KUBE_REPLICA_NAME, as the other flows read it). */
export function parseRemedyRequest(
  kind: RemedyKind,
  values: FlagValues,
  env: NodeJS.ProcessEnv = {},
): RemedyRequest {
  const replica = pick(values, 'replica', env, 'KUBE_REPLICA_NAME');
  if (!replica) throw new RequestError(`${kind} needs --replica NAME (or KUBE_REPLICA_NAME)`);
  // A VM that is not running has nothing to force past: start never needs it.
  if (kind === 'start' && values.force === true)
    throw new RequestError('start takes no --force (a stopped VM has no healthy members to protect)');
  return { kind, replica: validReplicaName(replica.value, replica.source), force: values.force === true };
}

/** `defrag [--cluster main|events]`. */
export function parseDefragRequest(values: FlagValues): DefragRequest {
  const c = str(values.cluster);
  if (c !== undefined && c !== 'main' && c !== 'events')
    throw new RequestError(`--cluster: '${c}' is not an etcd cluster (main or events)`);
  return { kind: 'defrag', cluster: c ?? null };
}

export function parseRequest(kind: OpKind, values: FlagValues, env: NodeJS.ProcessEnv = {}): OpRequest {
  if (kind === 'defrag') return parseDefragRequest(values);
  if (kind === 'add') return parseAddRequest(values, env);
  if (kind === 'remove') return parseRemoveRequest(values, env);
  if (kind === 'reset' || kind === 'start') return parseRemedyRequest(kind, values, env);
  return parseReplaceRequest(values, env);
}

/** One line for logs, locks and journals: `add in us-central1-b`, `remove kubernetes-master-x7k`. */
export function describeRequest(r: OpRequest): string {
  if (r.kind === 'add') return `add ${r.name ?? 'a replica'} in ${r.zone}`;
  if (r.kind === 'defrag') return `defrag etcd ${r.cluster ?? '(clusters in NOSPACE, else main)'}`;
  if (r.kind === 'remove') return r.replica ? `remove ${r.replica}` : `remove a replica in ${r.zone}`;
  if (isRemedy(r)) return `${r.kind} ${r.replica}${r.force ? ' (forced)' : ''}`;
  return `replace ${r.replica}${r.zone ? ` (new replica in ${r.zone})` : ''}${r.force ? ' (forced)' : ''}`;
}
