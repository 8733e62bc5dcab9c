// instances.insert: validates the whole request before touching anything
// (machine type and disks in the request's zone, disks free, one NIC on the
// default network, a static natIP RESERVED in the region), then reserves
// IPs, addresses and disks and starts the boot operation.
import {
  arrayAt,
  boolAt,
  intAt,
  isIPv4,
  isObject,
  type Json,
  labelsAt,
  objectAt,
  stringArrayAt,
  stringAt,
} from '../body.js';
import type { ServiceContext } from '../context.js';
import { alreadyExists, inUse, invalid, invalidField, notFound, notReady, requiredField } from '../errors.js';
import { fingerprintOf, newId, projectNumber, timestamp } from '../ids.js';
import { checkName, expectRef, isValidName, pathOf, regionOfZone } from '../names.js';
import type { Entry } from '../state.js';
import type {
  AccessConfigResource,
  AddressResource,
  AttachedDiskResource,
  DiskMode,
  DiskResource,
  ImageResource,
  InstanceResource,
  MetadataItem,
  NetworkInterfaceResource,
} from '../types.js';
import {
  allocateIP,
  checkInternalAddress,
  checkStaticAddress,
  claimAddress,
  subnetworkUrl,
} from './addresses.js';
import { type AliasIpRange, allocateAliasRanges } from './alias-ranges.js';
import type { Created } from './collection-routes.js';
import { checkImageSize, diskTypeUrl, newDisk } from './disks.js';
import { resolveSourceImage } from './images.js';
import { bootWork } from './instance-lifecycle.js';
import { checkNameFree, type Place, resourceHead } from './place.js';

const MACHINE_TYPES = new Set([
  'e2-micro',
  'e2-small',
  'e2-medium',
  'e2-standard-2',
  'e2-standard-4',
  'e2-standard-8',
  'e2-standard-16',
  'n1-standard-1',
  'n1-standard-2',
  'n1-standard-4',
  'n1-standard-8',
  'n1-standard-16',
  'n2-standard-2',
  'n2-standard-4',
  'n2-standard-8',
  'n2-standard-16',
]);

const METADATA_KEY = /^[a-zA-Z0-9_-]{1,128}$/;
const METADATA_VALUE_MAX = 256 * 1024;
const METADATA_TOTAL_MAX = 512 * 1024;

/** Metadata items as GCE limits them (key charset, no duplicates, 256 KB a value, 512 KB in all). */
export function readMetadataItems(md: Json, field: string): MetadataItem[] {
  const items: MetadataItem[] = [];
  let total = 0;
  arrayAt(md, 'items', `${field}.items`).forEach((raw, i) => {
    const f = `${field}.items[${i}]`;
    if (!isObject(raw)) throw invalidField(f, raw, 'Must be an object.');
    const key = stringAt(raw, 'key', `${f}.key`) ?? '';
    if (!METADATA_KEY.test(key))
      throw invalidField(`${f}.key`, key, "Must be a match of regex '[a-zA-Z0-9-_]{1,128}'");
    if (items.some((x) => x.key === key))
      throw invalidField(`${f}.key`, key, 'Duplicate keys are not allowed.');
    const value = stringAt(raw, 'value', `${f}.value`) ?? '';
    const size = Buffer.byteLength(value, 'utf8');
    if (size > METADATA_VALUE_MAX)
      throw invalidField(`${f}.value`, `${value.slice(0, 40)}...`, 'Value exceeds 256 KB.');
    total += size + Buffer.byteLength(key, 'utf8');
    items.push({ key, value });
  });
  if (total > METADATA_TOTAL_MAX) throw invalidField(field, '', 'Metadata exceeds the 512 KB limit.');
  return items;
}

function machineTypeUrl(ctx: ServiceContext, zone: string, body: Json): string {
  const ref = stringAt(body, 'machineType', 'resource.machineType');
  if (!ref) throw requiredField('resource.machineType');
  const p = expectRef(ref, 'resource.machineType', ctx.links, 'zones', 'machineTypes');
  if (p.location !== zone) {
    throw invalidField(
      'resource.machineType',
      ref,
      `Machine type is in zone '${p.location}', but the instance is in zone '${zone}'.`,
    );
  }
  if (!MACHINE_TYPES.has(p.name) && !/^custom-[0-9]+-[0-9]+$/.test(p.name)) {
    throw invalidField(
      'resource.machineType',
      ref,
      `Machine type with name '${p.name}' does not exist in zone '${zone}'.`,
    );
  }
  return ctx.links.url(ctx.links.zonal(zone, 'machineTypes', p.name));
}

