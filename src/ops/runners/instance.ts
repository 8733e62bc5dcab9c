// The replica's VM: cloned from the source with its own etcd certificates,
// waited for until RUNNING; deleted.

import {
  clientCertRequest,
  KUBE_ENV_KEY,
  kubeEnvWithPeerCert,
  MASTER_CERTS_KEY,
  masterCertsWithApiserverEtcd,
  peerCertRequest,
  replicaCertNeed,
  serverCertRequest,
} from '../../domain/master-certs.js';
import { lastSegment } from '../../domain/names.js';
import {
  type BootDiskSpec,
  cloneInstanceResource,
  type InstanceInsertResource,
  type SourceInstance,
} from '../../domain/ops/clone.js';
import { issueWithCA } from '../../pki/certs.js';
import { compute, deleted, type RunnersFor, until } from './context.js';
import { nic0 } from './static-ip.js';

/**
 * A new replica gets its own etcd certificates, as kube-up's replicate flow
 * means to give it (master-helper.sh replicate-master-instance): a peer
 * certificate in kube-env (CN and DNS SAN the instance name, IP SAN
 * 127.0.0.1), signed by kube-env's ETCD_CA_*, and an apiserver↔etcd server
 * (`etcd-<name>`) and client pair in kube-master-certs, signed by
 * ETCD_APISERVER_CA_* (kube-up's own code leaves those empty). The source's,
 * copied with the rest of its metadata, name the source: the new member's
 * peers would refuse it. Returns what was done, for the call log, or null
 * when the source has no etcd certificates.
 */
async function giveReplicaCerts(resource: InstanceInsertResource, name: string): Promise<string | null> {
  const items = (resource.metadata as { items: { key: string; value: string }[] }).items;
  const env = items.find((i) => i.key === KUBE_ENV_KEY);
  const certs = items.find((i) => i.key === MASTER_CERTS_KEY);
  if (!env) throw new Error('the clone has no kube-env');
  const need = replicaCertNeed(env.value, certs?.value ?? null);
  if (need.kind === 'none') return null;
  if (need.kind === 'impossible') throw new Error(need.reason);
  const done: string[] = [];
  if (need.peerCA) {
    env.value = kubeEnvWithPeerCert(env.value, await issueWithCA(need.peerCA, peerCertRequest(name)));
    done.push(`peer certificate for ${name}, 127.0.0.1`);
  }
  if (need.apiserverCA && certs) {
    const [server, client] = await Promise.all([
      issueWithCA(need.apiserverCA, serverCertRequest(name)),
      issueWithCA(need.apiserverCA, clientCertRequest()),
    ]);
    certs.value = masterCertsWithApiserverEtcd(certs.value, server, client);
    done.push(`etcd server certificate etcd-${name}`);
  }
  return `own ${done.join(' and ')}`;
}

export const INSTANCE_RUNNERS: RunnersFor<'instance.insert' | 'instance.delete'> = {
  'instance.insert': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const inst = await c.getInstance(a.zone, a.name);
      let note: string | undefined;
      if (inst) {
        note = 'already exists';
      } else {
        const src = (await c.getInstance(a.source.zone, a.source.name)) as SourceInstance | null;
        if (!src) throw new Error(`source VM ${a.source.name} is gone`);
        const bootRef = src.disks?.find((d) => d.boot)?.source;
        const boot = bootRef ? await c.getDisk(a.source.zone, lastSegment(bootRef)) : null;
        if (!boot?.sourceImage) throw new Error(`cannot tell the image of ${a.source.name}'s boot disk`);
        const bootDisk: BootDiskSpec = {
          sourceImage: boot.sourceImage,
          sizeGb: boot.sizeGb ? String(boot.sizeGb) : null,
          type: boot.type ?? null,
        };
        let networkIP: string | null = null;
        if (a.internalAddress) {
          networkIP = ctx.facts.internalIP ?? (await c.getAddress(a.internalAddress))?.address ?? null;
          if (!networkIP) throw new Error(`internal address ${a.internalAddress} is not reserved`);
        }
        const resource = cloneInstanceResource(src, {
          project: c.project,
          zone: a.zone,
          name: a.name,
          initialCluster: a.initialCluster,
          bootDisk,
          dataDisk: `${a.name}-pd`,
          networkIP,
        });
        const ownCert = await giveReplicaCerts(resource, a.name);
        await c.insertInstance(
          a.zone,
          resource,
          `(clone of ${a.source.name}, INITIAL_ETCD_CLUSTER=${a.initialCluster.join(',')}${ownCert ? `, ${ownCert}` : ''})`,
        );
      }
      const running = await until<NonNullable<typeof inst>>(
        ctx,
        ctx.timing.runningTimeoutMs,
        `VM ${a.name} RUNNING`,
        async () => {
          const i = await c.getInstance(a.zone, a.name);
          if (!i) return { reason: 'not found' };
          return i.status === 'RUNNING' ? { value: i } : { reason: `status ${i.status}` };
        },
      );
      const ip = nic0(running)?.networkIP;
      if (ip) {
        ctx.facts.instanceIP = ip;
        // Its members' peer URLs name it: this is where they are asked for their status.
        for (const e of Object.values(ctx.etcd)) e.learnHost(a.name, ip);
      }
      return { note: [note, `RUNNING at ${ip ?? '?'}`].filter(Boolean).join('; ') };
    },
    async undo(step, ctx) {
      return deleted(await compute(ctx).deleteInstance(step.args.zone, step.args.name));
    },
    async absent(step, ctx) {
      return (await compute(ctx).getInstance(step.args.zone, step.args.name)) === null;
    },
  },

  'instance.delete': {
    async run(step, ctx) {
      return deleted(await compute(ctx).deleteInstance(step.args.zone, step.args.name));
    },
  },
};
