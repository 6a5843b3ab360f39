import { AppError, ErrorCode } from '@saga/contracts';
import { z } from 'zod';

/**
 * Keyset (cursor) paging, the one way every list endpoint pages: a stable order on a unique sort
 * key, a `limit`, and an opaque cursor naming the last row of the page, given in the body
 * (`nextCursor`) and in a `Link: <…>; rel="next"` header (RFC 8288). Rows added while a client
 * pages are never skipped nor repeated (ascending order: they show up on a later page).
 *
 * @example
 * const q = parseWith(ListOrdersQuery.extend(PAGE_QUERY), query, 'query');
 * const rows = await repo.list(db, { after: q.cursor, limit: q.limit + 1 });
 * const page = pageOf(rows, q.limit, (r) => [r.createdAt, r.id]);
 * setNextLink(req, res, page);
 */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** A page of a list: its items, the limit it was cut at, the cursor of the next page (null: last page). */
export interface Page<T> {
  items: T[];
  limit: number;
  nextCursor: string | null;
}

/** A keyset position: the sort key of a row (e.g. [created_at as text, id]). */
export type Cursor = readonly (string | number)[];

const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,400}$/;

/**
 * Query fields of every list: `limit` (default 50, at most 200), `cursor` (from a previous page) and
 * `sort`: `asc` (oldest first, the default: rows added while paging come on later pages) or `desc`.
 */
export const PAGE_QUERY = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  cursor: z.string().regex(CURSOR_TEXT, 'is not a cursor from a previous page').optional(),
  sort: z.enum(['asc', 'desc']).default('asc'),
};

/** The order of a keyset query: the comparison after the cursor and the ORDER BY direction. */
export function keysetOrder(sort: 'asc' | 'desc'): { after: '>' | '<'; direction: 'ASC' | 'DESC' } {
  return sort === 'asc' ? { after: '>', direction: 'ASC' } : { after: '<', direction: 'DESC' };
}

export function encodeCursor(key: Cursor): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The key in a cursor, checked to have `arity` parts; a 400 naming `cursor` otherwise. No cursor (the
 * first page) gives undefined.
 */
export function decodeCursor(cursor: string, arity: number): Cursor;
export function decodeCursor(cursor: string | undefined, arity: number): Cursor | undefined;
export function decodeCursor(cursor: string | undefined, arity: number): Cursor | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== arity || !key.every((k) => typeof k === 'string' || typeof k === 'number')) {
    throw new AppError(ErrorCode.ValidationFailed, 'cursor: is not a cursor from a previous page', { field: 'cursor' });
  }
  return key as Cursor;
}

/**
 * The page of `rows`, read with `limit + 1` so that a further row tells there is a next page;
 * `keyOf` gives a row's sort key, `map` its JSON shape.
 */
export function pageOf<R, T = R>(rows: readonly R[], limit: number, keyOf: (row: R) => Cursor, map: (row: R) => T = (r) => r as unknown as T): Page<T> {
  const items = rows.slice(0, limit);
  const more = rows.length > limit && items.length > 0;
  return { items: items.map(map), limit, nextCursor: more ? encodeCursor(keyOf(items[items.length - 1])) : null };
}

/**
 * The `Link` header of a page (undefined on the last one): the request's own path and query, with
 * `cursor` set to the next page's. Relative, so it holds behind the gateway (same paths).
 */
export function nextLink(requestUrl: string, nextCursor: string | null): string | undefined {
  if (nextCursor === null) return undefined;
  const url = new URL(requestUrl, 'http://x');
  url.searchParams.set('cursor', nextCursor);
  return `<${url.pathname}${url.search}>; rel="next"`;
}

/** Sets the `Link` header of a page on the reply (nothing on the last page). */
export function setNextLink(req: { url: string }, res: { header(name: string, value: string): unknown }, page: Page<unknown>): void {
  const link = nextLink(req.url, page.nextCursor);
  if (link) res.header('link', link);
}