interface DiskPlan {
  attached: Omit<AttachedDiskResource, 'diskSizeGb'>;
  /** Key of an existing disk to attach, or of the disk to create. */
  key: string;
  create?: {
    name: string;
    sizeGb: number;
    typeUrl: string;
    image?: ImageResource;
    labels?: Record<string, string>;
  };
  existing?: Entry<DiskResource>;
}

function planDisks(ctx: ServiceContext, zone: string, instanceName: string, body: Json): DiskPlan[] {
  const raw = arrayAt(body, 'disks', 'resource.disks');
  if (raw.length === 0) throw requiredField('resource.disks');
  const plans: DiskPlan[] = [];
  raw.forEach((d, i) => {
    const f = `resource.disks[${i}]`;
    if (!isObject(d)) throw invalidField(f, d, 'Must be an object.');
    const type = stringAt(d, 'type', `${f}.type`) ?? 'PERSISTENT';
    if (type !== 'PERSISTENT')
      throw invalidField(`${f}.type`, type, 'The lab supports PERSISTENT disks only.');
    const boot = boolAt(d, 'boot', `${f}.boot`) ?? false;
    if (i === 0 && !boot)
      throw invalidField(`${f}.boot`, 'false', 'Boot disk must be the first disk attached to the instance.');
    if (i > 0 && boot) throw invalidField(`${f}.boot`, 'true', 'Only the first disk can be a boot disk.');
    const mode = (stringAt(d, 'mode', `${f}.mode`) ?? 'READ_WRITE') as DiskMode;
    if (mode !== 'READ_WRITE' && mode !== 'READ_ONLY')
      throw invalidField(`${f}.mode`, mode, 'Must be READ_WRITE or READ_ONLY.');
    const autoDelete = boolAt(d, 'autoDelete', `${f}.autoDelete`) ?? false;
    const deviceName = stringAt(d, 'deviceName', `${f}.deviceName`) ?? `persistent-disk-${i}`;
    if (!isValidName(deviceName) && !/^[a-z0-9][-_a-z0-9]{0,62}$/i.test(deviceName)) {
      throw invalidField(`${f}.deviceName`, deviceName, 'Invalid device name.');
    }
    if (plans.some((p) => p.attached.deviceName === deviceName)) {
      throw invalidField(`${f}.deviceName`, deviceName, 'Device names must be unique within an instance.');
    }
    const source = stringAt(d, 'source', `${f}.source`);
    const init = objectAt(d, 'initializeParams', `${f}.initializeParams`);
    if (source && init) throw invalidField(f, '', 'Cannot specify both source and initializeParams.');
    if (!source && !init) throw requiredField(`${f}.source`);
    const attached = {
      kind: 'compute#attachedDisk' as const,
      type: 'PERSISTENT' as const,
      mode,
      source: '',
      deviceName,
      index: i,
      boot,
      autoDelete,
      interface: 'SCSI',
    };
    if (source) {
      const p = expectRef(source, `${f}.source`, ctx.links, 'zones', 'disks');
      const path = ctx.links.zonal(p.location, 'disks', p.name);
      if (p.location !== zone)
        throw invalidField(`${f}.source`, source, `Disk must be in the instance's zone '${zone}'.`);
      const key = `${zone}/${p.name}`;
      const existing = ctx.state.disks.get(key);
      if (!existing) throw notFound(path);
      if (existing.meta.pending || existing.meta.busyOp) throw notReady(path);
      const modes = Object.values(existing.meta.attachModes ?? {});
      const user = existing.res.users?.[0];
      if (user && (mode === 'READ_WRITE' || modes.includes('READ_WRITE')))
        throw inUse('disk', path, pathOf(user));
      if (plans.some((x) => x.key === key))
        throw invalidField(`${f}.source`, source, 'The disk is attached twice.');
      plans.push({ attached: { ...attached, source: existing.res.selfLink }, key, existing });
      return;
    }
    const fi = `${f}.initializeParams`;
    const diskName =
      init?.diskName === undefined
        ? i === 0
          ? instanceName
          : `${instanceName}-${i}`
        : checkName(init.diskName, `${fi}.diskName`);
    const key = `${zone}/${diskName}`;
    if (ctx.state.disks.get(key) || plans.some((x) => x.key === key))
      throw alreadyExists(ctx.links.zonal(zone, 'disks', diskName));
    const imageRef = init ? stringAt(init, 'sourceImage', `${fi}.sourceImage`) : undefined;
    if (boot && !imageRef) throw requiredField(`${fi}.sourceImage`);
    // GCE resolves the image (a family to its newest image) at request time: a missing one is a 404.
    const image = imageRef ? resolveSourceImage(ctx, imageRef, `${fi}.sourceImage`) : undefined;
    const sizeGb =
      (init && intAt(init, 'diskSizeGb', `${fi}.diskSizeGb`, 1, 65536)) ?? Number(image?.diskSizeGb ?? 10);
    if (image) checkImageSize(image, sizeGb, `${fi}.diskSizeGb`);
    // GCE wants a zonal diskType URL here; a bare type name ('pd-ssd') is a 400.
    const typeUrl = diskTypeUrl(
      ctx,
      zone,
      init ? stringAt(init, 'diskType', `${fi}.diskType`) : undefined,
      `${fi}.diskType`,
    );
    const labels = init ? labelsAt(init, 'labels', `${fi}.labels`) : undefined;
    plans.push({
      attached: {
        ...attached,
        source: ctx.links.url(ctx.links.zonal(zone, 'disks', diskName)),
        ...(image ? { licenses: image.licenses, architecture: image.architecture } : {}),
      },
      key,
      create: {
        name: diskName,
        sizeGb,
        typeUrl,
        ...(image ? { image } : {}),
        ...(labels ? { labels } : {}),
      },
    });
  });
  return plans;
}

