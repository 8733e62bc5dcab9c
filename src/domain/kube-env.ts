// kube-env, the metadata item kube-up writes on every control-plane VM: a YAML
// map of KEY: 'value' lines (single-quoted, '' escapes a quote). A replica
// learns its etcd cluster only from INITIAL_ETCD_CLUSTER (comma list of
// replica names) and INITIAL_ETCD_CLUSTER_STATE (new | existing).

export type KubeEnv = Record<string, string>;

export function parseKubeEnv(text: string): KubeEnv {
  const env: KubeEnv = {};
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const m = /^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!;
    let value = m[2]!;
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1).replaceAll("''", "'");
    } else if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replaceAll('\\"', '"');
    }
    env[key] = value;
  }
  return env;
}

export function renderKubeEnv(env: KubeEnv): string {
  return `${Object.entries(env)
    .map(([k, v]) => `${k}: '${v.replaceAll("'", "''")}'`)
    .join('\n')}\n`;
}

export interface InitialEtcdCluster {
  members: string[];
  state: 'new' | 'existing';
}

export function initialEtcdCluster(env: KubeEnv): InitialEtcdCluster {
  const members = (env.INITIAL_ETCD_CLUSTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const state = env.INITIAL_ETCD_CLUSTER_STATE === 'existing' ? 'existing' : 'new';
  return { members, state };
}
