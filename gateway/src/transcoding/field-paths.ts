// Field violations as a REST client reads them: the services name fields by their proto paths
// ("view.channel_id", "lines[0].unit_price"); a client sent JSON names ("view.channelId",
// "lines[0].unitPrice"), and for a route whose body is one field of the request, that field's content
// at the top of its body ("quantity", not "movement.quantity"). A path that is not a field path
// ("(body)", "Idempotency-Key", "row 4: price-amount") or whose tail names no field stays as it came.
import { create, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { RequestInvalid, toConnectError } from "@retail/platform/rpc";
import type { HttpBinding } from "./http-rule.js";

const segmentPattern = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]*\])*)$/;

function messageOf(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  if (field.fieldKind === "map" && field.mapKind === "message") return field.message;
  return undefined;
}

/** A violation's field path in the client's spelling, for a request bound as `binding` binds it. */
export function clientFieldPath(binding: HttpBinding, path: string): string {
  const segments = path.split(".");
  const out: string[] = [];
  let message: DescMessage | undefined = binding.method.input;
  for (let i = 0; i < segments.length; i++) {
    const match = segmentPattern.exec(segments[i] ?? "");
    const field = match && message?.fields.find((f) => f.name === match[1] || f.jsonName === match[1]);
    if (!match || !field) {
      out.push(...segments.slice(i));
      break;
    }
    // The body is this field's content: the client never wrote its name.
    if (!(i === 0 && binding.body !== "*" && binding.body === field && segments.length > 1))
      out.push(`${field.jsonName}${match[2]}`);
    message = messageOf(field);
  }
  return out.join(".");
}

/**
 * The error with its BadRequest field violations in the client's spelling; any other error (or one
 * without violations) as it was.
 */
export function inClientSpelling(error: unknown, binding: HttpBinding): unknown {
  if (!(error instanceof ConnectError) && !(error instanceof RequestInvalid)) return error;
  const connect = toConnectError(error);
  if (connect.code !== Code.InvalidArgument) return error;
  const [badRequest] = connect.findDetails(BadRequestSchema);
  if (!badRequest) return error;
  const renamed = create(BadRequestSchema, {
    fieldViolations: badRequest.fieldViolations.map((v) => ({
      ...v,
      field: clientFieldPath(binding, v.field),
    })),
  });
  const others = connect.details.filter(
    (d) => ("desc" in d ? d.desc : { typeName: d.type }).typeName !== BadRequestSchema.typeName,
  );
  // The platform's message lists the violations: said again in the same spelling.
  const message = connect.rawMessage.startsWith("invalid request: ")
    ? `invalid request: ${renamed.fieldViolations.map((v) => `${v.field}: ${v.description}`).join("; ")}`
    : connect.rawMessage;
  const spelled = new ConnectError(
    message,
    connect.code,
    connect.metadata,
    [{ desc: BadRequestSchema, value: renamed }],
    connect.cause,
  );
  spelled.details.unshift(...others);
  return spelled;
}
