// `kube-ha operation status | discard | resume | rollback` on hand-written
// journals in a private state dir, against a lab directory whose context
// points at nothing (nothing here needs a running cluster, except the fresh
// preflight, which must then refuse).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/cli/target-flags.js';
import { updateStep } from '../../src/domain/ops/journal.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { runCli } from '../helpers/cli.js';
import { journalFor, runTo } from '../ops/journal-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'kube-ha-opcli-'));
const labDir = join(root, 'lab');
const env = { XDG_STATE_HOME: join(root, 'state') };
mkdirSync(labDir);
// A lab that is not running: nothing answers at these addresses.
writeFileSync(
  join(labDir, 'context.json'),
  JSON.stringify({
    project: 'kube-ha-lab',
    region: 'us-central1',
    masterName: 'kubernetes-master',
    computeEndpoint: 'http://127.0.0.1:9',
    controlURL: 'http://127.0.0.1:9',
    supervisorPid: 0,
    etcd: {
      main: { endpoints: ['http://127.0.0.1:9'], caFile: '', certFile: '', keyFile: '' },
      events: { endpoints: ['http://127.0.0.1:9'] },
    },
    createdAt: new Date(0).toISOString(),
  }),
);
const store = JournalStore.forTarget(resolveTarget({ 'lab-dir': labDir }, env));

const op = (args: string[]) =>
  runCli(['operation', ...args, '--lab-dir', labDir], { env, timeoutMs: 60_000 });

/** An add killed after its VM was created. */
function writeUnfinished(id = 'op-killed'): string {
  const j = runTo(journalFor(undefined, undefined, id), 'add.instance', 'running');
  store.write(updateStep(j, 'add.instance', { status: 'done' }));
  return readFileSync(store.path(id), 'utf8');
}

