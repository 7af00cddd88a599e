export * from "./errors.js";
export * from "./events.js";
export * from "./inbox.js";
export * from "./keyed-lock.js";
export * from "./mongo.js";
export * from "./outbox-relay.js";
export * from "./page-cursor.js";
export * from "./stream-store.js";
