import { createLogger } from "@retail/platform/log";
import { exitOnSignals } from "@retail/platform/server";
import { composeInventory } from "./compose.js";
import { loadInventoryConfig } from "./config.js";

const config = loadInventoryConfig();
const logger = createLogger({ service: "inventory", level: config.LOG_LEVEL });
try {
  const inventory = await composeInventory(config, logger);
  logger.info({ port: inventory.port, metricsPort: inventory.metricsPort }, "inventory started");
  exitOnSignals(logger, inventory.stop);
} catch (error) {
  logger.fatal({ err: error }, "inventory could not start");
  process.exit(1);
}
