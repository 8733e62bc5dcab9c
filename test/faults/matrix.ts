// The fault matrix of issue 11: operations run through the real CLI on real
// labs with one fault each, and every cell checks the same invariants:
//   quorum     never lost by the tool, at any moment (LabMonitor);
//   vm-voter   no VM of a voting member deleted, at any moment (LabMonitor);
//   consistent at the end: members == VMs == pool, no orphan disk, address or VM,
//              no unfinished journal, the static IP where it belongs;
//   exit       the exit code is one the documentation allows for that fault, and
//              the replicas are the ones that code promises.
// Cells share a lab per starting topology: before each cell the lab is brought
// to the cell's starting size with plain (unfaulted) operations.
import { spawn } from 'node:child_process';
import type { Plan, PlanStep } from '../../src/domain/ops/plan.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { BIN, type CliResult, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';
import {
  cli,
  journals,
  labFault,
  type OpsLab,
  opsLab,
  settle,
  status,
  untilStep,
} from '../ops/lab-helpers.js';
import { LabMonitor } from './monitor.js';

export type OpName = 'add 1→2' | 'add 3→4' | 'remove 4→3' | 'remove 2→1' | 'replace in 3';

export type Fault =
  | { kind: 'compute'; method: string; variant: '503-once' | 'rate-limit-twice' | 'op-error' }
  | { kind: 'kill'; after: string; recovery: 'rollback' | 'resume' }
  | { kind: 'member-crash-during-catch-up' }
  | { kind: 'lock-member-frozen' };

export interface Cell {
  op: OpName;
  fault: Fault;
}

export interface CellResult {
  cell: Cell;
  /** invariant -> problems (empty: held). */
  invariants: Record<'quorum' | 'vm-voter' | 'consistent' | 'exit', string[]>;
  /** Exit codes in order: the operation (`kill` for a failpoint), then the recovery. */
  exits: string[];
  ms: number;
  minSlack: Record<string, number>;
}

interface OpSpec {
  /** Replicas the lab starts with (its topology), and the cell's starting size. */
  lab: 'one' | 'three';
  start: number;
  args(s: ClusterStatus): string[];
  /** May a rolled-back cell end without the removed replica (past the point of no return)? */
  removes: boolean;
  adds: boolean;
}

const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c'];

/** The zone with the fewest replicas (ties: the first). */
function emptiestZone(s: ClusterStatus): string {
  const count = (z: string) => s.replicas.filter((r) => r.zone === z).length;
  return [...ZONES].sort((a, b) => count(a) - count(b))[0]!;
}

/** The replica to remove: the newest (highest name after the first), never the lab's first. */
function newest(s: ClusterStatus): string {
  return [...s.replicas]
    .map((r) => r.name)
    .sort()
    .at(-1)!;
}

export const OPS: Record<OpName, OpSpec> = {
  'add 1→2': {
    lab: 'one',
    start: 1,
    adds: true,
    removes: false,
    args: (s) => ['add', '--zone', emptiestZone(s)],
  },
  'remove 2→1': {
    lab: 'one',
    start: 2,
    adds: false,
    removes: true,
    args: (s) => ['remove', '--replica', newest(s)],
  },
  'add 3→4': {
    lab: 'three',
    start: 3,
    adds: true,
    removes: false,
    args: (s) => ['add', '--zone', emptiestZone(s)],
  },
  'remove 4→3': {
    lab: 'three',
    start: 4,
    adds: false,
    removes: true,
    args: (s) => ['remove', '--replica', newest(s)],
  },
  'replace in 3': {
    lab: 'three',
    start: 3,
    adds: true,
    removes: true,
    // A healthy replica: replace needs --force for it (the crashed-replica replace is in ops-three).
    args: (s) => ['replace', '--replica', newest(s), '--force'],
  },
};

