// One vocabulary (issue 14): `kube-ha status` and the console, fed the same
// observation, say the same words for each member's state, its DB size and
// each cluster's quorum.
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/cli/status-text.js';
import { buildStatus } from '../../src/domain/status.js';
import type { ClusterStatus, EtcdObservation } from '../../src/domain/types.js';
import { crash, etcd, healthy } from '../helpers/observations.js';
import { app, renderSized, storeWith } from './harness.js';

afterEach(() => cleanup());

/** Four replicas, each member in a different state, DB sizes from bytes to megabytes. */
function mixed(): ClusterStatus {
  const obs = healthy(4);
  const sizes = [20_480, 2_306_867, 89_128_960, 700];
  const main: EtcdObservation = crash(
    {
      ...etcd('main', 4),
      statuses: etcd('main', 4).statuses.map((s, i) => ({
        ...s,
        dbSizeBytes: sizes[i],
        ...(i === 0 ? { errors: [`memberID:${0xa0} alarm:NOSPACE `] } : {}),
        ...(i === 1 ? { latencyMs: 1400, firstCall: false } : {}),
        ...(i === 3 ? { isLearner: true, raftAppliedIndex: 40 } : {}),
      })),
      members: etcd('main', 4).members!.map((m, i) => (i === 3 ? { ...m, isLearner: true } : m)),
    },
    2,
  );
  // events: the fourth member was added and never joined.
  const ev = etcd('events', 4);
  const events: EtcdObservation = {
    ...ev,
    members: ev.members!.map((m, i) => (i === 3 ? { ...m, name: '', clientURLs: [] } : m)),
    statuses: ev.statuses.slice(0, 3),
  };
  return buildStatus({ ...obs, etcd: { main, events } });
}

/** `kube-ha status`'s table, cut at its header's columns: per replica, each cluster's member words and the DB cell. */
function statusRows(text: string, s: ClusterStatus) {
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('ZONE '))!;
  const col = (name: string) => header.search(new RegExp(`(?<= )${name}(?= |$)`));
  const cut = (row: string, from: string, to: string) => row.slice(col(from), col(to)).trim();
  return s.replicas.map((r) => {
    const row = lines.find((l) => l.includes(` ${r.name} `))!;
    // A member cell is `<words> [leader] [learner] <member id>`: the words are what both must say.
    const words = (cell: string, id: string) =>
      cell.replace(new RegExp(` ${id}$`), '').replace(/ leader(?= |$)/, '');
    return {
      name: r.name,
      main: words(cut(row, 'MAIN', 'EVENTS'), r.etcd.main!.memberId),
      events: words(cut(row, 'EVENTS', 'TERM'), r.etcd.events!.memberId),
      // `1.1 MB 27%`: the size, then its share of the quota.
      db: cut(row, 'DB', 'LB').replace(/ \d+%$/, ''),
    };
  });
}

describe('status text and console: one vocabulary', () => {
  it('each member in the same words, the same DB sizes, the same quorum line', () => {
    const s = mixed();
    const text = renderStatusText(s);
    const ui = renderSized(app(storeWith(s)), 240, 90);
    const screen = ui.text();
    ui.unmount();

    // The states this observation is built to show, as both say them.
    const words = statusRows(text, s);
    expect(words.map((w) => w.main)).toEqual([
      'in alarm NOSPACE',
      'slow',
      'unreachable',
      'learner 40% caught up',
    ]);
    expect(words.map((w) => w.events)).toEqual(['healthy', 'healthy', 'healthy', 'not started']);
    for (const w of words) {
      for (const c of ['main', 'events'] as const) {
        expect(screen, `${w.name} ${c}`).toMatch(
          new RegExp(`${c.padEnd(6)}(?: ★)? ${w[c].replace(/[%]/g, '\\$&')}(?: |$)`, 'm'),
        );
      }
    }

    // DB sizes: the status table's DB column (main) and the cards' raft lines.
    expect(words.map((w) => w.db)).toEqual(['20 KB', '2.2 MB', '?', '700 B']);
    for (const w of words) if (w.db !== '?') expect(screen).toContain(` ${w.db} v3.4.23`);

    // The quorum line: `etcd main <summary> · leader X` and `main   <summary> · leader ★ X`.
    for (const c of ['main', 'events'] as const) {
      const m = new RegExp(`^etcd ${c} (.*) · leader (\\S+)$`, 'm').exec(text);
      expect(m, c).not.toBeNull();
      expect(screen).toContain(`${c.padEnd(7)}${m![1]} · leader ★ ${m![2]}`);
    }
    expect(text).toContain('etcd main 2/3 healthy · quorum 2 · tolerates no failure · +1 learner');
  });
});