interface NicPlan {
  network: string;
  subnetwork: string;
  networkIP: string | undefined;
  /** The reserved internal address whose IP networkIP is: it becomes IN_USE by the instance. */
  internalAddress?: Entry<AddressResource>;
  aliasIpRanges: AliasIpRange[];
  access: {
    name: string;
    type: string;
    networkTier: string;
    natIP: string | undefined;
    address?: Entry<AddressResource>;
  } | null;
}

function planNic(ctx: ServiceContext, zone: string, body: Json, url: string): NicPlan {
  const raw = arrayAt(body, 'networkInterfaces', 'resource.networkInterfaces');
  if (raw.length === 0) throw requiredField('resource.networkInterfaces');
  if (raw.length > 1) throw invalid('Networks must be distinct for NICs attached to a VM.');
  const nic = raw[0];
  const f = 'resource.networkInterfaces[0]';
  if (!isObject(nic)) throw invalidField(f, nic, 'Must be an object.');
  const region = regionOfZone(zone);
  const l = ctx.links;
  const netRef = stringAt(nic, 'network', `${f}.network`) ?? 'global/networks/default';
  const net = expectRef(netRef, `${f}.network`, l, 'global', 'networks');
  if (net.name !== 'default') throw notFound(l.global('networks', net.name));
  const subnetwork = subnetworkUrl(
    ctx,
    region,
    stringAt(nic, 'subnetwork', `${f}.subnetwork`) || undefined,
    `${f}.subnetwork`,
  );
  const ipRef = stringAt(nic, 'networkIP', `${f}.networkIP`) || undefined;
  let networkIP = ipRef;
  let internalAddress: Entry<AddressResource> | undefined;
  if (ipRef !== undefined) {
    // GCE takes an internal IP or the URL of a reserved internal address of the region.
    if (!isIPv4(ipRef)) {
      const a = expectRef(ipRef, `${f}.networkIP`, l, 'regions', 'addresses');
      const e = ctx.state.addresses.get(`${a.location}/${a.name}`);
      if (a.location !== region || !e) throw notFound(l.regional(a.location, 'addresses', a.name));
      networkIP = e.res.address;
    }
    const ip = networkIP ?? '';
    const taken = ctx.state.instances
      .entries()
      .some(([, e]) => e.res.networkInterfaces.some((n) => n.networkIP === ip));
    if (taken) throw invalidField(`${f}.networkIP`, ip, 'IP address is already in use.');
    internalAddress = checkInternalAddress(ctx, region, ip, `${f}.networkIP`);
  }
  const acs = arrayAt(nic, 'accessConfigs', `${f}.accessConfigs`);
  if (acs.length > 1)
    throw invalidField(`${f}.accessConfigs`, '', 'At most one access config currently supported.');
  let access: NicPlan['access'] = null;
  const ac = acs[0];
  if (ac !== undefined) {
    if (!isObject(ac)) throw invalidField(`${f}.accessConfigs[0]`, ac, 'Must be an object.');
    access = readAccessConfig(ctx, region, ac, `${f}.accessConfigs[0]`);
  }
  return {
    network: l.url(l.global('networks', 'default')),
    subnetwork,
    networkIP,
    ...(internalAddress ? { internalAddress } : {}),
    // GCE keeps alias ranges, a range asked for by size allocated from the subnetwork's secondary range.
    aliasIpRanges: allocateAliasRanges(ctx, region, nic, f, url),
    access,
  };
}

