// gcloud's configuration files, parsed: `active_config` names the active
// configuration, `configurations/config_<name>` holds its properties as an INI
// file (Python's ConfigParser: `[section]`, `key = value` or `key: value`,
// `#`/`;` comments, option names case-insensitive). Pure: the reading is in
// src/cli/gcloud-config.ts.

export type IniSections = Record<string, Record<string, string>>;

export function parseIni(text: string): IniSections {
  const out: IniSections = {};
  let section: Record<string, string> | null = null;
  let lastKey: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw)) continue;
    // An indented line continues the previous value (ConfigParser's multi-line values).
    if (/^\s/.test(raw) && section && lastKey !== null) {
      section[lastKey] = `${section[lastKey]}\n${raw.trim()}`;
      continue;
    }
    const head = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (head) {
      section = out[head[1]!.trim()] ??= {};
      lastKey = null;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!kv || !section) continue; // ConfigParser would refuse the file; gcloud too: nothing to take
    lastKey = kv[1]!.trim().toLowerCase();
    section[lastKey] = kv[2]!.trim();
  }
  return out;
}

/** gcloud's configuration names ([a-z][-a-z0-9]*): anything else is no configuration (nor a path). */
export const CONFIG_NAME = /^[a-z][-a-z0-9]*$/;

/**
 * The active configuration's name: CLOUDSDK_ACTIVE_CONFIG_NAME, else the
 * `active_config` file, else `default` (gcloud's rules).
 */
export function activeConfigName(envName: string | undefined, activeConfigFile: string | null): string {
  const fromEnv = envName?.trim();
  if (fromEnv) return fromEnv;
  const fromFile = activeConfigFile?.trim();
  return fromFile || 'default';
}

/** The properties kube-ha takes from a configuration. */
export interface GcloudProperties {
  project: string | null;
  region: string | null;
  zone: string | null;
}

export function gcloudProperties(ini: IniSections): GcloudProperties {
  const get = (section: string, key: string) => {
    const v = ini[section]?.[key]?.trim();
    return v ? v : null;
  };
  return {
    project: get('core', 'project'),
    region: get('compute', 'region'),
    zone: get('compute', 'zone'),
  };
}
