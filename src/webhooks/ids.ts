// Public ids of the webhook objects: whep_<uuid> endpoints, whdl_<uuid> deliveries, evt_<uuid>
// events (the id a receiver de-duplicates by). Not Nodes: they are read through webhookEndpoint.
import { createHash } from "node:crypto";

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
 * An event's id: a function of the change it reports (its type and the id of the object that
 * changed: the transfer, hold or account), shaped as a UUIDv7 of the change's time so that ids
 * still land in time order. Made again from the same change (a materializer pass that a crash of
 * PostgreSQL undid, see materializer.ts), an event keeps its id, so a receiver that had it
 * de-duplicates it.
 */
export function eventIdOf(type: string, objectId: string, occurredAt: Date): string {
  const time = occurredAt.getTime().toString(16).padStart(12, "0");
  const hash = createHash("sha256").update(`${type}:${objectId}`).digest("hex");
  const variant = (8 | (Number.parseInt(hash[3]!, 16) & 3)).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${hash.slice(0, 3)}-${variant}${hash.slice(4, 7)}-${hash.slice(7, 19)}`;
}
