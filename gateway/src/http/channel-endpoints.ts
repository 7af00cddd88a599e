import { imports } from "./imports.js";
import type { ChannelEndpoint } from "./inbound.js";
import { webhooks } from "./webhooks.js";

/** Every channel endpoint (webhooks and file imports) by path. */
export const channelEndpoints: ReadonlyMap<string, ChannelEndpoint> = new Map([...webhooks, ...imports]);
