// The hand-finish commands of plan steps, each written once: a step's
// `manual` and another step's `manualUndo` (create a pool / delete it, add an
// instance / remove it) come from the same words, so they cannot drift apart.
import type { EtcdClusterName } from '../types.js';
import type { Located } from './step.js';

/** etcdctl against a member the person picks: a healthy one, or the leader. */
export function etcdctlVia(cluster: EtcdClusterName, which: 'healthy' | 'leader' = 'healthy'): string {
  return `etcdctl --endpoints <${which} ${cluster} member>`;
}

/** Where a Compute resource lives: `--zone z`, `--region r`, or global. */
export type Scope = { zone: string } | { region: string } | null;

function scopeFlag(s: Scope): string {
  if (!s) return '';
  return 'zone' in s ? ` --zone ${s.zone}` : ` --region ${s.region}`;
}

/** gcloud commands for one project. */
export interface Gcloud {
  /** `--project p`, for the one-off commands written in place. */
  flags: string;
  delete(resource: string, name: string, scope: Scope): string;
  /** target-pools add-instances / remove-instances. */
  poolInstances(verb: 'add' | 'remove', pool: string, region: string, vm: Located): string;
  /** Swaps a VM's external access config: to the reserved address `ip`, or to an ephemeral one (null). */
  accessConfig(vm: Located, ip: string | null): string;
  /** instances reset / start. */
  instance(verb: 'reset' | 'start', vm: Located): string;
}

export function gcloudFor(project: string): Gcloud {
  const flags = `--project ${project}`;
  const nat = (vm: Located) => `${vm.name} --zone ${vm.zone} --access-config-name "External NAT"`;
  return {
    flags,
    delete: (resource, name, scope) =>
      `gcloud compute ${resource} delete ${name}${scopeFlag(scope)} --quiet ${flags}`,
    poolInstances: (verb, pool, region, vm) =>
      `gcloud compute target-pools ${verb}-instances ${pool} --region ${region} --instances ${vm.name} --instances-zone ${vm.zone} ${flags}`,
    accessConfig: (vm, ip) =>
      `gcloud compute instances delete-access-config ${nat(vm)} ${flags} && gcloud compute instances add-access-config ${nat(vm)}${ip ? ` --address <address of ${ip}>` : ''} ${flags}`,
    instance: (verb, vm) => `gcloud compute instances ${verb} ${vm.name} --zone ${vm.zone} ${flags}`,
  };
}
