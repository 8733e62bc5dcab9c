// The fault matrix on a three-replica lab: add 3 → 4, remove 4 → 3, replace in 3.
import { it } from 'vitest';
import { runMatrix } from './run-matrix.js';

it('add 3→4, remove 4→3 and replace in 3 keep every invariant under every fault', async () => {
  await runMatrix('three', ['add 3→4', 'remove 4→3', 'replace in 3']);
});
