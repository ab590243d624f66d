// The bodies events are sent with. account.created's is stored with the event; the others are
// made again from the immutable rows they report (changes.ts, then eventsOf), so the
// materializer writes no payload per transfer. Made again, a body is the one first made, byte
// for byte, so a retry, another instance or a restart signs and sends the same text. The
// instance that made an event keeps its body for a while (BodyCache), so a delivery sent soon
// after its change reads nothing to send it.
import type pg from "pg";
import { entriesSelect, readChanges, type ChangedEntryRow } from "./changes.js";
import { bodyOf, eventsOf, type WebhookEventType } from "./events.js";

/** An event to send: its stored body, or what it is made again from. */
export interface EventToSend {
  id: string;
  type: WebhookEventType;
  /** The transfer (transfer.posted, hold.captured) or hold (other hold events) it reports. */
  objectId: string | null;
  storedBody: string | null;
}

/** Bodies of events made recently on this instance, by event id; the oldest go first. */
export interface BodyCache {
  get(eventId: string): string | undefined;
  set(eventId: string, body: string): void;
}

export function bodyCache(sizeMax: number): BodyCache {
  const bodies = new Map<string, string>();
  return {
    get: (eventId) => bodies.get(eventId),
    set(eventId, body) {
      if (bodies.has(eventId)) return;
      bodies.set(eventId, body);
      if (bodies.size > sizeMax) bodies.delete(bodies.keys().next().value!);
    },
  };
}

const reportsTransfer = (type: WebhookEventType) => type === "transfer.posted" || type === "hold.captured";

/** The body of each event, by id (one statement for those neither stored nor cached, plus their transfers' and holds'). */
export async function eventBodies(
  client: Pick<pg.ClientBase, "query">,
  events: readonly EventToSend[],
  cache?: BodyCache,
): Promise<Map<string, string>> {
  const bodies = new Map<string, string>();
  const missing: EventToSend[] = [];
  for (const event of events) {
    const body = event.storedBody ?? cache?.get(event.id);
    if (body !== undefined) bodies.set(event.id, body);
    else missing.push(event);
  }
  if (missing.length === 0) return bodies;
  const objectIdsOf = (transfers: boolean) => [
    ...new Set(missing.filter((e) => reportsTransfer(e.type) === transfers).map((e) => objectIdOf(e))),
  ];
  // A transfer's entries make its events; a hold's own entries (reservation, release) its others.
  // Prepared once per connection (as readChanges' statements).
  const { rows } = await client.query<ChangedEntryRow>({
    name: "webhook-bodies-entries",
    text: `${entriesSelect} WHERE e.transfer_id = ANY($1::uuid[]) OR (e.hold_id = ANY($2::uuid[]) AND e.transfer_id IS NULL)
      ORDER BY e.tx_id, e.id`,
    values: [objectIdsOf(true), objectIdsOf(false)],
  });
  const wanted = new Set(missing.map((e) => e.id));
  for (const made of eventsOf(await readChanges(client, rows, []))) {
    if (!wanted.has(made.id)) continue;
    const body = bodyOf(made);
    bodies.set(made.id, body);
    cache?.set(made.id, body);
  }
  const lost = missing.find((e) => !bodies.has(e.id));
  if (lost) throw new Error(`webhook event ${lost.id} (${lost.type}) could not be made again from the ledger's rows`);
  return bodies;
}

function objectIdOf(event: EventToSend): string {
  if (event.objectId === null) throw new Error(`webhook event ${event.id} has neither a stored body nor an object to make it from`);
  return event.objectId;
}
