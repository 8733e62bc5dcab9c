// Failpoints for the fault matrix (`npm run faults`), as etcd's gofail: the
// process kills itself with SIGKILL right before or right after a named step,
// so that "kube-ha died after step N" is a deterministic cell, not a race
// between a test reading progress and the next step starting. Off unless
// KUBE_HA_FAILPOINTS is set, e.g. `kill-after=add.promote.main`.
export type FailpointWhen = 'before' | 'after';

export interface Failpoint {
  when: FailpointWhen;
  stepId: string;
  /** `forward` (default) or `undo`: which run of the step. */
  mode: 'forward' | 'undo';
}

/** `kill-after=ID`, `kill-before=ID`, `kill-after-undo=ID`; comma-separated. Anything else is an error. */
export function parseFailpoints(spec: string | undefined): Failpoint[] {
  if (!spec) return [];
  return spec.split(',').map((item) => {
    const m = /^kill-(before|after)(-undo)?=([a-z0-9.-]+)$/.exec(item.trim());
    if (!m) throw new Error(`KUBE_HA_FAILPOINTS: '${item}' is not kill-before|kill-after[-undo]=STEP`);
    return { when: m[1] as FailpointWhen, stepId: m[3]!, mode: m[2] ? 'undo' : 'forward' };
  });
}

const armed = parseFailpoints(process.env.KUBE_HA_FAILPOINTS);

/** Dies here if a failpoint names this moment. The journal was written before: that is the point. */
export function failpoint(when: FailpointWhen, stepId: string, mode: 'forward' | 'undo'): void {
  if (armed.some((f) => f.when === when && f.stepId === stepId && f.mode === mode)) {
    process.stderr.write(`kube-ha: failpoint kill-${when}${mode === 'undo' ? '-undo' : ''}=${stepId}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
