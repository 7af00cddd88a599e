import { AdminService } from "@retail/contracts/retail/admin/v1/admin_service_pb";
import { createServiceClient, type ServiceKeyring } from "@retail/platform/rpc";
import type { AdminTargets } from "../../app/ports.js";

/**
 * The services' admin RPCs, one client each, signed as operations. The operator's identity (the
 * gateway's caller) goes along as the caller, so a service's audit record names who asked.
 */
export function createAdminTargets(
  urls: Readonly<Record<string, string | undefined>>,
  options: { keys: ServiceKeyring | undefined; timeoutMs: number },
): AdminTargets & {
  /** Adds a target once its address is known (operations' own, after it listens). */
  add(service: string, baseUrl: string): void;
} {
  const clientFor = (baseUrl: string) =>
    createServiceClient(AdminService, {
      baseUrl,
      timeoutMs: options.timeoutMs,
      peerAuth: { keys: options.keys, service: "operations" },
    });
  const clients = new Map(
    Object.entries(urls)
      .filter((entry): entry is [string, string] => Boolean(entry[1]))
      .map(([service, baseUrl]) => [service, clientFor(baseUrl)]),
  );
  const clientOf = (service: string) => {
    const client = clients.get(service);
    if (!client) throw new Error(`no admin target ${service}`);
    return client;
  };
  return {
    add: (service, baseUrl) => clients.set(service, clientFor(baseUrl)),
    names: () => [...clients.keys()],
    async listParked(service, request) {
      const { messages, parked } = await clientOf(service).listParkedMessages(request);
      return { messages, parked };
    },
    async republish(service, request) {
      const { events, repeatedRequest } = await clientOf(service).republishAggregate(request);
      return { events, repeatedRequest };
    },
    status: (service) => clientOf(service).getStatus({}),
    async rebuildReadModel(service, request) {
      const { repeatedRequest } = await clientOf(service).rebuildReadModel(request);
      return { repeatedRequest };
    },
    async replayParked(service, request) {
      const { replayed, kept, repeatedRequest } = await clientOf(service).replayParkedMessages(request);
      return { replayed, kept, repeatedRequest };
    },
  };
}
