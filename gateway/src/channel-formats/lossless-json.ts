// Channel payloads carry 64-bit ids as JSON numbers (Shopify's order and line ids are 18 digits):
// plain JSON.parse rounds them to the nearest double and the id silently names another record. This
// parse keeps every integer beyond 2^53 as its exact decimal text, read from the source (the reviver's
// context, JSON.parse source text access, in Node 22+).

/** Parses JSON, turning integers that a double cannot hold exactly into their decimal strings. */
export function parseLosslessJson(text: string): unknown {
  return JSON.parse(
    text,
    function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
      if (
        typeof value === "number" &&
        !Number.isSafeInteger(value) &&
        context?.source &&
        /^-?\d+$/.test(context.source)
      )
        return context.source;
      return value;
    },
  );
}
