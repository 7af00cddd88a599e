export * from "./health.js";
export * from "./lifecycle.js";
export * from "./reflection.js";
export * from "./rpc-server.js";
