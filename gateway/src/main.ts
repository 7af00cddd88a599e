import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeGateway } from "./compose.js";
import { loadGatewayConfig } from "./config.js";

const config = loadGatewayConfig();
const logger = createLogger({ service: "gateway", level: config.LOG_LEVEL });
try {
  const gateway = await composeGateway(config, logger);
  logger.info({ port: gateway.port, metricsPort: gateway.metricsPort }, "gateway started");
  exitOnSignals(logger, gateway.stop);
} catch (error) {
  logger.fatal({ err: error }, "gateway could not start");
  process.exit(1);
}
