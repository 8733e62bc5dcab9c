// Request bodies checked against compute.proto's messages, as GCE's JSON front
// end checks them: an unknown field name, or a value of the wrong JSON type,
// is a 400 INVALID_ARGUMENT naming the field by its proto path
// (`instance_resource.disks[0].initialize_params`). The message definitions
// come from the client package's protos.json, read once on the first request
// with a body and reduced to the messages the lab's routes take (the 11 MB
// document is not kept). Only the lab's Compute server loads this module.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ApiError } from './errors.js';

interface RawField {
  type: string;
  rule?: string;
  keyType?: string;
}
interface RawType {
  fields?: Record<string, RawField>;
  values?: Record<string, number>;
  nested?: Record<string, RawType>;
  methods?: Record<string, { requestType: string; options?: Record<string, unknown> }>;
}

type Kind = 'string' | 'bool' | 'int' | 'float' | 'bytes' | 'enum' | 'message';

interface FieldDef {
  /** The proto field name, as GCE's messages write paths. */
  proto: string;
  kind: Kind;
  /** Full proto type name for messages and enums (`google.cloud.compute.v1.AttachedDisk`). */
  typeName: string;
  repeated: boolean;
  map: boolean;
  /** For enums: the allowed names. */
  values?: ReadonlySet<string>;
}

interface MessageDef {
  fullName: string;
  /** By JSON (camelCase) name. */
  fields: Map<string, FieldDef>;
  /** Proto (snake_case) name -> JSON name: GCE accepts both spellings. */
  protoNames: Map<string, string>;
}

interface BodySpec {
  /** The request field that carries the body (`instance_resource`). */
  field: string;
  message: MessageDef;
}

const PACKAGE = 'google.cloud.compute.v1';
const INTS = new Set([
  'int32',
  'uint32',
  'sint32',
  'fixed32',
  'sfixed32',
  'int64',
  'uint64',
  'sint64',
  'fixed64',
  'sfixed64',
]);
const FLOATS = new Set(['float', 'double']);

/** camelCase JSON name -> the proto's snake_case name (IPAddress -> i_p_address, as protobuf.js names it). */
function protoName(json: string): string {
  return json.replace(/[A-Z]/g, (m, i: number) => (i === 0 ? m.toLowerCase() : `_${m.toLowerCase()}`));
}

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface Schema {
  /** By `<collection>.<method>`; null: the method takes no body. */
  bodies: Map<string, BodySpec | null>;
  /** By full proto name. */
  messages: Map<string, MessageDef>;
}

let cached: Schema | null = null;

function load(apis: readonly string[]): Schema {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@google-cloud/compute/build/protos/protos.json');
  const root = JSON.parse(readFileSync(file, 'utf8')) as { nested: Record<string, RawType> };
  const v1 = root.nested.google?.nested?.cloud?.nested?.compute?.nested?.v1?.nested ?? {};
  const messages = new Map<string, MessageDef>();

  const resolve = (scope: RawType | null, type: string): [string, RawType] | null => {
    const nested = scope?.nested?.[type];
    if (nested && scope) return [type, nested];
    const top = v1[type];
    return top ? [type, top] : null;
  };

  const messageOf = (name: string, raw: RawType): MessageDef => {
    const fullName = `${PACKAGE}.${name}`;
    const seen = messages.get(fullName);
    if (seen) return seen;
    const def: MessageDef = { fullName, fields: new Map(), protoNames: new Map() };
    messages.set(fullName, def);
    for (const [json, f] of Object.entries(raw.fields ?? {})) {
      const proto = protoName(json);
      const base = { proto, repeated: f.rule === 'repeated', map: f.keyType !== undefined };
      let field: FieldDef;
      if (f.type === 'string') field = { ...base, kind: 'string', typeName: 'TYPE_STRING' };
      else if (f.type === 'bool') field = { ...base, kind: 'bool', typeName: 'TYPE_BOOL' };
      else if (f.type === 'bytes') field = { ...base, kind: 'bytes', typeName: 'TYPE_BYTES' };
      else if (INTS.has(f.type)) field = { ...base, kind: 'int', typeName: `TYPE_${f.type.toUpperCase()}` };
      else if (FLOATS.has(f.type))
        field = { ...base, kind: 'float', typeName: `TYPE_${f.type.toUpperCase()}` };
      else {
        const found = resolve(raw, f.type);
        if (!found) field = { ...base, kind: 'string', typeName: f.type };
        else if (found[1].values) {
          field = {
            ...base,
            kind: 'enum',
            typeName: `${PACKAGE}.${name}.${found[0]}`,
            values: new Set(Object.keys(found[1].values)),
          };
        } else {
          const sub = messageOf(found[0], found[1]);
          field = { ...base, kind: 'message', typeName: sub.fullName };
        }
      }
      def.fields.set(json, field);
      def.protoNames.set(proto, json);
    }
    return def;
  };

  const out = new Map<string, BodySpec | null>();
  for (const api of apis) {
    const [collection = '', method = ''] = api.split('.');
    const service = v1[collection.charAt(0).toUpperCase() + collection.slice(1)];
    const m = service?.methods?.[method.charAt(0).toUpperCase() + method.slice(1)];
    const bodyField = m?.options?.['(google.api.http).body'];
    if (!m || typeof bodyField !== 'string' || bodyField === '*') {
      out.set(api, null);
      continue;
    }
    const bodyType = v1[m.requestType]?.fields?.[camel(bodyField)]?.type;
    const raw = bodyType ? v1[bodyType] : undefined;
    out.set(api, bodyType && raw ? { field: bodyField, message: messageOf(bodyType, raw) } : null);
  }
  return { bodies: out, messages };
}

