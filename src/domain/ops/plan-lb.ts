// The load balancer's steps: created when a cluster grows from one replica to
// two, torn down when it shrinks back to one (kube-up's create-loadbalancer
// and its reverse in kube-down).

import type { PlanTarget } from './plan-frame.js';
import { healthCheckNameOf, staticAddressNameOf } from './plan-names.js';
import { type Located, type PlanStep, step } from './step.js';

/**
 * The load balancer kube-up's create-loadbalancer builds: a target pool with
 * no health check (a legacy health check can only speak plain HTTP, and
 * kube-apiserver serves HTTPS alone on 443: every member would stay
 * UNHEALTHY), so traffic goes to every RUNNING member; readiness is an HTTPS
 * request to the static IP, as kube-up's `curl -k` loop.
 */
export function lbCreateSteps(t: PlanTarget, existing: Located): PlanStep[] {
  const { region, master, g } = t;
  const ip = staticAddressNameOf(master);
  return [
    step(
      'lb.target-pool',
      'lb.create-target-pool',
      { name: master, region, healthCheck: null, instances: [existing] },
      {
        title: `Create target pool ${master} holding ${existing.name}`,
        changes: `new target pool ${master} in ${region} with ${existing.name}, no health check (as kube-up: traffic goes to every RUNNING member)`,
        undo: `delete target pool ${master}`,
        manual: `gcloud compute target-pools create ${master} --region ${region} ${g.flags} && ${g.poolInstances('add', master, region, existing)}`,
        manualUndo: g.delete('target-pools', master, { region }),
      },
    ),
    step(
      'lb.detach-ip',
      'lb.detach-static-ip',
      { replica: existing, address: ip, region },
      {
        title: `Move ${existing.name} to an ephemeral IP`,
        changes: `${existing.name} gives up the static IP ${ip} (the apiserver IP is unreachable until the forwarding rule holds it)`,
        undo: `give ${ip} back to ${existing.name}`,
        manual: g.accessConfig(existing, null),
        manualUndo: g.accessConfig(existing, ip),
      },
    ),
    step(
      'lb.forwarding-rule',
      'lb.create-forwarding-rule',
      { name: master, region, address: ip, pool: master },
      {
        title: `Create forwarding rule ${master} holding ${ip}`,
        changes: `new forwarding rule ${master} (TCP 443) with the static IP ${ip}, to target pool ${master}`,
        undo: `delete forwarding rule ${master}`,
        manual: `gcloud compute forwarding-rules create ${master} --region ${region} --address ${ip} --ports 443 --target-pool ${master} ${g.flags}`,
        manualUndo: g.delete('forwarding-rules', master, { region }),
      },
    ),
    step(
      'lb.wait-ready',
      'lb.wait-ready',
      { forwardingRule: master, region, pool: master },
      {
        title: `Wait until the load balancer answers on ${ip}`,
        changes:
          'nothing (waits until an HTTPS request to the static IP gets any HTTP answer, certificate not verified, as kube-up)',
        manual: `until curl -k -m1 -s -o /dev/null https://<address of ${ip}>; do sleep 1; done`,
      },
    ),
  ];
}

/** Back to one replica holding the static IP itself: none of these can be undone by a rollback. */
export function lbTeardownSteps(t: PlanTarget, survivor: Located): PlanStep[] {
  const { region, master, g } = t;
  const ip = staticAddressNameOf(master);
  const hc = healthCheckNameOf(master);
  const oneWay = { reversible: false };
  return [
    step(
      'lb.delete-forwarding-rule',
      'lb.delete-forwarding-rule',
      { name: master, region },
      {
        title: `Delete forwarding rule ${master}`,
        changes: `the static IP ${ip} is released by the load balancer (unreachable until ${survivor.name} holds it)`,
        manual: g.delete('forwarding-rules', master, { region }),
        ...oneWay,
      },
    ),
    step(
      'lb.attach-ip',
      'lb.attach-static-ip',
      { replica: survivor, address: ip, region },
      {
        title: `Give the static IP ${ip} to ${survivor.name}`,
        changes: `${survivor.name} swaps its ephemeral external IP for ${ip}`,
        manual: g.accessConfig(survivor, ip),
        ...oneWay,
      },
    ),
    step(
      'lb.delete-target-pool',
      'lb.delete-target-pool',
      { name: master, region },
      {
        title: `Delete target pool ${master}`,
        changes: `target pool ${master} is deleted`,
        manual: g.delete('target-pools', master, { region }),
        ...oneWay,
      },
    ),
    step(
      'lb.delete-health-check',
      'lb.delete-health-check',
      { name: hc },
      {
        title: `Delete health check ${hc} if the target pool had one`,
        changes: `health check ${hc} is deleted if target pool ${master} used it (earlier kube-ha versions created one; kube-up's pool has none)`,
        manual: `${g.delete('http-health-checks', hc, null)}  # only if target pool ${master} listed it`,
        ...oneWay,
      },
    ),
  ];
}
