// Personal data by contract: fields marked `[(retail.common.v1.personal) = true]` in the protos are
// the ones a copy of a message must lose when its subject is erased. One walk over the descriptors
// serves every message of every service, so a field marked once is erased everywhere.
import { type DescMessage, hasOption, type Message, type MessageShape } from "@bufbuild/protobuf";
import { personal } from "@retail/contracts/retail/common/v1/personal_pb";

const holding = new Map<string, boolean>();

/** Whether a message type holds personal data anywhere inside it (worked out once per type). */
export function holdsPersonalData(schema: DescMessage): boolean {
  let holds = holding.get(schema.typeName);
  if (holds === undefined) {
    holds = walk(schema, new Set());
    holding.set(schema.typeName, holds);
  }
  return holds;
}

function walk(schema: DescMessage, seen: Set<string>): boolean {
  if (seen.has(schema.typeName)) return false;
  seen.add(schema.typeName);
  return schema.fields.some(
    (f) => hasOption(f, personal) || (f.message !== undefined && walk(f.message, seen)),
  );
}

/**
 * The message with every personal field emptied, at any depth (messages, lists and maps of
 * messages); everything else is left as it is. The message given is changed in place and returned.
 */
export function redactPersonal<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): MessageShape<Desc> {
  const record = message as unknown as Record<string, unknown>;
  for (const field of schema.fields) {
    const value = record[field.localName];
    if (value === undefined) continue;
    if (hasOption(field, personal)) {
      if (field.fieldKind === "list") record[field.localName] = [];
      else if (field.fieldKind === "map") record[field.localName] = {};
      else if (field.fieldKind === "scalar" && typeof value === "string") record[field.localName] = "";
      else delete record[field.localName];
      continue;
    }
    const inner = field.message;
    if (!inner) continue;
    if (field.fieldKind === "list")
      for (const item of value as Message[]) redactPersonal(inner, item as never);
    else if (field.fieldKind === "map")
      for (const item of Object.values(value as Record<string, Message>))
        redactPersonal(inner, item as never);
    else redactPersonal(inner, value as never);
  }
  return message;
}
