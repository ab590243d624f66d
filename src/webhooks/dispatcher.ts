// The webhook dispatcher: claims due deliveries, sends them, records each attempt.
//
// A claim is one short transaction, serialized across instances by an advisory lock, that
// leases due deliveries to this instance (lease_until, lease_token): each delivery is attempted
// by one instance at a time, and a dead instance's leases run out so another takes its work over.
// The claim also keeps each endpoint's limits, counted over every instance: at most
// `concurrencyPerEndpointMax` attempts in flight, none while its circuit breaker is open, one
// probe when it is half-open. The HTTP call happens outside any transaction: nothing waits on the
// network while holding a lock. Its outcome is recorded in one statement (the attempt, the
// delivery's next state, the endpoint's breaker), and only by the lease's holder.
import pg from "pg";
import { ledgerTypes } from "../db/pg-types.js";
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
import { deliveryGlobalId, endpointGlobalId, eventGlobalId } from "./ids.js";
import { openSecret } from "./secret-box.js";
import { sendWebhook, type AttemptResult } from "./sender.js";
import { signatureHeaderName, signPayload } from "./signature.js";
import type { WebhookSettings } from "./settings.js";

const logger = log.child({ component: "webhooks" });

const statsIntervalMs = 5_000;

/** How long after an attempt finishes the next claim waits for others to finish too. */
const claimGapMs = 5;

interface Claimed {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  attempt_count: number;
  horizon_from: Date;
  lease_token: string;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  body: string;
}

/** Leases up to `count` due deliveries to this instance (ledger_webhook_claim, prisma/sql/webhooks.sql): one round trip. */
export async function claimDeliveries(db: DispatchConnections, settings: WebhookSettings, count: number): Promise<Claimed[]> {
  const { rows } = await db.query<Claimed>("SELECT * FROM ledger_webhook_claim($1, $2, $3, $4)", [
    settings.leaseMs,
    settings.breakerFailuresMax,
    settings.concurrencyPerEndpointMax,
    count,
  ]);
  return rows;
}

/** The signing secrets of a claimed delivery: the current one, and the previous one during its grace period. */
function secretsOf(claimed: Claimed, key: Buffer, now: Date): string[] {
  const secrets = [openSecret(key, claimed.secret_sealed)];
  if (claimed.previous_secret_sealed && claimed.previous_secret_expires_at && claimed.previous_secret_expires_at > now) {
    secrets.push(openSecret(key, claimed.previous_secret_sealed));
  }
  return secrets;
}

export async function attempt(claimed: Claimed, settings: WebhookSettings, key: Buffer): Promise<AttemptResult> {
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
  );
}

/** Records an attempt; the delivery moves on only if this instance still holds its lease. */
export async function recordAttempt(
  db: DispatchConnections,
  settings: WebhookSettings,
  claimed: Claimed,
  result: AttemptResult,
): Promise<void> {
  const success = result.outcome === "SUCCESS";
  const gone = result.outcome === "GONE";
  const next = success ? null : nextAttemptOrGiveUp(new Date(), claimed.horizon_from, claimed.attempt_count, settings.retry);
  const status = success ? "DELIVERED" : next === null && !gone ? "FAILED" : "PENDING";
  const { rows } = await db.query<{ moved: boolean; opened: boolean }>(
    `WITH attempt AS (
       INSERT INTO webhook_attempts (delivery_id, at, outcome, status_code, duration_ms, error)
       VALUES ($1, now() - $6 * interval '1 millisecond', $3, $4, $6, $5)
     ), delivery AS (
       UPDATE webhook_deliveries
          SET status = $7::"WebhookDeliveryStatus", next_attempt_at = coalesce($8::timestamptz, now()),
              lease_until = NULL, lease_token = NULL,
              delivered_at = CASE WHEN $7 = 'DELIVERED' THEN now() END, failed_at = CASE WHEN $7 = 'FAILED' THEN now() END
        WHERE id = $1 AND lease_token = $2
       RETURNING 1
     ), endpoint AS (
       UPDATE webhook_endpoints ep
          SET consecutive_failures = CASE WHEN $9 THEN 0 ELSE ep.consecutive_failures + 1 END,
              breaker_open_until = CASE WHEN $9 THEN NULL
                                        WHEN ep.consecutive_failures + 1 >= $11 THEN now() + $12 * interval '1 millisecond'
                                        ELSE ep.breaker_open_until END,
              status = CASE WHEN $10 THEN 'DISABLED'::"WebhookEndpointStatus" ELSE ep.status END,
              disabled_reason = CASE WHEN $10 THEN 'GONE' ELSE ep.disabled_reason END,
              updated_at = now()
        -- A success on a closed breaker changes nothing: the endpoint's row is left alone (no lock
        -- queue behind it for the attempts in flight).
        WHERE ep.id = $13 AND NOT ($9 AND ep.consecutive_failures = 0 AND ep.breaker_open_until IS NULL)
       RETURNING NOT $9 AND ep.consecutive_failures = $11 AS opened
     )
     SELECT EXISTS (SELECT 1 FROM delivery) AS moved, coalesce((SELECT opened FROM endpoint), false) AS opened`,
    [
      claimed.id,
      claimed.lease_token,
      result.outcome,
      result.statusCode,
      result.error,
      Math.round(result.durationMs),
      status,
      next?.toISOString() ?? null,
      success,
      gone,
      settings.breakerFailuresMax,
      settings.breakerCooldownMs,
      claimed.endpoint_id,
    ],
  );
  webhookAttempts.inc({ outcome: result.outcome });
  webhookAttemptSeconds.observe(result.durationMs / 1000);
  const { moved, opened } = rows[0]!;
  const context = {
    endpointId: endpointGlobalId(claimed.endpoint_id),
    deliveryId: deliveryGlobalId(claimed.id),
    eventId: eventGlobalId(claimed.event_id),
  };
  if (!moved) logger.warn(context, "an attempt finished after its lease ran out; another instance may have sent it again");
  if (!success)
    logger.info({ ...context, outcome: result.outcome, statusCode: result.statusCode, error: result.error }, "webhook attempt failed");
  if (moved && status !== "PENDING") webhookDeliveriesSettled.inc({ status: status.toLowerCase() });
  if (moved && status === "FAILED") logger.warn(context, "webhook delivery failed: retries ran past the horizon");
  if (opened) logger.warn({ endpointId: context.endpointId }, "webhook endpoint's circuit breaker opened");
  if (gone) logger.warn({ endpointId: context.endpointId }, "webhook endpoint answered 410 Gone: disabled");
}

