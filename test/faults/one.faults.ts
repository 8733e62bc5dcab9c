// The fault matrix on a one-replica lab: add 1 → 2 and remove 2 → 1.
import { it } from 'vitest';
import { runMatrix } from './run-matrix.js';

it('add 1→2 and remove 2→1 keep every invariant under every fault', async () => {
  await runMatrix('one', ['add 1→2', 'remove 2→1']);
});
