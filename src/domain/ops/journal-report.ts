// What an operation has done and what it leaves, in words: printed when a
// journal write fails (the operation stops where it is) and when an operator
// discards a journal (they accept what it left). Pure.
import { describeLeftovers, type Journal, leftovers, started } from './journal.js';

/** One line per step that may have changed something, in plan order. */
export function stepsTaken(j: Journal): string[] {
  const out: string[] = [];
  j.plan.steps.forEach((s, i) => {
    const rec = j.steps[i];
    if (!rec) return;
    if (rec.status === 'done') out.push(`done: ${s.title}`);
    else if (rec.status === 'undone') out.push(`done, then undone: ${s.title}`);
    else if (started(rec)) out.push(`${rec.status} (may have changed something): ${s.title}`);
  });
  return out;
}

/** The lines an operator reads before accepting an operation as it stands. */
export function describeProgress(j: Journal): string[] {
  const taken = stepsTaken(j);
  return [
    ...(taken.length ? taken : ['no step changed anything']),
    'left:',
    ...describeLeftovers(leftovers(j)).map((l) => `  ${l}`),
  ];
}
