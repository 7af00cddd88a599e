import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeDelivery } from "./compose.js";
import { loadDeliveryConfig } from "./config.js";

const config = loadDeliveryConfig();
const logger = createLogger({ service: "delivery", level: config.LOG_LEVEL });
try {
  const service = await composeDelivery(config, logger);
  logger.info({ port: service.port, metricsPort: service.metricsPort }, "delivery started");
  exitOnSignals(logger, service.stop);
} catch (error) {
  logger.fatal({ err: error }, "delivery could not start");
  process.exit(1);
}
