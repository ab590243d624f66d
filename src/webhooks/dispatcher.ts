// The webhook dispatcher: claims due deliveries, sends them, records each attempt.
//
// A claim leases due deliveries to this instance (kept on their endpoint's row: delivery, token,
// until) under an advisory lock that serializes claims and records across instances: each
// delivery is attempted by one instance at a time, and a dead instance's leases run out so
// another takes its work over. The claim also
// keeps each endpoint's limits, counted over every instance: at most `concurrencyPerEndpointMax`
// attempts in flight, none while its circuit breaker is open, one probe when it is half-open.
// The HTTP call happens outside any transaction: nothing waits on the network while holding a
// lock. Attempts that finish close together are recorded together (the attempts, the deliveries'
// next states, the endpoints' breakers; only by the lease's holder), and in the same call the
// room they leave is claimed again: one statement per cycle, not two transactions per attempt.
import pg from "pg";
import { ledgerTypes } from "../db/pg-types.js";
import { endsWhenClosed } from "../db/pool-end.js";
import { errorText, log } from "../ops/log.js";
import {
  webhookAttempts,
  webhookAttemptSeconds,
  webhookBreakersOpen,
  webhookDeliveriesSettled,
  webhookQueueAge,
  webhookQueued,
} from "../ops/metrics.js";
import { nextAttemptOrGiveUp } from "./backoff.js";
import { eventBodies, type BodyCache } from "./bodies.js";
import type { WebhookEventType } from "./events.js";
import { deliveryGlobalId, endpointGlobalId, eventGlobalId } from "./ids.js";
import { openSecret } from "./secret-box.js";
import { connectionPool, sendWebhook, type AttemptResult, type ConnectionPool } from "./sender.js";
import { signatureHeaderName, signPayload } from "./signature.js";
import type { WebhookSettings } from "./settings.js";

const logger = log.child({ component: "webhooks" });

/** How long a scrape waits for the queue's gauges before it answers with the last values. */
const statsWaitMs = 1_000;

/** How long after an attempt finishes the next claim waits for others to finish too. */
const claimGapMs = 5;

/** A delivery as ledger_webhook_claim leases it. */
interface ClaimedRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: WebhookEventType;
  object_id: string | null;
  attempt_count: number;
  horizon_from: Date;
  lease_token: string;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  stored_body: string | null;
}

/** A claimed delivery with the body it is sent with (bodies.ts). */
export type Claimed = ClaimedRow & { body: string };

/** The claimed deliveries with their bodies: stored, made on this instance lately, or made again (one read for the rest). */
export async function withBodies(db: DispatchConnections, claimed: readonly ClaimedRow[], cache: BodyCache): Promise<Claimed[]> {
  if (claimed.length === 0) return [];
  const events = claimed.map((c) => ({ id: c.event_id, type: c.event_type, objectId: c.object_id, storedBody: c.stored_body }));
  const bodies = await eventBodies(db, events, cache);
  return claimed.map((c) => ({ ...c, body: bodies.get(c.event_id)! }));
}

/** Opened secrets by their sealed text (unique per secret: a random IV), so a busy endpoint's is not decrypted per attempt. */
const openedSecrets = new Map<string, string>();
const openedSecretsMax = 1024;

function opened(key: Buffer, sealed: string): string {
  let secret = openedSecrets.get(sealed);
  if (secret === undefined) {
    if (openedSecrets.size >= openedSecretsMax) openedSecrets.clear();
    secret = openSecret(key, sealed);
    openedSecrets.set(sealed, secret);
  }
  return secret;
}

/** The signing secrets of a claimed delivery: the current one, and the previous one during its grace period. */
function secretsOf(claimed: Claimed, key: Buffer, now: Date): string[] {
  const secrets = [opened(key, claimed.secret_sealed)];
  if (claimed.previous_secret_sealed && claimed.previous_secret_expires_at && claimed.previous_secret_expires_at > now) {
    secrets.push(opened(key, claimed.previous_secret_sealed));
  }
  return secrets;
}