/** GCE's answer to a body it cannot parse into the request message. */
function payloadError(message: string, field: string): ApiError {
  return new ApiError(400, 'badRequest', message, {
    status: 'INVALID_ARGUMENT',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field, description: message }],
      },
    ],
  });
}

function unknownName(name: string, at: string): ApiError {
  return payloadError(
    `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`,
    at,
  );
}

function invalidValue(at: string, typeName: string, value: unknown): ApiError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return payloadError(`Invalid value at '${at}' (${typeName}), ${JSON.stringify(shown)}`, at);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkScalar(f: FieldDef, v: unknown, at: string): void {
  const typeName = f.typeName;
  switch (f.kind) {
    case 'string':
    case 'bytes':
      if (typeof v !== 'string') throw invalidValue(at, typeName, v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw invalidValue(at, typeName, v);
      return;
    case 'int':
      // int64 travels as a decimal string, int32 as a number; proto3 JSON accepts both for either.
      if (!(typeof v === 'number' && Number.isInteger(v)) && !(typeof v === 'string' && /^-?[0-9]+$/.test(v)))
        throw invalidValue(at, typeName, v);
      return;
    case 'float':
      if (typeof v !== 'number' && !(typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))))
        throw invalidValue(at, typeName, v);
      return;
    case 'enum':
      if (typeof v !== 'string' || !f.values?.has(v)) throw invalidValue(at, typeName, v);
      return;
    default:
      return;
  }
}

function checkValue(
  f: FieldDef,
  v: unknown,
  at: string,
  messages: (name: string) => MessageDef | undefined,
): void {
  if (v === null) return;
  if (f.kind === 'message') {
    const m = messages(f.typeName);
    if (!m) return;
    if (!isPlainObject(v)) throw invalidValue(at, `type.googleapis.com/${f.typeName}`, v);
    checkMessage(m, v, at, messages);
  } else checkScalar(f, v, at);
}

/** Checks `body` against message `m` at path `at`; proto-named keys are renamed to their JSON names. */
function checkMessage(
  m: MessageDef,
  body: Record<string, unknown>,
  at: string,
  messages: (name: string) => MessageDef | undefined,
): void {
  for (const key of Object.keys(body)) {
    let json = key;
    let f = m.fields.get(key);
    if (!f) {
      const alias = m.protoNames.get(key);
      f = alias ? m.fields.get(alias) : undefined;
      if (!f || !alias) throw unknownName(key, at);
      json = alias;
      if (body[json] === undefined) body[json] = body[key];
      delete body[key];
    }
    const v = body[json];
    const path = `${at}.${f.proto}`;
    if (v === null || v === undefined) continue;
    if (f.map) {
      if (!isPlainObject(v)) throw invalidValue(path, f.typeName, v);
      for (const [k, item] of Object.entries(v)) checkValue(f, item, `${path}[${k}]`, messages);
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw invalidValue(path, f.typeName, v);
      v.forEach((item, i) => {
        checkValue(f, item, `${path}[${i}]`, messages);
      });
    } else checkValue(f, v, path, messages);
  }
}

/**
 * Validates the JSON body of a call to `api` (`instances.insert`) against its
 * request message, recursively; `apis` are every api the server routes (the
 * definitions are loaded for those, once). A body-less method accepts anything.
 */
export function validateBody(api: string, body: unknown, apis: readonly string[]): void {
  if (body === undefined || body === null || body === '') return;
  cached ??= load(apis);
  const schema = cached;
  const spec = schema.bodies.get(api);
  if (!spec) return;
  if (!isPlainObject(body))
    throw invalidValue(spec.field, `type.googleapis.com/${spec.message.fullName}`, body);
  checkMessage(spec.message, body, spec.field, (name) => schema.messages.get(name));
}
