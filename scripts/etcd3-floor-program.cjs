// The etcdctl pair's work through etcd3, and nothing else: every member's
// Status over TLS, then the member list of the first (issue 12's floor, run by
// `npm run bench table` from a bundle scripts/etcd3-floor.mjs makes). What
// kube-ha status adds (the events cluster, leases, metrics, apiserver probes,
// names learned from certificates) is left out: the names are given.
// Usage: node <bundle> ENDPOINTS NAMES CA CERT KEY (lists comma-separated).
const { readFileSync } = require('node:fs');
const { Etcd3 } = require('etcd3');

const [endpoints, names, ca, cert, key] = process.argv.slice(2);
if (!key) {
  process.stderr.write('usage: ENDPOINTS NAMES CA CERT KEY\n');
  process.exit(2);
}
const credentials = {
  rootCertificate: readFileSync(ca),
  certChain: readFileSync(cert),
  privateKey: readFileSync(key),
};
const hosts = endpoints.split(',');
const serverNames = names.split(',');
const clients = hosts.map(
  (h, i) =>
    new Etcd3({
      hosts: h,
      credentials,
      defaultCallOptions: () => ({ deadline: Date.now() + 5000 }),
      grpcOptions: { 'grpc.ssl_target_name_override': serverNames[i] },
    }),
);
Promise.all(clients.map((c) => c.maintenance.status()))
  .then(async (statuses) => {
    const list = await clients[0].cluster.memberList({});
    process.stdout.write(`${statuses.length} statuses, ${list.members.length} members\n`);
    process.exit(0);
  })
  .catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
