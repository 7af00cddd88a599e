import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Keys whose values are personal or card data wherever they appear in a log object. */
const sensitiveKeys = [
  "email",
  "phone",
  "givenName",
  "familyName",
  "given_name",
  "family_name",
  "address",
  "addresses",
  "shipTo",
  "ship_to",
  "billTo",
  "recipient",
  "lines",
  "cardNumber",
  "card_number",
  "pan",
  "cvc",
  "cvv",
  "iban",
  "taxId",
  "tax_id",
  "authorization",
  "password",
  "apiKey",
] as const;

/** Redaction paths: each sensitive key at the top level and up to three objects deep. */
export const redactPaths: string[] = sensitiveKeys.flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
  `*.*.*.${key}`,
]);

const emailPattern = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// 13 to 19 digits, optionally grouped by spaces or dashes: card numbers (PANs).
const cardPattern = /\b(?:\d[ -]?){12,18}\d\b/g;
// International phone numbers written with a leading +.
const phonePattern = /\+\d[\d ()-]{7,}\d/g;

/** Luhn checksum, so GTINs and order numbers of card length are not mistaken for card numbers. */
function passesLuhn(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, "");
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Masks emails, card numbers and phone numbers inside free text (messages, error texts). */
export function scrubText(text: string): string {
  return text
    .replace(emailPattern, "[email]")
    .replace(cardPattern, (match) => (passesLuhn(match) ? "[card]" : match))
    .replace(phonePattern, "[phone]");
}

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

/**
 * The service's root logger: JSON lines, ISO timestamps, service name on every line, personal and
 * card data redacted by key and scrubbed from message and error texts.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.service,
      level: options.level ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
      serializers: {
        err: serializeError,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === "string" ? scrubText(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}

/**
 * An error as a log line carries it: its type, message and stack (scrubbed of personal data), its
 * plain fields (code, error labels) and its cause, and nothing else: a driver's error can hold a whole
 * object graph (a MongoServerSelectionError holds the topology, full of cycles), which would make the
 * line unwritable and the error invisible.
 */
function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return typeof error === "object" ? String(error) : error;
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === "string") plain[key] = scrubText(value);
    else if (typeof value === "number" || typeof value === "boolean") plain[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === "string"))
      plain[key] = value.map(scrubText);
  }
  if ("errorLabelSet" in error && error.errorLabelSet instanceof Set)
    plain.errorLabels = [...error.errorLabelSet];
  return {
    type: error.constructor?.name ?? error.name,
    ...plain,
    message: scrubText(error.message),
    ...(error.stack && { stack: scrubText(error.stack) }),
    ...(error.cause !== undefined && depth < 3 && { cause: serializeError(error.cause, depth + 1) }),
  };
}
