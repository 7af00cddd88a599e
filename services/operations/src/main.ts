import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeOperations } from "./compose.js";
import { loadOperationsConfig } from "./config.js";

const config = loadOperationsConfig();
const logger = createLogger({ service: "operations", level: config.LOG_LEVEL });
try {
  const service = await composeOperations(config, logger);
  logger.info({ port: service.port, metricsPort: service.metricsPort }, "operations started");
  exitOnSignals(logger, service.stop);
} catch (error) {
  logger.fatal({ err: error }, "operations could not start");
  process.exit(1);
}
