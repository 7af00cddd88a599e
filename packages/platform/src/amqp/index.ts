export * from "./cloudevents.js";
export * from "./connection.js";
export * from "./consumer.js";
export * from "./publisher.js";
export * from "./replay.js";
export * from "./topology.js";