export async function attempt(
  claimed: Claimed,
  settings: WebhookSettings,
  key: Buffer,
  connections?: ConnectionPool,
): Promise<AttemptResult> {
  const now = new Date();
  const timestamp = Math.floor(now.getTime() / 1000);
  return sendWebhook(
    {
      url: claimed.url,
      body: claimed.body,
      headers: {
        [signatureHeaderName]: signPayload(secretsOf(claimed, key, now), claimed.body, timestamp),
        "Ledger-Event-Id": eventGlobalId(claimed.event_id),
        "Ledger-Event-Type": claimed.event_type,
        "Ledger-Delivery-Id": deliveryGlobalId(claimed.id),
        "Ledger-Delivery-Attempt": String(claimed.attempt_count),
      },
    },
    settings.send,
    connections,
  );
}

/** An attempt that has finished, to be recorded. */
export interface Finished {
  claimed: Claimed;
  result: AttemptResult;
}

/** ledger_webhook_record's parameters for finished attempts (prisma/sql/webhooks.sql), and the status each moves its delivery to. */
function recordParameters(settings: WebhookSettings, finished: readonly Finished[]): { parameters: unknown[]; statuses: string[] } {
  const now = new Date();
  const next = finished.map(({ claimed, result }) =>
    result.outcome === "SUCCESS" ? null : nextAttemptOrGiveUp(now, claimed.horizon_from, claimed.attempt_count, settings.retry),
  );
  const statuses = finished.map(({ result }, index) =>
    result.outcome === "SUCCESS" ? "DELIVERED" : next[index] === null && result.outcome !== "GONE" ? "FAILED" : "PENDING",
  );
  const parameters = [
    finished.map((f) => f.claimed.id),
    finished.map((f) => f.claimed.lease_token),
    finished.map((f) => f.claimed.endpoint_id),
    finished.map((f) => f.result.outcome),
    finished.map((f) => f.result.statusCode),
    finished.map((f) => Math.round(f.result.durationMs)),
    finished.map((f) => f.result.error),
    statuses,
    next.map((at) => at?.toISOString() ?? null),
    settings.breakerFailuresMax,
    settings.breakerCooldownMs,
  ];
  return { parameters, statuses };
}

/**
 * What the record did: the deliveries it moved (this instance still held their lease), the
 * breakers it opened, and the deliveries it found gone (deleted with their event while in flight).
 */
interface Recorded {
  moved: string[];
  opened: string[];
  gone: string[];
}

/** What became of a finished attempt's delivery: moved to its next state, left (its lease had run out), or deleted. */
type Fate = "moved" | "outlived" | "gone";

function reportRecorded(finished: readonly Finished[], statuses: readonly string[], { moved, opened, gone }: Recorded): void {
  const movedIds = new Set(moved);
  const goneIds = new Set(gone);
  for (const [index, { claimed, result }] of finished.entries()) {
    const fate: Fate = movedIds.has(claimed.id) ? "moved" : goneIds.has(claimed.id) ? "gone" : "outlived";
    reportAttempt(claimed, result, statuses[index]!, fate);
  }
  for (const endpointId of opened) logger.warn({ endpointId: endpointGlobalId(endpointId) }, "webhook endpoint's circuit breaker opened");
}

/**
 * One cycle in one call (ledger_webhook_cycle): records the finished attempts
 * (ledger_webhook_record: a delivery moves on only if this instance still holds its lease), then
 * leases up to `count` due deliveries to this instance. Its first row is the record's outcome,
 * the others the deliveries claimed.
 */
export async function recordAndClaim(
  db: DispatchConnections,
  settings: WebhookSettings,
  finished: readonly Finished[],
  count: number,
): Promise<ClaimedRow[]> {
  const { parameters, statuses } = recordParameters(settings, finished);
  const { rows } = await db.query<Recorded & { [K in keyof ClaimedRow]: ClaimedRow[K] | null }>(
    "SELECT * FROM ledger_webhook_cycle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    [...parameters, settings.leaseMs, settings.concurrencyPerEndpointMax, count],
  );
  const [recorded, ...claimed] = rows;
  reportRecorded(finished, statuses, recorded!);
  return claimed.map(({ moved: _moved, opened: _opened, gone: _gone, ...row }) => row as ClaimedRow);
}