/** The Compute method each mutating step calls (its undo calls the inverse, not faulted here). */
const METHOD: Partial<Record<PlanStep['kind'], string>> = {
  'lb.create-target-pool': 'targetPools.insert',
  'lb.detach-static-ip': 'instances.deleteAccessConfig',
  'lb.create-forwarding-rule': 'forwardingRules.insert',
  'address.reserve-internal': 'addresses.insert',
  'disk.create': 'disks.insert',
  'instance.insert': 'instances.insert',
  'lb.add-instance': 'targetPools.addInstance',
  'lb.remove-instance': 'targetPools.removeInstance',
  'instance.delete': 'instances.delete',
  'disk.delete': 'disks.delete',
  'address.delete': 'addresses.delete',
  'lb.delete-forwarding-rule': 'forwardingRules.delete',
  'lb.attach-static-ip': 'instances.addAccessConfig',
  'lb.delete-target-pool': 'targetPools.delete',
};

const VARIANTS = {
  '503-once': { mode: 'http', code: 503, reason: 'backendError', times: 1 },
  'rate-limit-twice': {
    mode: 'http',
    code: 403,
    reason: 'rateLimitExceeded',
    message: 'Rate Limit Exceeded',
    times: 2,
  },
  'op-error': { mode: 'operation', times: 1 },
} as const;

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'compute':
      return `${f.method} ${f.variant}`;
    case 'kill':
      return `kill -9 after ${f.after} → ${f.recovery}`;
    case 'member-crash-during-catch-up':
      return 'a member crashes during catch-up';
    case 'lock-member-frozen':
      return "the lock's member frozen during a wait";
  }
}

/** Every cell of one operation, from its plan on the lab at the starting size. */
export function cellsFor(op: OpName, plan: Plan): Cell[] {
  const cells: Cell[] = [];
  const methods = [...new Set(plan.steps.map((s) => METHOD[s.kind]).filter((m): m is string => Boolean(m)))];
  for (const method of methods)
    for (const variant of Object.keys(VARIANTS) as (keyof typeof VARIANTS)[])
      cells.push({ op, fault: { kind: 'compute', method, variant } });
  for (const s of plan.steps)
    for (const recovery of ['rollback', 'resume'] as const)
      cells.push({ op, fault: { kind: 'kill', after: s.id, recovery } });
  // Only where one member down still leaves a quorum: three voters and a learner.
  if (op === 'add 3→4') {
    cells.push({ op, fault: { kind: 'member-crash-during-catch-up' } });
    cells.push({ op, fault: { kind: 'lock-member-frozen' } });
  }
  return cells;
}

/** A lab per topology, shared by its cells; recreated when a cell leaves it broken. */
export class MatrixLab {
  lab: OpsLab | null = null;

  constructor(readonly topology: 'one' | 'three') {}

  /** The lab's status, observed in-process (lab-helpers' status()). */
  async status(): Promise<ClusterStatus> {
    return status(await this.up());
  }

  async up(): Promise<OpsLab> {
    if (this.lab) return this.lab;
    const dir = tempLabDir();
    await labUp(dir, [
      '--replicas',
      this.topology === 'one' ? '1' : '3',
      '--zones',
      ZONES.join(','),
      '--lb-delay',
      '1',
      // The test helper's 15-minute self-destruct is for one test file; a matrix runs for an hour or more.
      '--ttl',
      '14400',
    ]);
    this.lab = opsLab(dir);
    return this.lab;
  }

  async down(): Promise<void> {
    if (this.lab) await labDown(this.lab.dir);
    this.lab = null;
  }

  /** Brings the lab to `size` replicas with plain operations; false when it cannot (the lab is then rebuilt). */
  async resize(size: number): Promise<void> {
    for (let attempt = 0; attempt < 6; attempt++) {
      const lab = await this.up();
      const s = await this.status();
      if (pendingJournal(lab) !== null) {
        await cli(lab, ['operation', 'rollback', '--yes'], 300_000);
        continue;
      }
      const n = s.replicas.length;
      if (n === size && (await settle(lab, size, 30_000)).length === 0) return;
      const args = n < size ? ['add', '--zone', emptiestZone(s)] : ['remove', '--replica', newest(s)];
      const res = n === size ? null : await cli(lab, [...args, '--yes'], 300_000);
      if (res && res.code !== 0) {
        // A lab a cell left broken is not worth healing: start over.
        await this.down();
      }
    }
    throw new Error(`could not bring the ${this.topology} lab to ${size} replicas`);
  }
}

/** An operation left unfinished in the lab's state dir (an unreadable journal counts). */
function pendingJournal(lab: OpsLab): string | null {
  try {
    const open = journals(lab).filter((j) => j.state !== 'done' && j.state !== 'rolled-back');
    return open.at(-1)?.operationId ?? null;
  } catch (err) {
    return String(err);
  }
}

