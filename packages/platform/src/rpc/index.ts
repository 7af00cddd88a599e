export * from "./client.js";
export * from "./context.js";
export * from "./error-mapping.js";
export * from "./errors.js";
export * from "./peer-auth.js";
export * from "./server-interceptor.js";
export * from "./text-rules.js";
