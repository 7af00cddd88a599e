import { RequestInvalid } from "@retail/platform/rpc";
/** The field violations a channel mapping refuses a call with, as "field: description" texts. */
export function violations(call) {
  try {
    call();
  } catch (error) {
    if (error instanceof RequestInvalid) return error.violations.map((v) => `${v.field}: ${v.description}`);
    throw error;
  }
  throw new Error("the call was not refused");
}
//# sourceMappingURL=refusals.js.map
