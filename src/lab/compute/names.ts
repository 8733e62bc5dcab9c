// Resource names, the lab's zones and regions, and resource URLs: building
// selfLinks and reading the full or partial URLs clients send in references.
import { ApiError, invalidField, notFound } from './errors.js';

/** GCE's name rule (RFC 1035 label, lower case), as quoted in its error messages. */
export const NAME_REGEX = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';
const NAME_RE = new RegExp(`^${NAME_REGEX}$`);

export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Names in a request body (`resource.name`, `resource.disks[0].initializeParams.diskName`...). */
export function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw invalidField(field, name, `Must be a match of regex '(?:${NAME_REGEX})'`);
  }
  return name;
}

/** Names in a URL path: GCE also accepts a numeric id there. */
export function checkPathName(name: string): void {
  if (!NAME_RE.test(name) && !/^[1-9][0-9]{0,19}$/.test(name)) {
    throw new ApiError(
      400,
      'invalidParameter',
      `Invalid value '${name}'. Values must match the following regular expression: '${NAME_REGEX}|[1-9][0-9]{0,19}'`,
    );
  }
}

export const DEFAULT_ZONES: readonly string[] = [
  'us-central1-a',
  'us-central1-b',
  'us-central1-c',
  'us-central1-f',
  'us-east1-b',
  'us-east1-c',
  'us-east1-d',
  'europe-west1-b',
  'europe-west1-c',
  'europe-west1-d',
  'asia-east1-a',
  'asia-east1-b',
  'asia-east1-c',
];

/** The region is the zone minus its last `-suffix`. */
export function regionOfZone(zone: string): string {
  const i = zone.lastIndexOf('-');
  return i > 0 ? zone.slice(0, i) : zone;
}

export class Locations {
  readonly zones: readonly string[];
  readonly regions: readonly string[];

  constructor(extraZones: readonly string[] = []) {
    const zones = [...DEFAULT_ZONES];
    for (const z of extraZones) {
      if (!/^[a-z]+-[a-z]+[0-9]+-[a-z]$/.test(z)) throw new Error(`not a zone name: ${z}`);
      if (!zones.includes(z)) zones.push(z);
    }
    this.zones = zones.sort();
    this.regions = [...new Set(this.zones.map(regionOfZone))].sort();
  }

  hasZone(zone: string): boolean {
    return this.zones.includes(zone);
  }

  hasRegion(region: string): boolean {
    return this.regions.includes(region);
  }

  zonesOf(region: string): string[] {
    return this.zones.filter((z) => regionOfZone(z) === region);
  }

  /** A zone in a request path: GCE answers 400 for a well-formed unknown zone. */
  checkZone(zone: string): void {
    if (!this.hasZone(zone)) throw invalidField('zone', zone, 'Unknown zone.');
  }

  checkRegion(region: string): void {
    if (!this.hasRegion(region)) throw invalidField('region', region, 'Unknown region.');
  }
}

export const API_BASE = 'https://www.googleapis.com/compute/v1/';

/** Paths (as in error messages) and selfLinks (API_BASE + path) of one project. */
export class Links {
  constructor(readonly project: string) {}

  url(path: string): string {
    return API_BASE + path;
  }

  projectPath(): string {
    return `projects/${this.project}`;
  }

  zonePath(zone: string): string {
    return `projects/${this.project}/zones/${zone}`;
  }

  regionPath(region: string): string {
    return `projects/${this.project}/regions/${region}`;
  }

  globalPath(): string {
    return `projects/${this.project}/global`;
  }

  zonal(zone: string, collection: string, name: string): string {
    return `${this.zonePath(zone)}/${collection}/${name}`;
  }

  regional(region: string, collection: string, name: string): string {
    return `${this.regionPath(region)}/${collection}/${name}`;
  }

  global(collection: string, name: string): string {
    return `${this.globalPath()}/${collection}/${name}`;
  }
}

export interface ParsedRef {
  project: string;
  /** 'zones' | 'regions' | 'global' */
  scope: string;
  /** Zone or region name; '' for global. */
  location: string;
  collection: string;
  name: string;
}

const URL_PREFIXES = [
  API_BASE,
  'https://compute.googleapis.com/compute/v1/',
  'http://www.googleapis.com/compute/v1/',
];

/**
 * Reads a full URL or a partial path (`projects/P/zones/Z/instances/N`,
 * `zones/Z/instances/N`, `global/httpHealthChecks/N`); null if it is neither.
 */
export function parseRef(ref: string, defaultProject: string): ParsedRef | null {
  let path = ref;
  for (const prefix of URL_PREFIXES) {
    if (path.startsWith(prefix)) {
      path = path.slice(prefix.length);
      break;
    }
  }
  if (/^[a-z]+:\/\//.test(path)) return null;
  const parts = path.split('/');
  let project = defaultProject;
  if (parts[0] === 'projects') {
    project = parts[1] ?? '';
    parts.splice(0, 2);
  }
  if (!project) return null;
  if (parts[0] === 'global' && parts.length === 3) {
    return { project, scope: 'global', location: '', collection: parts[1] ?? '', name: parts[2] ?? '' };
  }
  if ((parts[0] === 'zones' || parts[0] === 'regions') && parts.length === 4) {
    return {
      project,
      scope: parts[0],
      location: parts[1] ?? '',
      collection: parts[2] ?? '',
      name: parts[3] ?? '',
    };
  }
  return null;
}

/**
 * A reference that must point at `collection` in this project. A wrong shape
 * is a 400 on `field`; another project is a 404, as the lab has only one.
 */
export function expectRef(
  ref: unknown,
  field: string,
  links: Links,
  scope: 'zones' | 'regions' | 'global',
  collection: string,
): ParsedRef {
  if (typeof ref !== 'string' || ref === '')
    throw invalidField(field, ref, 'Must be a URL to a valid Compute resource.');
  const parsed = parseRef(ref, links.project);
  if (!parsed || parsed.scope !== scope || parsed.collection !== collection) {
    throw invalidField(field, ref, `Must be a URL to a valid Compute resource of type '${collection}'.`);
  }
  if (parsed.project !== links.project) {
    throw notFound(`projects/${parsed.project}`);
  }
  return parsed;
}

export function lastSegment(url: string): string {
  const i = url.lastIndexOf('/');
  return i >= 0 ? url.slice(i + 1) : url;
}

/** `projects/P/...` of a selfLink, as GCE's messages quote resources. */
export function pathOf(url: string): string {
  for (const prefix of URL_PREFIXES) if (url.startsWith(prefix)) return url.slice(prefix.length);
  return url;
}
