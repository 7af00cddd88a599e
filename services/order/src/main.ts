import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeOrder } from "./compose.js";
import { loadOrderConfig } from "./config.js";

const config = loadOrderConfig();
const logger = createLogger({ service: "order", level: config.LOG_LEVEL });
try {
  const service = await composeOrder(config, logger);
  logger.info({ port: service.port, metricsPort: service.metricsPort }, "order started");
  exitOnSignals(logger, service.stop);
} catch (error) {
  logger.fatal({ err: error }, "order could not start");
  process.exit(1);
}
