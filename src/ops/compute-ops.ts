// Compute calls as the operation runners make them: every call logged (the
// command log), bounded (the transport timeout, the operation deadline),
// transient failures retried a few times, and "already exists" / "not found"
// turned into facts a runner can act on, so that every runner is idempotent.
import { lastSegment } from '../domain/names.js';
import type { ComputeClients } from '../gce/clients.js';
import {
  type GceOperation,
  GceOperationError,
  isGceApiError,
  type OperationLike,
  toGceApiError,
  waitForOperation,
} from '../gce/operations.js';

export interface ComputeOpsOptions {
  project: string;
  region: string;
  /** How long one operation may take to be DONE. */
  opDeadlineMs: number;
  log(line: string): void;
  sleep?(ms: number): Promise<void>;
}

const RETRIES = 3;

function opOf(res: unknown): OperationLike {
  const first = Array.isArray(res) ? res[0] : res;
  return (first ?? {}) as OperationLike;
}

function opName(op: OperationLike): string {
  const lr = (op as { latestResponse?: GceOperation }).latestResponse ?? (op as GceOperation);
  return lr?.name ?? '?';
}

export function describeError(err: unknown): string {
  if (err instanceof GceOperationError) return err.message;
  if (err instanceof Error && err.name === 'GceOperationTimeoutError') return err.message;
  const api = toGceApiError(err);
  return `${api.code ? `HTTP ${api.code}` : 'no response'}${api.reason ? ` ${api.reason}` : ''}: ${api.message}`;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class ComputeOps {
  readonly project: string;
  readonly region: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly c: ComputeClients,
    private readonly o: ComputeOpsOptions,
  ) {
    this.project = o.project;
    this.region = o.region;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Transient failures (no response, 429, 5xx, resourceNotReady) are retried; the rest thrown as GceApiError. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const api = toGceApiError(err);
        const retry = api.transient || api.reason === 'resourceNotReady';
        if (!retry || attempt >= RETRIES) throw api;
        await this.sleep(delay);
        delay *= 2;
      }
    }
  }

  /** A read: logged with its outcome; 404 resolves to null. */
  async get<T>(label: string, fn: () => Promise<[T, ...unknown[]]>): Promise<T | null> {
    const started = Date.now();
    try {
      const [res] = await this.retrying(fn);
      this.o.log(`compute ${label} → found (${secs(Date.now() - started)})`);
      return res;
    } catch (err) {
      if (isGceApiError(err, 404)) {
        this.o.log(`compute ${label} → not found`);
        return null;
      }
      this.o.log(`compute ${label} → ${describeError(err)}`);
      throw err;
    }
  }

  /**
   * A mutation and its operation, waited for until DONE. Returns 'exists' on
   * 409 alreadyExists and 'absent' on 404 when the caller allows it (the
   * resource was created or deleted by an earlier, interrupted run).
   */
  async mutate(
    label: string,
    fn: () => Promise<unknown>,
    tolerate: { exists?: boolean; absent?: boolean } = {},
  ): Promise<'done' | 'exists' | 'absent'> {
    const started = Date.now();
    let op: OperationLike;
    try {
      op = opOf(await this.retrying(fn));
    } catch (err) {
      if (tolerate.exists && isGceApiError(err, 409)) {
        this.o.log(`compute ${label} → already exists`);
        return 'exists';
      }
      if (tolerate.absent && isGceApiError(err, 404)) {
        this.o.log(`compute ${label} → not found (nothing to do)`);
        return 'absent';
      }
      this.o.log(`compute ${label} → ${describeError(err)}`);
      throw err;
    }
    try {
      await waitForOperation(this.c, op, { deadlineMs: this.o.opDeadlineMs, project: this.project });
      this.o.log(`compute ${label} → ${opName(op)} DONE (${secs(Date.now() - started)})`);
      return 'done';
    } catch (err) {
      this.o.log(`compute ${label} → ${opName(op)} ${describeError(err)}`);
      throw err;
    }
  }

  // ------------------------------------------------------------ resources

  instanceUrl(zone: string, name: string): string {
    return `projects/${this.project}/zones/${zone}/instances/${name}`;
  }

  getInstance(zone: string, name: string) {
    return this.get(`instances.get zone=${zone} name=${name}`, () =>
      this.c.instances.get({ project: this.project, zone, instance: name }),
    );
  }

  getDisk(zone: string, name: string) {
    return this.get(`disks.get zone=${zone} name=${name}`, () =>
      this.c.disks.get({ project: this.project, zone, disk: name }),
    );
  }

  getAddress(name: string) {
    return this.get(`addresses.get region=${this.region} name=${name}`, () =>
      this.c.addresses.get({ project: this.project, region: this.region, address: name }),
    );
  }

  getTargetPool(name: string) {
    return this.get(`targetPools.get region=${this.region} name=${name}`, () =>
      this.c.targetPools.get({ project: this.project, region: this.region, targetPool: name }),
    );
  }

  getForwardingRule(name: string) {
    return this.get(`forwardingRules.get region=${this.region} name=${name}`, () =>
      this.c.forwardingRules.get({ project: this.project, region: this.region, forwardingRule: name }),
    );
  }

  getHealthCheck(name: string) {
    return this.get(`httpHealthChecks.get name=${name}`, () =>
      this.c.httpHealthChecks.get({ project: this.project, httpHealthCheck: name }),
    );
  }

  /** Zones of the region, from regions.get. */
  async zonesInRegion(): Promise<string[] | null> {
    const r = await this.get(`regions.get name=${this.region}`, () =>
      this.c.regions.get({ project: this.project, region: this.region }),
    );
    return r?.zones ? r.zones.map((z) => lastSegment(z)) : null;
  }
}
