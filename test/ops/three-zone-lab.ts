// The three-zone lab of the ops-three*.lab.test.ts files: one lab per file,
// so the files run on both test workers at once, each with its own lab.
import { afterAll, beforeAll, expect } from 'vitest';
import { labDown, labUp, tempLabDir } from '../helpers/cli.js';
import { type OpsLab, opsLab, settle } from './lab-helpers.js';

/** A 3-zone lab (load balancer programmed in 1 s), up before the file's tests and down after them. */
export function threeZoneLab(): OpsLab {
  const lab = opsLab(tempLabDir());
  beforeAll(async () => {
    await labUp(lab.dir, ['--lb-delay', '1']);
  });
  afterAll(async () => {
    await labDown(lab.dir);
  });
  return lab;
}

/** The cluster settles consistent with `replicas` replicas (see settle). */
export async function expectConsistent(lab: OpsLab, replicas: number): Promise<void> {
  expect(await settle(lab, replicas)).toEqual([]);
}