const names = (s: ClusterStatus) => s.replicas.map((r) => r.name).sort();

/** What replica sets the operation may end with: before (rolled back) and after (done). */
function outcomes(
  op: OpSpec,
  before: string[],
  after: string[],
): { done: boolean; rolledBack: boolean; cut: boolean } {
  const removed = op.removes ? newestOf(before) : null;
  const kept = before.filter((n) => n !== removed);
  const added = after.filter((n) => !before.includes(n));
  const expectedAdded = op.adds ? 1 : 0;
  const done =
    kept.every((n) => after.includes(n)) &&
    !after.includes(removed ?? '\0') &&
    added.length === expectedAdded &&
    after.length === kept.length + expectedAdded;
  const rolledBack = after.length === before.length && before.every((n) => after.includes(n));
  // Past the point of no return of a remove: rolled back to just after the removal.
  const cut = op.removes && after.length === kept.length && kept.every((n) => after.includes(n));
  return { done, rolledBack, cut };
}

const newestOf = (ns: string[]) => [...ns].sort().at(-1) ?? null;

export async function runCell(lab: MatrixLab, cell: Cell): Promise<CellResult> {
  const op = OPS[cell.op];
  const t0 = Date.now();
  const phases: string[] = [];
  let tp = t0;
  const phase = (name: string) => {
    phases.push(`${name} ${((Date.now() - tp) / 1000).toFixed(1)}s`);
    tp = Date.now();
  };
  await lab.resize(op.start);
  phase('resize');
  const l = await lab.up();
  const before = await lab.status();
  const args = [...op.args(before), '--yes'];
  const monitor = new LabMonitor(l.dir);
  monitor.start();
  const exits: string[] = [];
  const exitProblems: string[] = [];
  const f = cell.fault;
  try {
    if (f.kind === 'compute') {
      await labFault(l, { method: f.method, ...VARIANTS[f.variant] });
      let res: CliResult;
      try {
        res = await cli(l, args, 300_000);
      } finally {
        await labFault(l, null);
      }
      exits.push(String(res.code));
      const allowed = f.variant === 'op-error' ? [0, 4] : [0];
      if (!allowed.includes(res.code))
        exitProblems.push(`exit ${res.code}, documented ${allowed.join('|')}: ${lastLines(res)}`);
    } else if (f.kind === 'kill') {
      const bg = spawnCli(l, args, { KUBE_HA_FAILPOINTS: `kill-after=${f.after}` });
      const end = await bg.done;
      exits.push(end.signal ?? String(end.code));
      if (end.signal !== 'SIGKILL') exitProblems.push(`not killed at ${f.after}: exit ${end.code}`);
      const rec = await cli(l, ['operation', f.recovery, '--yes'], 300_000);
      exits.push(String(rec.code));
      if (rec.code !== 0) exitProblems.push(`operation ${f.recovery} exit ${rec.code}: ${lastLines(rec)}`);
    } else {
      const bg = spawnCli(l, args);
      await untilStep(l, 'add.catch-up.main', ['running', 'done'], 120_000);
      const victim =
        f.kind === 'member-crash-during-catch-up'
          ? before.replicas.find((r) => !r.etcd.main?.leader)!.name
          : lockReplica(bg, before);
      if (f.kind === 'member-crash-during-catch-up') {
        monitor.expectDown(victim);
        await runCli(['lab', 'crash', victim, '--dir', l.dir]);
        const end = await bg.done;
        exits.push(String(end.code));
        await runCli(['lab', 'restart', victim, '--dir', l.dir]);
        if (![0, 4].includes(end.code ?? -1))
          exitProblems.push(`exit ${end.code}: ${end.output.slice(-300)}`);
      } else {
        await runCli(['lab', 'freeze', victim, '--dir', l.dir]);
        // Longer than the lock's TTL (15 s): keepalives must have moved to another member.
        await new Promise((r) => setTimeout(r, 20_000));
        await runCli(['lab', 'thaw', victim, '--dir', l.dir]);
        const end = await bg.done;
        exits.push(String(end.code));
        if (![0, 4].includes(end.code ?? -1))
          exitProblems.push(`exit ${end.code}: ${end.output.slice(-300)}`);
      }
    }
  } catch (err) {
    exitProblems.push(`the cell itself failed: ${String(err)}`);
  }
  phase('fault');
  // The monitor keeps watching while the cluster settles: a member removed late still counts.
  const settleProblems = await settle(l, null, 30_000);
  phase('settle');
  const watched = await monitor.stop();
  const after = names(await lab.status());
  const o = outcomes(op, names(before), after);
  const firstExit = exits[0];
  if (f.kind === 'kill') {
    if (f.recovery === 'resume' && !o.done) exitProblems.push(`resumed but replicas are ${after.join(',')}`);
    if (f.recovery === 'rollback' && !o.rolledBack && !o.cut && !o.done)
      exitProblems.push(`rolled back but replicas are ${after.join(',')}`);
  } else if (firstExit === '0' && !o.done) exitProblems.push(`exit 0 but replicas are ${after.join(',')}`);
  else if (firstExit === '4' && !o.rolledBack && !o.cut)
    exitProblems.push(`exit 4 but replicas are ${after.join(',')}`);
  const pending = pendingJournal(l);
  phase('check');
  if (process.env.FAULTS_DEBUG) process.stdout.write(`  phases: ${phases.join(', ')}\n`);
  const consistent = [...settleProblems, ...(pending ? [`unfinished journal ${pending}`] : [])];
  return {
    cell,
    invariants: {
      quorum: watched.violations.filter((v) => v.includes('quorum')),
      'vm-voter': watched.violations.filter((v) => v.includes('VM gone')),
      consistent,
      exit: exitProblems,
    },
    exits,
    ms: Date.now() - t0,
    minSlack: watched.minSlack,
  };
}

