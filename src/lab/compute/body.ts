// Typed reads of a request's JSON body. Failures name the field the way GCE
// does (`resource.disks[1].source`), so a client sees which part was wrong.
import { invalidField } from './errors.js';

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

/** The value at `key` if it is set (null counts as unset), or GCE's 400 "Must be <what>." on `field`. */
function typedAt<T>(
  o: Json,
  key: string,
  field: string,
  is: (v: unknown) => v is T,
  what: string,
): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!is(v)) throw invalidField(field, v, `Must be ${what}.`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

export function objectAt(o: Json, key: string, field: string): Json | undefined {
  return typedAt(o, key, field, isObject, 'an object');
}

export function stringAt(o: Json, key: string, field: string): string | undefined {
  return typedAt(o, key, field, isString, 'a string');
}

export function boolAt(o: Json, key: string, field: string): boolean | undefined {
  return typedAt(o, key, field, isBoolean, 'a boolean');
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
  return typedAt(o, key, field, Array.isArray, 'a list') ?? [];
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
