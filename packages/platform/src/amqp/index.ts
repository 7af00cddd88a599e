export * from "./cloudevents.js";
export * from "./connection.js";
export * from "./consumer.js";
export * from "./erasure.js";
export * from "./publisher.js";
export * from "./replay.js";
export * from "./rewrite-waiting.js";
export * from "./topology.js";
