// list and aggregatedList responses: filter, order, maxResults/pageToken
// paging, and the per-scope `items` map with NO_RESULTS_ON_PAGE / UNREACHABLE
// warnings and `unreachables` that aggregatedList returns.
import { invalidField } from './errors.js';
import { parseFilter } from './filter.js';

export interface ListQuery {
  filter: (r: unknown) => boolean;
  maxResults: number;
  offset: number;
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
  let offset = 0;
  const token = q.get('pageToken');
  if (token) {
    const decoded = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
    const m = /^lab-page:([0-9]+)$/.exec(decoded);
    if (!m) throw invalidField('pageToken', token, 'Invalid page token.');
    offset = Number(m[1]);
  }
  const ob = q.get('orderBy');
  let orderBy: ListQuery['orderBy'] = 'name';
  if (ob !== null && ob !== '') {
    if (ob === 'creationTimestamp desc') orderBy = ob;
    else if (ob !== 'name')
      throw invalidField('orderBy', ob, "Only 'name' and 'creationTimestamp desc' are supported.");
  }
  return {
    filter,
    maxResults,
    offset,
    orderBy,
    returnPartialSuccess: q.get('returnPartialSuccess') === 'true',
  };
}

interface Sortable {
  name: string;
  creationTimestamp?: string;
  insertTime?: string;
}

function sortItems<T extends Sortable>(items: T[], orderBy: ListQuery['orderBy']): T[] {
  if (orderBy === 'name') return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ts = (x: T) => x.creationTimestamp ?? x.insertTime ?? '';
  return [...items].sort((a, b) => ts(b).localeCompare(ts(a)));
}

function pageToken(offset: number): string {
  return Buffer.from(`lab-page:${offset}`, 'utf8').toString('base64url');
}

export function listResponse<T extends Sortable>(
  kind: string,
  idPath: string,
  selfLink: string,
  all: T[],
  q: ListQuery,
): Record<string, unknown> {
  const matching = sortItems(all.filter(q.filter), q.orderBy);
  const page = matching.slice(q.offset, q.offset + q.maxResults);
  const next = q.offset + q.maxResults < matching.length ? pageToken(q.offset + q.maxResults) : undefined;
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
  const page = flat.slice(q.offset, q.offset + q.maxResults);
  const next = q.offset + q.maxResults < flat.length ? pageToken(q.offset + q.maxResults) : undefined;
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
