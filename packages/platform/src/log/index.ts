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

const sensitive = new Set<string>(sensitiveKeys);
const redactionDepth = 6;
const censor = "[redacted]";

const isPlainObject = (value: object) => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/**
 * The log object with the value of every sensitive key replaced, in plain objects and arrays down to
 * six levels: one pass over the keys, copying only the objects on the way to something replaced (the
 * caller's object is never changed). pino's path-based redaction did the same for four levels at
 * about a fifth of a service's CPU per call (packages/platform/bench/rpc-floor.ts).
 */
function redact(value: unknown, depth = 0): unknown {
  if (depth > redactionDepth || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = redact(value[i], depth + 1);
      if (item === value[i]) continue;
      copy ??= [...value];
      copy[i] = item;
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const field = record[key];
    const kept = sensitive.has(key) ? (field === undefined ? field : censor) : redact(field, depth + 1);
    if (kept === field) continue;
    copy ??= { ...record };
    copy[key] = kept;
  }
  return copy ?? value;
}

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
  /**
   * Where lines go (tests pass a stream to read them back). Stdout by default, written asynchronously
   * in writes of 4 KiB or every 250 ms (a synchronous write per line was about a tenth of a service's
   * CPU per RPC); what is buffered is flushed at exit, and only a SIGKILL can lose it.
   */
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
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
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
    options.destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }),
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
