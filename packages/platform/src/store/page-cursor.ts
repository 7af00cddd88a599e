import type { Collection, Filter, Sort, WithId } from "mongodb";
import type { Violations } from "../rpc/errors.js";

/** Where a page ended in a list ordered by (time, id): what a page token carries. */
export interface PageCursor {
  readonly t: number;
  readonly id: string;
}

/** An opaque page token for a cursor. */
export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.t, id: cursor.id })).toString("base64url");
}

/** The cursor a page token carries, or undefined when the token is not one this encoding made. */
export function decodePageToken(token: string): PageCursor | undefined {
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      t?: unknown;
      id?: unknown;
    };
    return typeof cursor.t === "number" && typeof cursor.id === "string"
      ? { t: cursor.t, id: cursor.id }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads one document more than a page to know whether another page follows; the next page's token is
 * the cursor of the page's last document ("" at the end).
 */
async function readPage<Doc extends { _id: string }>(
  collection: Collection<Doc>,
  query: Filter<Doc>,
  sort: Sort,
  pageSize: number,
  cursorOf: (last: WithId<Doc>) => PageCursor | undefined,
): Promise<{ docs: WithId<Doc>[]; nextPageToken: string }> {
  const found = await collection
    .find(query)
    .sort(sort)
    .limit(pageSize + 1)
    .toArray();
  const docs = found.slice(0, pageSize);
  const last = docs.at(-1);
  const cursor = found.length > pageSize && last ? cursorOf(last) : undefined;
  return { docs, nextPageToken: cursor ? encodePageToken(cursor) : "" };
}

/**
 * One page of a collection ordered by a date field, then _id (oldest first, or newest first when
 * `order` is "descending"): the documents after the token's cursor (keyset paging, stable while
 * documents are added) and the token of the next page ("" at the end). A token this encoding did not
 * make starts from the beginning: validate tokens at the API first.
 */
export function findPage<Doc extends { _id: string }>(
  collection: Collection<Doc>,
  filter: Filter<Doc>,
  timeField: string,
  pageSize: number,
  pageToken: string,
  order: "ascending" | "descending" = "ascending",
): Promise<{ docs: WithId<Doc>[]; nextPageToken: string }> {
  const cursor = pageToken ? decodePageToken(pageToken) : undefined;
  const beyond = order === "ascending" ? "$gt" : "$lt";
  const after = cursor
    ? {
        $or: [
          { [timeField]: { [beyond]: new Date(cursor.t) } },
          { [timeField]: new Date(cursor.t), _id: { [beyond]: cursor.id } },
        ],
      }
    : undefined;
  // Beside the filter's own fields (FerretDB pushes top-level equalities down, not those inside an
  // $and), under an $and only when the filter has an $or of its own.
  const query = (
    !after ? filter : "$or" in filter ? { $and: [filter, after] } : { ...filter, ...after }
  ) as Filter<Doc>;
  const direction = order === "ascending" ? 1 : -1;
  return readPage(collection, query, { [timeField]: direction, _id: direction }, pageSize, (last) => {
    const at = (last as Record<string, unknown>)[timeField];
    return at instanceof Date ? { t: at.getTime(), id: last._id } : undefined;
  });
}

/**
 * One page of a collection ordered by _id alone (keyset paging, stable while documents are added),
 * with the same token encoding as findPage. A token this encoding did not make starts from the
 * beginning: validate tokens at the API first.
 */
export function findIdPage<Doc extends { _id: string }>(
  collection: Collection<Doc>,
  filter: Filter<Doc>,
  pageSize: number,
  pageToken: string,
): Promise<{ docs: WithId<Doc>[]; nextPageToken: string }> {
  const cursor = pageToken ? decodePageToken(pageToken) : undefined;
  const query = cursor ? ({ ...filter, _id: { $gt: cursor.id } } as Filter<Doc>) : filter;
  return readPage(collection, query, { _id: 1 }, pageSize, (last) => ({ t: 0, id: last._id }));
}

/**
 * Checks a list request's page_size (0: the default) and page_token (one this encoding made), naming
 * each field that breaks its rule; returns the page size to read.
 */
export function checkPageRequest(
  v: Violations,
  request: { readonly pageSize: number; readonly pageToken: string },
  limits: { readonly max: number; readonly default: number } = { max: 500, default: 100 },
): number {
  if (request.pageSize < 0 || request.pageSize > limits.max) v.add("page_size", `must be 0-${limits.max}`);
  if (request.pageToken && !decodePageToken(request.pageToken))
    v.add("page_token", "is not a page token this service issued");
  return request.pageSize || limits.default;
}

/**
 * One page of a list held whole (in memory), ordered by a unique key (code-unit order): the items
 * after the token's key, and the next page's token ("" at the end), in the encoding findIdPage uses.
 */
export function pageByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  pageSize: number,
  pageToken: string,
): { items: T[]; nextPageToken: string } {
  const after = pageToken ? decodePageToken(pageToken)?.id : undefined;
  const sorted = items
    .map((item) => ({ item, key: keyOf(item) }))
    .filter(({ key }) => after === undefined || key > after)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const page = sorted.slice(0, pageSize);
  const last = page.at(-1);
  const more = sorted.length > pageSize && last !== undefined;
  return {
    items: page.map(({ item }) => item),
    nextPageToken: more ? encodePageToken({ t: 0, id: last.key }) : "",
  };
}

/** Every item of a paged list: reads page after page until the answer's token is empty. */
export async function everyPage<T>(
  read: (pageToken: string) => Promise<{ readonly items: readonly T[]; readonly nextPageToken: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let pageToken = "";
  do {
    const page = await read(pageToken);
    all.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}
