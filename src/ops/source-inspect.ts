// Preflight's look at the clone source's VM through Compute: its etcd
// certificates' CA keys (a clone gets its own certificates, signed by them)
// and whether its boot image still exists. Read-only; the verdict is pure
// (domain/ops/clone.ts, preflight cloneSourceUsable).

import { lastSegment } from '../domain/names.js';
import {
  goneImage,
  type SourceInspection,
  type SourceInstance,
  sourceCertNeed,
} from '../domain/ops/clone.js';
import { cloneSource } from '../domain/ops/plan.js';
import type { OpRequest } from '../domain/ops/request.js';
import type { ClusterStatus } from '../domain/types.js';
import type { ComputeOps } from './compute-ops.js';

/** `projects/P/global/images/NAME` (or a full URL) -> its project and name; null for other forms. */
export function imageRef(url: string): { project: string; image: string } | null {
  const m = /projects\/([^/]+)\/global\/images\/([^/]+)$/.exec(url);
  return m && m[2] !== 'family' ? { project: m[1]!, image: m[2]! } : null;
}

export async function inspectCloneSource(
  compute: ComputeOps,
  status: ClusterStatus,
  request: OpRequest,
): Promise<SourceInspection | null> {
  // Only an add (or the add within a replace) copies a VM.
  if (request.kind !== 'add' && request.kind !== 'replace') return null;
  const src = cloneSource(status, request.kind === 'replace' ? request.replica : null);
  if (!src?.zone) return null;
  const base = {
    source: src.name,
    certs: { kind: 'none' as const },
    image: { kind: 'exists' as const, image: '?' },
  };
  try {
    const inst = (await compute.getInstance(src.zone, src.name)) as SourceInstance | null;
    if (!inst) return { ...base, error: 'its VM is gone' };
    const bootRef = inst.disks?.find((d) => d.boot)?.source;
    const boot = bootRef ? await compute.getDisk(src.zone, lastSegment(bootRef)) : null;
    const image = boot?.sourceImage ?? null;
    if (!image)
      return { ...base, certs: sourceCertNeed(inst), error: 'the image of its boot disk is not known' };
    const ref = imageRef(image);
    const exists =
      !ref ||
      (await compute.get(`images.get project=${ref.project} image=${ref.image}`, () =>
        compute.c.images.get({ project: ref.project, image: ref.image }),
      )) !== null;
    return {
      source: src.name,
      error: null,
      certs: sourceCertNeed(inst),
      image: exists ? { kind: 'exists', image } : goneImage(image),
    };
  } catch (err) {
    return { ...base, error: `not inspected: ${err instanceof Error ? err.message : String(err)}` };
  }
}