/** An attempt's metrics and log lines, once recorded. */
function reportAttempt(claimed: Claimed, result: AttemptResult, status: string, fate: Fate): void {
  webhookAttempts.inc({ outcome: result.outcome });
  webhookAttemptSeconds.observe(result.durationMs / 1000);
  const context = {
    endpointId: endpointGlobalId(claimed.endpoint_id),
    deliveryId: deliveryGlobalId(claimed.id),
    eventId: eventGlobalId(claimed.event_id),
  };
  const moved = fate === "moved";
  if (fate === "outlived") logger.warn(context, "an attempt finished after its lease ran out; another instance may have sent it again");
  if (fate === "gone")
    logger.info(context, "a webhook delivery was deleted while its attempt was in flight: its event passed the event retention");
  if (result.outcome !== "SUCCESS")
    logger.info({ ...context, outcome: result.outcome, statusCode: result.statusCode, error: result.error }, "webhook attempt failed");
  if (moved && status !== "PENDING") webhookDeliveriesSettled.inc({ status: status.toLowerCase() });
  if (moved && status === "FAILED") logger.warn(context, "webhook delivery failed: retries ran past the horizon");
  if (result.outcome === "GONE") logger.warn({ endpointId: context.endpointId }, "webhook endpoint answered 410 Gone: disabled");
}

/**
 * The queue's gauges: age of the oldest due delivery, pending deliveries, open breakers. Pending
 * ones are those due again (due_at) and each endpoint's new ones after its cursor, read by the
 * claim's indexes (only endpoints with work can have new ones: webhook_endpoint_work).
 */
export async function readQueueStats(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ age: number | null; pending: number; open: number }>(
    `WITH fresh AS (
       SELECT d.created_at FROM (SELECT DISTINCT endpoint_id FROM webhook_endpoint_work) wk
         JOIN webhook_endpoints e ON e.id = wk.endpoint_id
         JOIN webhook_deliveries d ON d.endpoint_id = e.id
          AND ledger_webhook_awaits_cursor(d.seq, d.due_at, d.status, e.deliveries_claimed_through)
     )
     SELECT (SELECT extract(epoch FROM now() - least((SELECT min(due_at) FROM webhook_deliveries WHERE due_at <= now()),
                                                     (SELECT min(created_at) FROM fresh)))::float8) AS age,
            ((SELECT count(*) FROM webhook_deliveries WHERE due_at IS NOT NULL) + (SELECT count(*) FROM fresh))::int AS pending,
            (SELECT count(*)::int FROM webhook_endpoints WHERE status = 'ENABLED' AND breaker_open_until > now()) AS open`,
  );
  const { age, pending, open } = rows[0]!;
  webhookQueueAge.set(age ?? 0);
  webhookQueued.set(pending);
  webhookBreakersOpen.set(open);
}

// ------------------------------------------------------------------ the loop

/**
 * The dispatcher's own connections: claims and records do not wait for the disk
 * (synchronous_commit off for these sessions only). A claim or a record lost in a crash only
 * lets a lease run out, and the delivery is sent again with the same event id: at least once.
 * The ledger's writes, on the service's pool, keep waiting for theirs.
 */
export type DispatchConnections = Pick<pg.Pool, "query">;

export function dispatchConnections(connectionString: string): pg.Pool {
  return new pg.Pool({
    connectionString,
    max: 2,
    application_name: "ledger-webhook-dispatcher",
    options: "-c synchronous_commit=off",
    types: ledgerTypes,
  });
}

export interface Dispatcher {
  /** Claim now (new deliveries, or a test). */
  wake(): void;
  /** Attempts in flight on this instance. */
  inFlight(): number;
  /** Attempts this instance has sent since it started (one per delivery it claimed). */
  attemptsSent(): number;
  /** Reads the queue's gauges (at each scrape of /metrics); a read that fails or takes long leaves the last values. */
  readQueueStats(): Promise<void>;
  /** Stops claiming; waits for the attempts in flight (their outcome is recorded). */
  stop(): Promise<void>;
}