/** An access config of insert or addAccessConfig; a natIP must be a free static address of the region. */
export function readAccessConfig(
  ctx: ServiceContext,
  region: string,
  ac: Json,
  f: string,
): NonNullable<NicPlan['access']> {
  const type = stringAt(ac, 'type', `${f}.type`) ?? 'ONE_TO_ONE_NAT';
  if (type !== 'ONE_TO_ONE_NAT') throw invalidField(`${f}.type`, type, 'Must be ONE_TO_ONE_NAT.');
  const name = stringAt(ac, 'name', `${f}.name`) || 'External NAT';
  const networkTier = stringAt(ac, 'networkTier', `${f}.networkTier`) ?? 'PREMIUM';
  const natIP = stringAt(ac, 'natIP', `${f}.natIP`) || undefined;
  if (natIP === undefined) return { name, type, networkTier, natIP };
  if (!isIPv4(natIP)) throw invalidField(`${f}.natIP`, natIP, 'Must be an IPv4 address.');
  return { name, type, networkTier, natIP, address: checkStaticAddress(ctx, region, natIP, `${f}.natIP`) };
}

/** Network tags (`items` of a Tags message at `field`): RFC 1035 labels. */
export function readTagItems(tags: Json, field: string): string[] {
  const items = stringArrayAt(tags, 'items', `${field}.items`);
  items.forEach((t, i) => {
    if (!isValidName(t)) throw invalidField(`${field}.items[${i}]`, t, 'Tags must be RFC 1035 labels.');
  });
  return items;
}

function readTags(body: Json): string[] {
  const tagsObj = objectAt(body, 'tags', 'resource.tags');
  return tagsObj ? readTagItems(tagsObj, 'resource.tags') : [];
}

function readServiceAccounts(ctx: ServiceContext, body: Json): { email: string; scopes: string[] }[] {
  return arrayAt(body, 'serviceAccounts', 'resource.serviceAccounts').map((sa, i) => {
    const f = `resource.serviceAccounts[${i}]`;
    if (!isObject(sa)) throw invalidField(f, sa, 'Must be an object.');
    const email = stringAt(sa, 'email', `${f}.email`) || 'default';
    return {
      // GCE resolves `default` to the project's Compute Engine default service account.
      email:
        email === 'default' ? `${projectNumber(ctx.project)}-compute@developer.gserviceaccount.com` : email,
      scopes: stringArrayAt(sa, 'scopes', `${f}.scopes`),
    };
  });
}

