// list and aggregatedList responses: filter, order, maxResults/pageToken
// paging, and the per-scope `items` map with NO_RESULTS_ON_PAGE / UNREACHABLE
// warnings and `unreachables` that aggregatedList returns.
import { invalidField } from './errors.js';
import { parseFilter } from './filter.js';

export interface ListQuery {
  filter: (r: unknown) => boolean;
  maxResults: number;
  /** The sort key of the last item the previous page returned (from pageToken); null on the first page. */
  after: string[] | null;
  orderBy: 'name' | 'creationTimestamp desc';
  returnPartialSuccess: boolean;
}

export function parseListQuery(q: URLSearchParams): ListQuery {
  const filter = parseFilter(q.get('filter'));
  let maxResults = 500;
  const mr = q.get('maxResults');
  if (mr !== null && mr !== '') {
    const n = Number(mr);
    if (!Number.isInteger(n) || n < 0 || n > 500) {
      throw invalidField(
        'maxResults',
        mr,
        'Must be less than or equal to 500 and greater than or equal to 0',
      );
    }
    // GCE treats 0 as the default page size.
    maxResults = n === 0 ? 500 : n;
  }
  const ob = q.get('orderBy');
  let orderBy: ListQuery['orderBy'] = 'name';
  if (ob !== null && ob !== '') {
    if (ob === 'creationTimestamp desc') orderBy = ob;
    else if (ob !== 'name')
      throw invalidField('orderBy', ob, "Only 'name' and 'creationTimestamp desc' are supported.");
  }
  const token = q.get('pageToken');
  const after = token ? readPageToken(token, orderBy) : null;
  return {
    filter,
    maxResults,
    after,
    orderBy,
    returnPartialSuccess: q.get('returnPartialSuccess') === 'true',
  };
}

interface Sortable {
  name: string;
  creationTimestamp?: string;
  insertTime?: string;
}

// GCE's page tokens are opaque cursors, not offsets: an item that exists from
// the first page to the last is listed once, whatever is inserted or deleted
// in between. The lab's token is the sort key of the last item returned.

/** The sort key: [name], or [timestamp, name] newest first; aggregated lists put the scope first. */
function sortKey(x: Sortable, orderBy: ListQuery['orderBy']): string[] {
  return orderBy === 'name' ? [x.name] : [x.creationTimestamp ?? x.insertTime ?? '', x.name];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders two keys of one list: scope and names ascending, the timestamp (with creationTimestamp desc) descending. */
function compareKeys(
  a: readonly string[],
  b: readonly string[],
  orderBy: ListQuery['orderBy'],
  scoped: boolean,
): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const tsPosition = orderBy !== 'name' && i === (scoped ? 1 : 0);
    const c = cmp(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return tsPosition ? -c : c;
  }
  return 0;
}

function sortItems<T extends Sortable>(items: T[], orderBy: ListQuery['orderBy']): T[] {
  return [...items].sort((a, b) => compareKeys(sortKey(a, orderBy), sortKey(b, orderBy), orderBy, false));
}

function pageToken(key: string[], orderBy: ListQuery['orderBy']): string {
  return Buffer.from(JSON.stringify({ v: 1, o: orderBy, k: key }), 'utf8').toString('base64url');
}

function readPageToken(token: string, orderBy: ListQuery['orderBy']): string[] {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    const doc = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: unknown;
      o?: unknown;
      k?: unknown;
    };
    const k = doc.k;
    if (doc.v !== 1 || doc.o !== orderBy || !Array.isArray(k) || !k.every((x) => typeof x === 'string'))
      throw new Error('not a lab page token for this order');
    return k as string[];
  } catch {
    throw invalidField('pageToken', token, 'Invalid page token.');
  }
}

/** The page after the cursor, and the token of the page after it. */
function pageOf<E>(
  sorted: E[],
  keyOf: (e: E) => string[],
  q: ListQuery,
  scoped: boolean,
): { page: E[]; next: string | undefined } {
  const after = q.after;
  const rest = after ? sorted.filter((e) => compareKeys(keyOf(e), after, q.orderBy, scoped) > 0) : sorted;
  const page = rest.slice(0, q.maxResults);
  const last = page[page.length - 1];
  const next =
    rest.length > page.length && last !== undefined ? pageToken(keyOf(last), q.orderBy) : undefined;
  return { page, next };
}

export function listResponse<T extends Sortable>(
  kind: string,
  idPath: string,
  selfLink: string,
  all: T[],
  q: ListQuery,
): Record<string, unknown> {
  const matching = sortItems(all.filter(q.filter), q.orderBy);
  const { page, next } = pageOf(matching, (x) => sortKey(x, q.orderBy), q, false);
  return {
    kind,
    id: idPath,
    ...(page.length > 0 ? { items: page } : {}),
    ...(next ? { nextPageToken: next } : {}),
    selfLink,
  };
}

export interface AggregatedScope<T> {
  /** `zones/us-central1-a`, `regions/us-central1`. */
  key: string;
  items: T[];
  unreachable: boolean;
}

/** Pages over the flattened (scope, item) pairs; empty scopes carry their warning on the first page only. */
export function aggregatedResponse<T extends Sortable>(
  kind: string,
  listKey: string,
  idPath: string,
  selfLink: string,
  scopes: AggregatedScope<T>[],
  q: ListQuery,
): Record<string, unknown> {
  const flat: { key: string; item: T }[] = [];
  for (const s of scopes) {
    if (s.unreachable) continue;
    for (const item of sortItems(s.items.filter(q.filter), q.orderBy)) flat.push({ key: s.key, item });
  }
  const { page, next } = pageOf(flat, (p) => [p.key, ...sortKey(p.item, q.orderBy)], q, true);
  const items: Record<string, unknown> = {};
  for (const s of scopes) {
    const mine = page.filter((p) => p.key === s.key).map((p) => p.item);
    if (mine.length > 0) items[s.key] = { [listKey]: mine };
    else if (s.unreachable) {
      items[s.key] = {
        warning: {
          code: 'UNREACHABLE',
          message: `Scope '${s.key}' is unreachable.`,
          data: [{ key: 'scope', value: s.key }],
        },
      };
    } else {
      items[s.key] = {
        warning: {
          code: 'NO_RESULTS_ON_PAGE',
          message: `There are no results for scope '${s.key}' on this page.`,
          data: [{ key: 'scope', value: s.key }],
        },
      };
    }
  }
  const unreachables = scopes.filter((s) => s.unreachable).map((s) => s.key);
  return {
    kind,
    id: idPath,
    items,
    ...(next ? { nextPageToken: next } : {}),
    selfLink,
    ...(unreachables.length > 0 ? { unreachables } : {}),
  };
}
