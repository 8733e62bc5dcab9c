// Typed reads of a request's JSON body. Failures name the field the way GCE
// does (`resource.disks[1].source`), so a client sees which part was wrong.
import { invalidField, requiredField } from './errors.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body itself; the client sends `""` or nothing for body-less calls. */
export function bodyObject(body: unknown, field = 'resource'): Json {
  if (body === undefined || body === '' || body === null) return {};
  if (!isObject(body)) throw invalidField(field, body, 'Must be an object.');
  return body;
}

export function objectAt(o: Json, key: string, field: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidField(field, v, 'Must be an object.');
  return v;
}

export function stringAt(o: Json, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidField(field, v, 'Must be a string.');
  return v;
}

export function requiredString(o: Json, key: string, field: string): string {
  const v = stringAt(o, key, field);
  if (v === undefined || v === '') throw requiredField(field);
  return v;
}

export function boolAt(o: Json, key: string, field: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidField(field, v, 'Must be a boolean.');
  return v;
}

/** int32/int64 fields: the client sends int64 as strings, int32 as numbers. */
export function intAt(o: Json, key: string, field: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidField(field, v, 'Must be an integer.');
  if (n < min || n > max) throw invalidField(field, v, `Must be between ${min} and ${max}.`);
  return n;
}

export function arrayAt(o: Json, key: string, field: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidField(field, v, 'Must be a list.');
  return v;
}

export function stringArrayAt(o: Json, key: string, field: string): string[] {
  return arrayAt(o, key, field).map((v, i) => {
    if (typeof v !== 'string') throw invalidField(`${field}[${i}]`, v, 'Must be a string.');
    return v;
  });
}

const LABEL_KEY = /^[a-z][-_a-z0-9]{0,62}$/;
const LABEL_VALUE = /^[-_a-z0-9]{0,63}$/;

/** Labels as GCE restricts them; the client sends `{}` when none are set. */
export function labelsAt(o: Json, key: string, field: string): Record<string, string> | undefined {
  const v = objectAt(o, key, field);
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_KEY.test(k))
      throw invalidField(
        `${field}.${k}`,
        k,
        'Label keys must start with a lowercase letter and contain only lowercase letters, digits, hyphens and underscores.',
      );
    if (typeof val !== 'string' || !LABEL_VALUE.test(val)) {
      throw invalidField(
        `${field}.${k}`,
        val,
        'Label values must contain only lowercase letters, digits, hyphens and underscores.',
      );
    }
    out[k] = val;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}