/** The instance of an instances.insert (its name checked), for insertRoute; the boot runs as the operation's work. */
export function createInstance(
  ctx: ServiceContext,
  at: Place<'instances'>,
  body: Json,
  name: string,
): Created<InstanceResource> {
  const l = ctx.links;
  const zone = at.location;
  const key = at.key(name);
  const path = at.item(name);
  checkNameFree(ctx, at, name);
  const machineType = machineTypeUrl(ctx, zone, body);
  const description = stringAt(body, 'description', 'resource.description');
  const labels = labelsAt(body, 'labels', 'resource.labels');
  const tags = readTags(body);
  const canIpForward = boolAt(body, 'canIpForward', 'resource.canIpForward') ?? false;
  const deletionProtection = boolAt(body, 'deletionProtection', 'resource.deletionProtection') ?? false;
  const serviceAccounts = readServiceAccounts(ctx, body);
  const md = objectAt(body, 'metadata', 'resource.metadata') ?? {};
  const items = readMetadataItems(md, 'resource.metadata');
  const disks = planDisks(ctx, zone, name, body);
  const nic = planNic(ctx, zone, body, l.url(path));

  // Everything is valid: reserve. Only allocateIP can still fail; undo its earlier grants if so.
  const url = l.url(path);
  const allocated: string[] = [];
  let networkIP: string;
  let natIP: string | undefined;
  try {
    networkIP = nic.networkIP ?? allocateIP(ctx, 'internal', { zone });
    if (!nic.networkIP) allocated.push(networkIP);
    natIP = nic.access ? (nic.access.natIP ?? allocateIP(ctx, 'external', { zone })) : undefined;
    if (nic.access && !nic.access.natIP && natIP) allocated.push(natIP);
  } catch (err) {
    for (const ip of allocated) ctx.releaseIP(ip);
    throw err;
  }
  if (nic.access?.address) claimAddress(nic.access.address, url);
  if (nic.internalAddress) claimAddress(nic.internalAddress, url);
  const nowMs = ctx.now();
  const created: string[] = [];
  const attachedDisks: AttachedDiskResource[] = disks.map((p) => {
    let entry = p.existing;
    if (p.create) {
      entry = newDisk(ctx, zone, p.create.name, p.create);
      ctx.state.disks.set(p.key, entry);
      created.push(p.key);
    }
    if (!entry) throw new Error('unreachable: a disk plan has neither a disk nor a creation');
    entry.res.users = [...(entry.res.users ?? []), url];
    entry.meta.attachModes = { ...entry.meta.attachModes, [url]: p.attached.mode };
    entry.res.lastAttachTimestamp = timestamp(nowMs);
    return { ...p.attached, diskSizeGb: entry.res.sizeGb };
  });
  const accessConfigs: AccessConfigResource[] =
    nic.access && natIP
      ? [
          {
            kind: 'compute#accessConfig',
            type: nic.access.type,
            name: nic.access.name,
            natIP,
            networkTier: nic.access.networkTier,
          },
        ]
      : [];
  const networkInterface: NetworkInterfaceResource = {
    kind: 'compute#networkInterface',
    name: 'nic0',
    network: nic.network,
    subnetwork: nic.subnetwork,
    networkIP,
    fingerprint: fingerprintOf({ networkIP, accessConfigs }),
    stackType: 'IPV4_ONLY',
    ...(accessConfigs.length > 0 ? { accessConfigs } : {}),
    ...(nic.aliasIpRanges.length > 0 ? { aliasIpRanges: nic.aliasIpRanges } : {}),
  };
  const res: InstanceResource = {
    ...resourceHead(ctx, 'instances', name, description, nowMs),
    tags: { ...(tags.length > 0 ? { items: tags } : {}), fingerprint: fingerprintOf(tags) },
    machineType,
    status: 'PROVISIONING',
    zone: l.url(l.zonePath(zone)),
    canIpForward,
    networkInterfaces: [networkInterface],
    disks: attachedDisks,
    metadata: {
      kind: 'compute#metadata',
      fingerprint: fingerprintOf([items, newId()]),
      ...(items.length > 0 ? { items } : {}),
    },
    ...(serviceAccounts.length > 0 ? { serviceAccounts } : {}),
    selfLink: url,
    scheduling: {
      onHostMaintenance: 'MIGRATE',
      automaticRestart: true,
      preemptible: false,
      provisioningModel: 'STANDARD',
    },
    cpuPlatform: 'Intel Broadwell',
    ...(labels ? { labels } : {}),
    labelFingerprint: fingerprintOf(labels ?? {}),
    startRestricted: false,
    deletionProtection,
    fingerprint: fingerprintOf([name, nowMs]),
  };
  return {
    res,
    meta: { createdAtMs: nowMs, allocatedIPs: allocated, createdDisks: created },
    work: () => bootWork(ctx, key),
  };
}
