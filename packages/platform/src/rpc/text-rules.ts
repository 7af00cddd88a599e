// Text the mesh refuses wherever it arrives: a NUL character in any string of a request. No identifier,
// name or note of ours holds one, PostgreSQL (under FerretDB) cannot store one in a document, and
// other stores and logs cut text at it. Every request is checked at each service's edge, so a caller
// hears which field is wrong (INVALID_ARGUMENT) instead of an internal error from the storage.
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { FieldViolation } from "./errors.js";

const nul = "\u0000";

/** Every string field (at any depth, in lists and maps) that holds a NUL, by its proto path. */
export function nulViolations(schema: DescMessage, message: Message): FieldViolation[] {
  const found: FieldViolation[] = [];
  walk(reflect(schema, message), "", found);
  return found;
}

const description = "must not contain the NUL character (U+0000)";

function walk(message: ReflectMessage, prefix: string, found: FieldViolation[]): void {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    switch (field.fieldKind) {
      case "scalar": {
        const value = message.get(field);
        if (typeof value === "string" && value.includes(nul))
          found.push({ field: `${prefix}${field.name}`, description });
        break;
      }
      case "message":
        walk(message.get(field), `${prefix}${field.name}.`, found);
        break;
      case "list": {
        const path = `${prefix}${field.name}`;
        for (const [i, item] of message.get(field).entries()) {
          if (typeof item === "string" && item.includes(nul))
            found.push({ field: `${path}[${i}]`, description });
          else if (field.listKind === "message") walk(item as ReflectMessage, `${path}[${i}].`, found);
        }
        break;
      }
      case "map": {
        const path = `${prefix}${field.name}`;
        for (const [key, item] of message.get(field).entries()) {
          const at = `${path}[${JSON.stringify(String(key))}]`;
          if (String(key).includes(nul)) found.push({ field: at, description });
          if (typeof item === "string" && item.includes(nul)) found.push({ field: at, description });
          else if (field.mapKind === "message") walk(item as ReflectMessage, `${at}.`, found);
        }
        break;
      }
    }
  }
}
