// Alias IP ranges of an instance's NIC, as GCE allocates them: a range asked
// for by size (`/24`) in a secondary range of the subnetwork
// (`subnetworkRangeName: 'pods-default'`) gets the first free aligned block of
// that range (10.64.3.0/24); an explicit CIDR or IP must be free and, with a
// range name, inside that range. Ranges are free again once their instance
// is gone (what is taken is read from the instances themselves).
import { arrayAt, isObject, type Json, stringAt } from '../body.js';
import type { ServiceContext } from '../context.js';
import { invalidField } from '../errors.js';

export interface AliasIpRange {
  ipCidrRange: string;
  subnetworkRangeName?: string;
}

/** The secondary ranges of every region's `default` subnetwork (kube-up's names and its default cluster range). */
export const SECONDARY_RANGES: Readonly<Record<string, string>> = {
  'pods-default': '10.64.0.0/14',
  'services-default': '10.0.0.0/20',
};

interface Cidr {
  base: number;
  bits: number;
}

function ipToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function parseCidr(s: string): Cidr | null {
  const [ip = '', len] = s.split('/');
  const base = ipToInt(ip);
  const bits = len === undefined ? 32 : /^[0-9]{1,2}$/.test(len) ? Number(len) : Number.NaN;
  if (base === null || !(bits >= 0 && bits <= 32)) return null;
  return { base, bits };
}

const size = (c: Cidr) => 2 ** (32 - c.bits);
const overlaps = (a: Cidr, b: Cidr) => a.base < b.base + size(b) && b.base < a.base + size(a);
const within = (inner: Cidr, outer: Cidr) =>
  inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);

/** Every alias range held in the region, but by `except` (an instance URL). */
function taken(ctx: ServiceContext, region: string, except: string): Cidr[] {
  const out: Cidr[] = [];
  for (const [, e] of ctx.state.instances.entries()) {
    if (e.res.selfLink === except || !e.res.zone.includes(`/zones/${region}-`)) continue;
    for (const nic of e.res.networkInterfaces)
      for (const a of nic.aliasIpRanges ?? []) {
        const c = parseCidr(a.ipCidrRange);
        if (c) out.push(c);
      }
  }
  return out;
}

/**
 * Reads and allocates `aliasIpRanges` of a NIC (`f` is its field path) for
 * the instance `url`; the result is what GCE returns: concrete CIDRs.
 */
export function allocateAliasRanges(
  ctx: ServiceContext,
  region: string,
  nic: Json,
  f: string,
  url: string,
): AliasIpRange[] {
  const used = taken(ctx, region, url);
  return arrayAt(nic, 'aliasIpRanges', `${f}.aliasIpRanges`).map((raw, i) => {
    const fi = `${f}.aliasIpRanges[${i}]`;
    if (!isObject(raw)) throw invalidField(fi, raw, 'Must be an object.');
    const rangeName = stringAt(raw, 'subnetworkRangeName', `${fi}.subnetworkRangeName`) || undefined;
    const asked = stringAt(raw, 'ipCidrRange', `${fi}.ipCidrRange`) ?? '';
    let outer: Cidr | null = null;
    if (rangeName !== undefined) {
      const r = SECONDARY_RANGES[rangeName];
      if (!r) {
        throw invalidField(
          `${fi}.subnetworkRangeName`,
          rangeName,
          `The secondary IP range '${rangeName}' does not exist in subnetwork 'projects/${ctx.project}/regions/${region}/subnetworks/default'.`,
        );
      }
      outer = parseCidr(r);
    }
    let got: Cidr;
    const sizeOnly = /^\/([0-9]{1,2})$/.exec(asked);
    if (sizeOnly) {
      const bits = Number(sizeOnly[1]);
      // The lab allocates by size in a secondary range only (GCE also does so in the primary range).
      if (!outer)
        throw invalidField(`${fi}.ipCidrRange`, asked, 'A range given by size needs a subnetworkRangeName.');
      if (bits < outer.bits || bits > 32)
        throw invalidField(`${fi}.ipCidrRange`, asked, `The range does not fit in '${rangeName}'.`);
      const step = 2 ** (32 - bits);
      let found: Cidr | null = null;
      for (let b = outer.base; b + step <= outer.base + size(outer); b += step) {
        const cand = { base: b, bits };
        if (!used.some((u) => overlaps(u, cand))) {
          found = cand;
          break;
        }
      }
      if (!found)
        throw invalidField(`${fi}.ipCidrRange`, asked, `No free ${asked} range is left in '${rangeName}'.`);
      got = found;
    } else {
      const c = parseCidr(asked);
      if (!c || c.base % size(c) !== 0)
        throw invalidField(
          `${fi}.ipCidrRange`,
          asked,
          'Must be an IP address, a CIDR range or a /prefix length.',
        );
      if (outer && !within(c, outer))
        throw invalidField(
          `${fi}.ipCidrRange`,
          asked,
          `The range is not within the secondary range '${rangeName}'.`,
        );
      if (used.some((u) => overlaps(u, c)))
        throw invalidField(
          `${fi}.ipCidrRange`,
          asked,
          'The IP range is already allocated to another resource.',
        );
      got = c;
    }
    used.push(got);
    return {
      ipCidrRange: `${intToIp(got.base)}/${got.bits}`,
      ...(rangeName !== undefined ? { subnetworkRangeName: rangeName } : {}),
    };
  });
}
