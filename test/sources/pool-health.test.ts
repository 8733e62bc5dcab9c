// targetPools.getHealth for a pool with a health check, through the real
// Compute client against the lab's Compute service: which members GCE counts
// HEALTHY, into the model and the status table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/cli/status-text.js';
import { buildStatus } from '../../src/domain/status.js';
import { waitForOperation } from '../../src/gce/operations.js';
import { askPoolHealth } from '../../src/sources/pool-health.js';
import { healthy, NAMES } from '../helpers/observations.js';
import { FAST, instanceBody, type Lab, PROJECT, startLab } from '../lab/compute/harness.js';

const REGION = 'us-central1';
const P = `projects/${PROJECT}`;
const ZONE = 'us-central1-b';
const url = (name: string) => `${P}/zones/${ZONE}/instances/${name}`;
let lab: Lab;
const done = (r: [unknown, ...unknown[]]) =>
  waitForOperation(lab.clients, r[0] as { latestResponse?: unknown }, { deadlineMs: 10_000 });

describe('targetPools.getHealth for a pool with a health check', () => {
  beforeAll(async () => {
    // The lab's health prober stands in: NAMES[1] fails its check, the others pass.
    lab = await startLab({
      timing: FAST,
      hooks: { checkHealth: async ({ instance }) => instance.name !== NAMES[1] },
    });
    const c = lab.clients;
    for (const n of NAMES)
      await done(
        await c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instanceBody(ZONE, n) }),
      );
    await done(
      await c.httpHealthChecks.insert({
        project: PROJECT,
        httpHealthCheckResource: { name: 'hc', port: 8080, requestPath: '/healthz' },
      }),
    );
    await done(
      await c.targetPools.insert({
        project: PROJECT,
        region: REGION,
        targetPoolResource: {
          name: 'kubernetes-master',
          instances: NAMES.map(url),
          healthChecks: [`${P}/global/httpHealthChecks/hc`],
        },
      }),
    );
    await done(
      await c.forwardingRules.insert({
        project: PROJECT,
        region: REGION,
        forwardingRuleResource: {
          name: 'kubernetes-master',
          IPProtocol: 'TCP',
          portRange: '443',
          target: `${P}/regions/${REGION}/targetPools/kubernetes-master`,
        },
      }),
    );
    // Past the lab's programming delay, after which GCE reports the check's verdict.
    await new Promise((r) => setTimeout(r, FAST.lbReadyDelayMs * 3));
  }, 30_000);

  afterAll(async () => {
    await lab?.close();
  });

  it('each member as GCE reports it; into the replicas and the status table', async () => {
    const pool = {
      name: 'kubernetes-master',
      instances: [...NAMES],
      instanceUrls: NAMES.map((n) => `https://compute.googleapis.com/compute/v1/${url(n)}`),
      healthChecks: [`${P}/global/httpHealthChecks/hc`],
    };
    const health = await askPoolHealth(lab.clients, { project: PROJECT, region: REGION }, pool);
    const [a, b, c] = NAMES as [string, string, string];
    expect(health).toEqual({ [a]: 'HEALTHY', [b]: 'UNHEALTHY', [c]: 'HEALTHY' });
    // A member that is not in the pool is said, not thrown.
    const stranger = await askPoolHealth(
      lab.clients,
      { project: PROJECT, region: REGION },
      {
        ...pool,
        instanceUrls: [url('kubernetes-master-zzz')],
      },
    );
    expect(stranger['kubernetes-master-zzz']).toMatch(/^not asked: /);

    const s = buildStatus({ ...healthy(), poolHealth: health });
    expect(s.replicas.map((r) => r.poolHealth)).toEqual(['HEALTHY', 'UNHEALTHY', 'HEALTHY']);
    expect(renderStatusText(s)).toMatch(new RegExp(`${NAMES[1]} .* in pool, UNHEALTHY`));
  });
});