beforeEach(() => {
  rmSync(store.dir, { recursive: true, force: true });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('kube-ha operation status', () => {
  it("lists an unreadable journal by path with the reason, and exits 5 (a format-1 file missing its plan's steps used to crash it)", async () => {
    const broken = JSON.parse(writeUnfinished('op-nosteps'));
    delete broken.plan.steps;
    writeFileSync(store.path('op-nosteps'), JSON.stringify(broken));
    writeFileSync(store.path('op-cut'), '{"format":1,');
    const res = await op(['status']);
    expect(res.code, res.stderr).toBe(5);
    expect(res.stderr).not.toMatch(/Cannot read properties/);
    expect(res.stdout).toContain(
      `Unreadable journal ${store.path('op-nosteps')}\n  plan.steps: missing, expected a list`,
    );
    expect(res.stdout).toContain(`Unreadable journal ${store.path('op-cut')}\n  not JSON`);
    expect(res.stdout).toContain('kube-ha operation discard op-cut --confirm op-cut');
    expect(res.stdout).toContain('no unfinished operation');

    const json = await op(['status', '--json']);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({
      unfinished: null,
      unreadable: [
        { path: store.path('op-cut'), operationId: 'op-cut', reason: expect.stringMatching(/^not JSON/) },
        {
          path: store.path('op-nosteps'),
          operationId: 'op-nosteps',
          reason: 'plan.steps: missing, expected a list',
        },
      ],
    });
  });

  it('exits 5 with an unfinished operation, 0 with nothing open', async () => {
    writeUnfinished();
    const open = await op(['status']);
    expect(open.code).toBe(5);
    expect(open.stdout).toMatch(/Operation op-killed: add kubernetes-master-\w+ in us-central1-f/);
    expect(open.stdout).toContain('--confirm op-killed');
    rmSync(store.dir, { recursive: true, force: true });
    const none = await op(['status']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('no unfinished operation\n');
  });
});

describe('kube-ha operation discard', () => {
  it('changes nothing without the id confirmed (exit 2): no flag, --yes alone, a wrong id', async () => {
    const before = writeUnfinished();
    for (const extra of [[], ['--yes'], ['--confirm', 'op-other']]) {
      const res = await op(['discard', 'op-killed', ...extra]);
      expect(res.code, `${extra.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(
        extra[0] === '--yes'
          ? /discard needs the operation id: --confirm op-killed; nothing was changed/
          : /nothing was changed/,
      );
      expect(readFileSync(store.path('op-killed'), 'utf8')).toBe(before);
    }
  });

  it('sets a readable unfinished journal aside, saying what it did and what it leaves', async () => {
    const before = writeUnfinished();
    const res = await op(['discard', 'op-killed', '--confirm', 'op-killed']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Discarding it accepts the cluster as this operation left it:');
    expect(res.stdout).toMatch(/ {2}done: Create disk kubernetes-master-\w+-pd/);
    expect(res.stdout).toMatch(/ {2}done: Create VM kubernetes-master-\w+/);
    expect(res.stdout).toMatch(/undo: .*\n {4}by hand: gcloud compute instances delete/);
    const aside = readdirSync(store.dir);
    expect(aside).toEqual([expect.stringMatching(/^op-killed\.json\.discarded-\d{4}-\d\d-\d\dT[\d-]+Z$/)]);
    expect(readFileSync(join(store.dir, aside[0]!), 'utf8')).toBe(before);
    expect(res.stdout).toContain(
      `discarded: ${store.path('op-killed')} is now ${join(store.dir, aside[0]!)}`,
    );
    expect((await op(['status'])).code).toBe(0);
  });

  it('sets an unreadable journal aside, showing what can still be made out of it', async () => {
    const broken = JSON.parse(writeUnfinished('op-bad'));
    delete broken.holder;
    writeFileSync(store.path('op-bad'), JSON.stringify(broken));
    const res = await op(['discard', 'op-bad', '--confirm', 'op-bad', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.discarded).toMatchObject({
      operationId: 'op-bad',
      path: store.path('op-bad'),
      movedTo: expect.stringMatching(/op-bad\.json\.discarded-/),
      unreadable: 'holder: missing, expected an object',
    });
    expect(doc.discarded.accepted).toContain('  add.instance: done');
    expect(existsSync(store.path('op-bad'))).toBe(false);
  });

  it('bad input changes nothing (exit 2): an unknown id, a path, a finished operation', async () => {
    const before = writeUnfinished();
    const unknown = await op(['discard', 'op-nope', '--confirm', 'op-nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no unfinished or unreadable journal op-nope .*\(there: op-killed\)/);
    const path = await op(['discard', '../op-killed', '--confirm', '../op-killed']);
    expect(path.code).toBe(2);
    expect(path.stderr).toContain("'../op-killed' is not an operation id");
    store.write({ ...journalFor(undefined, undefined, 'op-done'), state: 'done' });
    const done = await op(['discard', 'op-done', '--confirm', 'op-done']);
    expect(done.code).toBe(2);
    expect(done.stderr).toContain('operation op-done is done: there is nothing to discard');
    expect(readFileSync(store.path('op-killed'), 'utf8')).toBe(before);
  });
});

describe('kube-ha operation resume | rollback', () => {
  it('without confirmation changes nothing (exit 2), before asking the cluster anything; --dry-run needs none', async () => {
    const before = writeUnfinished();
    for (const [sub, extra] of [
      ['resume', []],
      ['rollback', []],
      ['rollback', ['--confirm', 'op-other']],
    ] as const) {
      const res = await op([sub, ...extra]);
      expect(res.code, `${sub} ${extra.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(
        extra.length
          ? /'op-other' is not op-killed: not confirmed; nothing was changed/
          : /type op-killed to confirm \(scripts: --confirm op-killed or --yes\); nothing was changed/,
      );
      expect(readFileSync(store.path('op-killed'), 'utf8')).toBe(before);
    }
    // --dry-run needs no confirmation: it prints what would run and changes nothing.
    const dry = await op(['rollback', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/undo +Add \S+ to etcd main as a learner[\s\S]*undo +Create VM/);
    expect(dry.stdout).toContain('nothing was changed (--dry-run)');
    expect(readFileSync(store.path('op-killed'), 'utf8')).toBe(before);
  });

  it('confirmed, it first checks the cluster: unreachable, it is refused (exit 3) and nothing changes', async () => {
    const before = writeUnfinished();
    const res = await op(['resume', '--confirm', 'op-killed']);
    expect(res.code, res.stderr).toBe(3);
    expect(res.stdout).toContain('Checks against the cluster now:');
    expect(res.stdout).toMatch(/✗ compute-reachable/);
    expect(res.stdout).toContain('refused, nothing was changed');
    expect(readFileSync(store.path('op-killed'), 'utf8')).toBe(before);
  });

  it('an unreadable journal cannot be resumed: refused (exit 3), it can only be discarded', async () => {
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.path('op-cut'), '{');
    const res = await op(['resume', '--yes']);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain(`Unreadable journal ${store.path('op-cut')}`);
    expect(res.stderr).toContain('an unreadable journal can only be discarded');
  });
});
