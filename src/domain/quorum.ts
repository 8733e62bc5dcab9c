// Quorum arithmetic for raft voting members. Learners never vote.

export function quorumOf(voters: number): number {
  return voters <= 0 ? 0 : Math.floor(voters / 2) + 1;
}

/** Further voter failures survivable now; -1 when quorum is already lost. */
export function faultTolerance(voters: number, healthyVoters: number): number {
  if (voters <= 0) return -1;
  const spare = healthyVoters - quorumOf(voters);
  return spare < 0 ? -1 : spare;
}

/**
 * Cluster API's KubeadmControlPlane rule for removing a voter: every other
 * unhealthy member counts as lost, and the voters left must still have a
 * healthy majority.
 */
export function canRemoveVoter(
  voters: number,
  healthyVoters: number,
  removedIsHealthy: boolean,
): { ok: boolean; votersLeft: number; healthyLeft: number; needed: number } {
  const votersLeft = voters - 1;
  const healthyLeft = healthyVoters - (removedIsHealthy ? 1 : 0);
  const needed = quorumOf(votersLeft);
  return { ok: votersLeft >= 1 && healthyLeft >= needed, votersLeft, healthyLeft, needed };
}

/** Whether losing the zone holding the most voters still leaves a quorum. */
export function survivesZoneLoss(votersPerZone: Map<string, number>): {
  ok: boolean;
  worstZone: string | null;
} {
  let total = 0;
  let worstZone: string | null = null;
  let worst = 0;
  for (const [zone, n] of votersPerZone) {
    total += n;
    if (n > worst) {
      worst = n;
      worstZone = zone;
    }
  }
  return { ok: total - worst >= quorumOf(total), worstZone };
}
