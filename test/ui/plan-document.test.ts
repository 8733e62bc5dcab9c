// One plan document (issue 14): `kube-ha remove --dry-run` and the console's
// plan screen draw the same document, so every line the console shows is one
// the CLI prints, and the CLI prints nothing else but each step's details.
import { describe, expect, it } from 'vitest';
import { planOperation } from '../../src/domain/ops/operation.js';
import { renderPlanned } from '../../src/domain/ops/render.js';
import { planLines } from '../../src/ui/ops/lines.js';
import { createTheme } from '../../src/ui/theme.js';
import { crashed, ctx, status } from '../ops/fixtures.js';

const theme = createTheme({ color: false, ascii: false });

/** Marks differ by surface (the CLI has an ASCII form); the words must not. */
const words = (line: string) =>
  line
    .replace(/^\s*(?:[✓✗⚠✔✖▲!]|ok|NO)\s+/, '')
    .replace(/\s+/g, ' ')
    .trim();

function both(p: ReturnType<typeof planOperation>) {
  const cli = renderPlanned(p).split('\n').map(words).filter(Boolean);
  const screen = planLines(p, theme, 400, 200)
    .map((l) => words(l.map((s) => s.text).join('')))
    .filter(Boolean);
  return { cli, screen };
}

describe('plan document: CLI text and console say the same', () => {
  it('a remove: checks, quorum before → after, steps and the point of no return', () => {
    const p = planOperation(
      status(3),
      { kind: 'remove', replica: 'kubernetes-master-q2p', zone: null, keepDisk: false },
      ctx(),
    );
    expect(p.plan).not.toBeNull();
    const { cli, screen } = both(p);
    // Each step's changes and undo are the CLI's details; everything else is shared.
    expect(cli.filter((l) => !/^(changes|undo):/.test(l))).toEqual(screen);
    expect(screen).toContain('Preflight checks:');
    expect(screen).toContain('Quorum before → after:');
    expect(
      screen.some((l) => l.endsWith('[point of no return: a failure from here on finishes the removal]')),
    ).toBe(true);
  });

  it('a refused request: the same refusals', () => {
    const p = planOperation(
      crashed(3, 1, 2),
      { kind: 'remove', replica: 'kubernetes-master', zone: null, keepDisk: false },
      ctx(),
    );
    expect(p.ok).toBe(false);
    const { cli, screen } = both(p);
    expect(cli.filter((l) => !/^(changes|undo):/.test(l))).toEqual(screen);
    expect(screen).toContain('Refused, nothing was changed:');
  });
});
