// Place for the leader-leases panel (kube-controller-manager, scheduler,
// autoscaler), which its own work fills in from the store's `leases` slot.
// Until then it takes no room: the layout gives it none.
export function LeasesPanel(_props: { leases: unknown; width: number; maxRows: number }) {
  return null;
}