/**
 * `connectionString`: where the dispatcher opens its own connections (dispatchConnections);
 * `bodies`: the bodies of events this instance made lately.
 */
export function startDispatcher(connectionString: string, settings: WebhookSettings, key: Buffer, bodies: BodyCache): Dispatcher {
  const pool = dispatchConnections(connectionString);
  const endPool = endsWhenClosed(pool);
  pool.on("error", (error) => logger.warn({ err: errorText(error) }, "webhook dispatcher connection error"));
  /** Kept-alive HTTP connections to the receivers, this dispatcher's own. */
  const connections = connectionPool();
  /** Attempts claimed and not yet recorded (sending, or finished and waiting for the next cycle). */
  let inFlight = 0;
  const sending = new Set<Promise<void>>();
  let finished: Finished[] = [];
  let stopped = false;
  let cycling: Promise<void> | null = null;
  let again = false;
  let sent = 0;
  const timer = setInterval(() => wake(), settings.pollIntervalMs);
  timer.unref();

  /**
   * One call (one transaction): records the attempts that finished since the last cycle, then
   * claims as many due deliveries as there is room for (none once stopping). A cycle that fails records
   * nothing: those deliveries' leases run out and they are sent again (at least once).
   */
  async function cycle(): Promise<void> {
    const batch = finished;
    finished = [];
    const room = stopped ? 0 : settings.inFlightMax - (inFlight - batch.length);
    if (batch.length === 0 && room <= 0) return;
    let claimed: ClaimedRow[] = [];
    try {
      claimed = await recordAndClaim(pool, settings, batch, Math.max(room, 0));
    } finally {
      inFlight -= batch.length;
    }
    // After the commit: nothing is read while the claim's lock is held. A failure here leaves
    // the leases to run out, and the deliveries are sent later (at least once).
    for (const delivery of await withBodies(pool, claimed, bodies)) send(delivery);
    if (room > 0 && claimed.length === room) again = true;
  }

  function send(delivery: Claimed): void {
    sent++;
    inFlight++;
    const run: Promise<void> = attempt(delivery, settings, key, connections)
      .then((result) => {
        finished.push({ claimed: delivery, result });
      })
      .catch((error: unknown) => {
        inFlight--; // never recorded: its lease runs out
        logger.error({ err: errorText(error), deliveryId: delivery.id }, "a webhook attempt failed unexpectedly");
      })
      .finally(() => {
        sending.delete(run);
        soon();
      });
    sending.add(run);
  }

  /** After an attempt: a cycle shortly, so attempts finishing together are recorded (and replaced) together. */
  let soonTimer: NodeJS.Timeout | null = null;
  function soon(): void {
    if (soonTimer) return;
    soonTimer = setTimeout(() => {
      soonTimer = null;
      run();
    }, claimGapMs);
  }

  function run(): void {
    if (cycling) {
      again = true;
      return;
    }
    again = false;
    cycling = cycle()
      .catch((error: unknown) => logger.warn({ err: errorText(error) }, "recording and claiming webhook deliveries failed"))
      .finally(() => {
        cycling = null;
        if (again || finished.length > 0) run();
      });
  }

  function wake(): void {
    if (!stopped) run();
  }

  return {
    wake,
    inFlight: () => inFlight,
    attemptsSent: () => sent,
    async readQueueStats() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, statsWaitMs);
      });
      await Promise.race([readQueueStats(pool).catch(() => {}), late]);
      clearTimeout(timer);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await cycling;
      // The attempts in flight finish, and their outcomes are recorded.
      while (sending.size > 0) await Promise.all(sending);
      if (soonTimer) clearTimeout(soonTimer);
      soonTimer = null;
      while (finished.length > 0 || cycling) {
        if (!cycling) run();
        await cycling;
      }
      await connections.close();
      await endPool();
    },
  };
}