/** The queue's gauges: age of the oldest due delivery, pending deliveries, open breakers. */
export async function readQueueStats(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ age: number | null; pending: number; open: number }>(
    `SELECT (SELECT extract(epoch FROM now() - min(next_attempt_at))::float8 FROM webhook_deliveries
              WHERE status = 'PENDING' AND next_attempt_at <= now()) AS age,
            (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'PENDING') AS pending,
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
  /** Stops claiming; waits for the attempts in flight (their outcome is recorded). */
  stop(): Promise<void>;
}

/** `connectionString`: where the dispatcher opens its own connections (dispatchConnections). */
export function startDispatcher(connectionString: string, settings: WebhookSettings, key: Buffer): Dispatcher {
  const pool = dispatchConnections(connectionString);
  pool.on("error", (error) => logger.warn({ err: errorText(error) }, "webhook dispatcher connection error"));
  const flying = new Set<Promise<void>>();
  let stopped = false;
  let claiming: Promise<void> | null = null;
  let again = false;
  let sent = 0;
  const timer = setInterval(() => wake(), settings.pollIntervalMs);
  timer.unref();
  const statsTimer = setInterval(() => {
    readQueueStats(pool).catch(() => {}); // gauges only: a failed read leaves the last values
  }, statsIntervalMs);
  statsTimer.unref();

  async function claimRound(): Promise<void> {
    const room = settings.inFlightMax - flying.size;
    if (room <= 0) return;
    const claimed = await claimDeliveries(pool, settings, room);
    for (const delivery of claimed) {
      sent++;
      const run: Promise<void> = attempt(delivery, settings, key)
        .then((result) => recordAttempt(pool, settings, delivery, result))
        .catch((error: unknown) => logger.error({ err: errorText(error), deliveryId: delivery.id }, "recording a webhook attempt failed"))
        .finally(() => {
          flying.delete(run);
          soon();
        });
      flying.add(run);
    }
    if (claimed.length === room) again = true;
  }

  /** After an attempt: claim again shortly, so attempts finishing together share one claim. */
  let soonTimer: NodeJS.Timeout | null = null;
  function soon(): void {
    if (soonTimer || stopped) return;
    soonTimer = setTimeout(() => {
      soonTimer = null;
      wake();
    }, claimGapMs);
  }

  function wake(): void {
    if (stopped) return;
    if (claiming) {
      again = true;
      return;
    }
    again = false;
    claiming = claimRound()
      .catch((error: unknown) => logger.warn({ err: errorText(error) }, "claiming webhook deliveries failed"))
      .finally(() => {
        claiming = null;
        if (again) wake();
      });
  }

  return {
    wake,
    inFlight: () => flying.size,
    attemptsSent: () => sent,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(statsTimer);
      if (soonTimer) clearTimeout(soonTimer);
      await claiming;
      await Promise.all(flying);
      await pool.end();
    },
  };
}