interface Spawned {
  output(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** The CLI in the background with extra environment; its output readable while it runs. */
function spawnCli(lab: OpsLab, args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [BIN, ...args, '--lab-dir', lab.dir], {
    env: { ...process.env, ...lab.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const add = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  // Bounded: a hung operation is killed, and shows as a failed cell.
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>(
    (resolve) =>
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, output });
      }),
  );
  return { output: () => output, done };
}

/** The replica whose etcd main member the lock was taken through (from the call log). */
function lockReplica(bg: Spawned, s: ClusterStatus): string {
  const ip = /operation-lock if absent.*taken \(via https?:\/\/([\d.]+):/.exec(bg.output())?.[1];
  return s.replicas.find((r) => r.vm.internalIP === ip)?.name ?? s.replicas[0]!.name;
}

function lastLines(r: CliResult): string {
  return `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-4).join(' | ');
}

export function renderTable(results: CellResult[]): string {
  const mark = (p: string[]) => (p.length ? '✗' : '✓');
  const rows = results.map(
    (r) =>
      `| ${r.cell.op} | ${describeFault(r.cell.fault)} | ${r.exits.join(' → ')} | ${mark(r.invariants.quorum)} | ${mark(r.invariants['vm-voter'])} | ${mark(r.invariants.consistent)} | ${mark(r.invariants.exit)} | ${(r.ms / 1000).toFixed(0)} s |`,
  );
  const failures = results.flatMap((r) =>
    Object.entries(r.invariants).flatMap(([k, ps]) =>
      ps.map((p) => `- ${r.cell.op} / ${describeFault(r.cell.fault)} / ${k}: ${p}`),
    ),
  );
  return [
    '| operation | fault | exits | quorum | vm-voter | consistent | exit | time |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `${results.length} cells, ${results.filter((r) => Object.values(r.invariants).every((p) => !p.length)).length} passed`,
    ...(failures.length ? ['', 'failures:', ...failures] : []),
  ].join('\n');
}

export async function planOf(m: MatrixLab, op: OpName): Promise<Plan> {
  const lab = await m.up();
  const s = await m.status();
  const res = await cli(lab, [...OPS[op].args(s), '--dry-run', '--json']);
  const doc = JSON.parse(res.stdout) as { planned: { plan: Plan | null; refusals: unknown } };
  if (!doc.planned.plan) throw new Error(`${op}: no plan: ${JSON.stringify(doc.planned.refusals)}`);
  return doc.planned.plan;
}
