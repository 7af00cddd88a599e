import { describe, expect, it } from "vitest";
import { createMetrics, startMetricsServer } from "./index.js";

describe("metrics endpoint", () => {
  it("serves the service's metrics in the Prometheus text format on its own port", async () => {
    const metrics = createMetrics("inventory");
    metrics.rpcRequests.inc({ method: "retail.inventory.v1.InventoryService/ReserveStock", code: "ok" });
    metrics.outboxBacklog.set(3);
    const server = await startMetricsServer(metrics.registry, 0, "127.0.0.1");
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      const text = await response.text();
      expect(text).toContain(
        'rpc_server_requests_total{method="retail.inventory.v1.InventoryService/ReserveStock",code="ok",service="inventory"} 1',
      );
      expect(text).toContain('outbox_backlog_events{service="inventory"} 3');
      expect(text).toContain("process_cpu_seconds_total");
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
