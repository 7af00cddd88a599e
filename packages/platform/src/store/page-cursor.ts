import type { Collection, Filter, WithId } from "mongodb";

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
 * One page of a collection ordered by a date field, then _id: the documents after the token's cursor
 * (keyset paging, stable while documents are added) and the token of the next page ("" at the end).
 * A token this encoding did not make starts from the beginning: validate tokens at the API first.
 */
export async function findPage<Doc extends { _id: string }>(
  collection: Collection<Doc>,
  filter: Filter<Doc>,
  timeField: string,
  pageSize: number,
  pageToken: string,
): Promise<{ docs: WithId<Doc>[]; nextPageToken: string }> {
  const cursor = pageToken ? decodePageToken(pageToken) : undefined;
  const query = cursor
    ? ({
        ...filter,
        $or: [
          { [timeField]: { $gt: new Date(cursor.t) } },
          { [timeField]: new Date(cursor.t), _id: { $gt: cursor.id } },
        ],
      } as Filter<Doc>)
    : filter;
  const found = await collection
    .find(query)
    .sort({ [timeField]: 1, _id: 1 })
    .limit(pageSize + 1)
    .toArray();
  const docs = found.slice(0, pageSize);
  const last = docs.at(-1) as (WithId<Doc> & Record<string, unknown>) | undefined;
  const at = last?.[timeField];
  return {
    docs,
    nextPageToken:
      found.length > pageSize && last && at instanceof Date
        ? encodePageToken({ t: at.getTime(), id: last._id })
        : "",
  };
}

/**
 * One page of a collection ordered by _id alone (keyset paging, stable while documents are added),
 * with the same token encoding as findPage. A token this encoding did not make starts from the
 * beginning: validate tokens at the API first.
 */
export async function findIdPage<Doc extends { _id: string }>(
  collection: Collection<Doc>,
  filter: Filter<Doc>,
  pageSize: number,
  pageToken: string,
): Promise<{ docs: WithId<Doc>[]; nextPageToken: string }> {
  const cursor = pageToken ? decodePageToken(pageToken) : undefined;
  const query = cursor ? ({ ...filter, _id: { $gt: cursor.id } } as Filter<Doc>) : filter;
  const found = await collection
    .find(query)
    .sort({ _id: 1 })
    .limit(pageSize + 1)
    .toArray();
  const docs = found.slice(0, pageSize);
  const last = docs.at(-1);
  return {
    docs,
    nextPageToken: found.length > pageSize && last ? encodePageToken({ t: 0, id: last._id }) : "",
  };
}
