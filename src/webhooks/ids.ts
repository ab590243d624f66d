// Public ids of the webhook objects: whep_<uuid> endpoints, whdl_<uuid> deliveries, evt_<uuid>
// events (the id a receiver de-duplicates by). Not Nodes: they are read through webhookEndpoint.
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
