import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeCustomerIdentity } from "./compose.js";
import { loadCustomerConfig } from "./config.js";

const config = loadCustomerConfig();
const logger = createLogger({ service: "customer-identity", level: config.LOG_LEVEL });
try {
  const service = await composeCustomerIdentity(config, logger);
  logger.info({ port: service.port, metricsPort: service.metricsPort }, "customer-identity started");
  exitOnSignals(logger, service.stop);
} catch (error) {
  logger.fatal({ err: error }, "customer-identity could not start");
  process.exit(1);
}
