// Public ids of the webhook objects: whep_<uuid> endpoints, whdl_<uuid> deliveries, evt_<uuid>
// events (the id a receiver de-duplicates by). Not Nodes: they are read through webhookEndpoint.
import { randomUUID } from "node:crypto";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const idOf = (prefix: string) => ({
  to: (raw: string) => prefix + raw,
  from: (globalId: string): string | null =>
    globalId.startsWith(prefix) && uuidPattern.test(globalId.slice(prefix.length)) ? globalId.slice(prefix.length) : null,
});

const endpointIds = idOf("whep_");
const deliveryIds = idOf("whdl_");
const eventIds = idOf("evt_");

export const endpointGlobalId = endpointIds.to;
export const fromEndpointGlobalId = endpointIds.from;
export const deliveryGlobalId = deliveryIds.to;
export const fromDeliveryGlobalId = deliveryIds.from;
export const eventGlobalId = eventIds.to;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits (a v4's, version set to 7).
 * Event ids made in time order land at the right edge of their index, not on a random page.
 */
export function uuidv7(nowMs = Date.now()): string {
  const time = nowMs.toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
