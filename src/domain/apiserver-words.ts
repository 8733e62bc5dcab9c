// kube-apiserver's readiness in words, shared by the screen, the timeline and
// the incident log so that all three read the same. Pure.
import type { ApiserverHealth } from './types.js';

/** `ready`, `not ready: etcd failed`, `not answering: connection refused`; `not probed` when absent. */
export function apiserverWords(a: ApiserverHealth | null | undefined): string {
  if (a === undefined) return 'not probed';
  if (a === null) return 'no address to probe';
  if (a.state === 'ready') return 'ready';
  if (a.state === 'not-ready') {
    const why = a.failedChecks.length ? a.failedChecks.map((c) => `${c} failed`).join(', ') : a.error;
    return `not ready${why ? `: ${why}` : ''}`;
  }
  return `not answering${a.error ? `: ${a.error}` : ''}`;
}

/** The same without the reason, for tight spots. */
export function apiserverWord(a: ApiserverHealth | null | undefined): string {
  if (a === undefined) return 'not probed';
  if (a === null) return 'no address';
  return a.state === 'ready' ? 'ready' : a.state === 'not-ready' ? 'not ready' : 'not answering';
}
