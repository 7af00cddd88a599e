import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeFinance } from "./compose.js";
import { loadFinanceConfig } from "./config.js";

const config = loadFinanceConfig();
const logger = createLogger({ service: "finance-posting", level: config.LOG_LEVEL });
try {
  const service = await composeFinance(config, logger);
  logger.info({ port: service.port, metricsPort: service.metricsPort }, "finance-posting started");
  exitOnSignals(logger, service.stop);
} catch (error) {
  logger.fatal({ err: error }, "finance-posting could not start");
  process.exit(1);
}
