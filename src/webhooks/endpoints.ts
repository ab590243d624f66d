// Webhook endpoints, their deliveries and the re-sends: what the API's webhook fields call.
// API keys only (requireApiKey, for reads too). Every refusal is a typed problem and writes
// nothing. Secrets leave only in the answer of the call that made them.
import type pg from "pg";
import type { Database } from "../db/client.js";
import { inTransaction, inTransactionUnlessRefused } from "../db/transaction.js";
import { randomUUID } from "node:crypto";
import { assert } from "../domain/assert.js";
import { checkIdempotencyKey, checkMetadata, checkText } from "../domain/fields.js";
import { fromGlobalId } from "../domain/ids.js";
import type { Limits } from "../domain/limits.js";
import {
  accountNotFound,
  fail,
  idempotencyConflict,
  invalidInput,
  limitExceeded,
  ok,
  withMessage,
  type Problem,
  type Result,
} from "../domain/problems.js";
import { requireApiKey } from "../ledger/authorization.js";
import { claimIdempotencyKey } from "../ledger/idempotency.js";
import type { JsonObject } from "../ledger/records.js";
import { serviceSecret } from "../ledger/service-secrets.js";
import type { Access } from "../domain/access.js";
import { eventBodies } from "./bodies.js";
import type { WebhookEventType } from "./events.js";
import { fromDeliveryGlobalId, fromEndpointGlobalId } from "./ids.js";
import { deriveKey, openSecret, sealSecret } from "./secret-box.js";
import { rotationGraceSecondsMax, type WebhookSettings } from "./settings.js";
import { newWebhookSecret } from "./signature.js";
import { checkWebhookUrl } from "./url-safety.js";

export interface WebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  eventTypes: WebhookEventType[];
  filterAccountId: string | null;
  filterMetadata: JsonObject | null;
  status: "ENABLED" | "DISABLED";
  disabledReason: string | null;
  consecutiveFailures: number;
  breakerOpenUntil: Date | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryStatus = "PENDING" | "DELIVERED" | "FAILED";

export interface WebhookDelivery {
  id: string;
  seq: bigint;
  endpointId: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date;
  createdAt: Date;
  deliveredAt: Date | null;
  failedAt: Date | null;
  event: { id: string; type: WebhookEventType; occurredAt: Date; payload: JsonObject };
}

export interface WebhookAttempt {
  deliveryId: string;
  at: Date;
  outcome: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** What the webhook calls need besides the database and the caller. */
export interface WebhookContext {
  settings: WebhookSettings;
  limits: Limits;
  /** Encrypts signing secrets at rest (webhookKey). */
  key: Buffer;
}

/** The key that encrypts signing secrets: from LEDGER_WEBHOOK_ENCRYPTION_KEY, or made once and kept in the database. */
export async function webhookKey(db: Database, configured: string | null): Promise<Buffer> {
  return configured ? deriveKey(configured) : serviceSecret(db, "webhook_secret_encryption", 32);
}

// ------------------------------------------------------------------ rows

const endpointColumns = `id, tenant_id, url, description, event_types, filter_account_id, filter_metadata, status, disabled_reason,
  consecutive_failures, breaker_open_until, previous_secret_expires_at, created_at, updated_at`;

interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_types: WebhookEventType[];
  filter_account_id: string | null;
  filter_metadata: JsonObject | null;
  status: "ENABLED" | "DISABLED";
  disabled_reason: string | null;
  consecutive_failures: number;
  breaker_open_until: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const endpointFromRow = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  tenantId: row.tenant_id,
  url: row.url,
  description: row.description,
  eventTypes: row.event_types,
  filterAccountId: row.filter_account_id,
  filterMetadata: row.filter_metadata,
  status: row.status,
  disabledReason: row.disabled_reason,
  consecutiveFailures: row.consecutive_failures,
  breakerOpenUntil: row.breaker_open_until,
  previousSecretExpiresAt: row.previous_secret_expires_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const deliveryColumns = `d.id, d.seq::text, d.endpoint_id, d.status, d.attempt_count, d.next_attempt_at, d.created_at, d.delivered_at,
  d.failed_at, ev.id AS event_id, ev.type AS event_type, ev.occurred_at AS event_occurred_at, ev.object_id AS event_object_id,
  ev.payload::text AS event_body`;

interface DeliveryRow {
  id: string;
  seq: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date;
  created_at: Date;
  delivered_at: Date | null;
  failed_at: Date | null;
  event_id: string;
  event_type: WebhookEventType;
  event_occurred_at: Date;
  event_object_id: string | null;
  /** Null: made again from the rows the event reports (bodies.ts). */
  event_body: string | null;
}

/** Deliveries with their events' payloads (one read for the bodies that are not stored). */
async function deliveriesFromRows(db: Database, rows: readonly DeliveryRow[]): Promise<WebhookDelivery[]> {
  const bodies = await eventBodies(
    db.pool,
    rows.map((row) => ({ id: row.event_id, type: row.event_type, objectId: row.event_object_id, storedBody: row.event_body })),
  );
  return rows.map((row) => deliveryFromRow(row, JSON.parse(bodies.get(row.event_id)!) as JsonObject));
}

const deliveryFromRow = (row: DeliveryRow, payload: JsonObject): WebhookDelivery => ({
  id: row.id,
  seq: BigInt(row.seq),
  endpointId: row.endpoint_id,
  status: row.status,
  attemptCount: row.attempt_count,
  nextAttemptAt: row.next_attempt_at,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
  failedAt: row.failed_at,
  event: { id: row.event_id, type: row.event_type, occurredAt: row.event_occurred_at, payload },
});

// ------------------------------------------------------------------ checks

export const endpointNotFound = (endpointId: string): Problem => withMessage({ code: "WebhookEndpointNotFound", endpointId });
export const deliveryNotFound = (deliveryId: string): Problem => withMessage({ code: "WebhookDeliveryNotFound", deliveryId });

export interface EndpointChanges {
  url?: string | null;
  eventTypes?: readonly WebhookEventType[] | null;
  filter?: { accountId?: string | null; metadata?: unknown } | null;
  description?: string | null;
}

interface CheckedChanges {
  url?: string;
  eventTypes?: WebhookEventType[];
  /** Set when the filter is given: null parts match everything. */
  filter?: { accountId: string | null; metadata: JsonObject | null };
  description?: string;
}

async function checkChanges(db: Database, tenantId: string, input: EndpointChanges, ctx: WebhookContext): Promise<Result<CheckedChanges>> {
  const checked: CheckedChanges = {};
  if (input.url != null) {
    const url = checkWebhookUrl(input.url, ctx.settings.allowPrivateUrls);
    if (!url.ok) return fail(invalidInput("url", url.reason, url.message));
    checked.url = url.url.toString();
  }
  if (input.eventTypes != null) {
    if (input.eventTypes.length === 0) return fail(invalidInput("eventTypes", "EMPTY", "name at least one event type"));
    if (new Set(input.eventTypes).size !== input.eventTypes.length) {
      return fail(invalidInput("eventTypes", "EVENT_TYPE_DUPLICATE", "names an event type twice"));
    }
    checked.eventTypes = [...input.eventTypes];
  }
  if (input.filter !== undefined) {
    let accountId: string | null = null;
    let metadata: JsonObject | null = null;
    if (input.filter?.accountId != null) {
      accountId = fromGlobalId("Account", input.filter.accountId);
      const { rowCount } =
        accountId === null
          ? { rowCount: 0 }
          : await db.pool.query("SELECT 1 FROM accounts WHERE id = $1 AND tenant_id = $2", [accountId, tenantId]);
      if (!rowCount) return fail(accountNotFound(input.filter.accountId));
    }
    if (input.filter?.metadata != null) {
      const given = checkMetadata(input.filter.metadata, "filter.metadata", ctx.limits);
      if (!given.ok) return given;
      metadata = Object.keys(given.value).length > 0 ? given.value : null;
    }
    checked.filter = { accountId, metadata };
  }
  if (input.description != null) {
    const description = checkText(input.description, "description", "descriptionLengthMax", ctx.limits, false);
    if (!description.ok) return description;
    checked.description = description.value;
  }
  return ok(checked);
}

// ------------------------------------------------------------------ endpoints

/** A call's idempotency key, checked; undefined when none was given. */
function keyOf(key: string | null | undefined, ctx: WebhookContext): Result<string | undefined> {
  return key == null ? ok(undefined) : checkIdempotencyKey(key, ctx.limits);
}

/** What a key keeps of a call that made a secret: the secret sealed (never in the clear), and where it went. */
interface MadeSecret {
  endpointId: string;
  secretSealed: string;
}

/**
 * Claims the call's key, if it has one, with what the call is about to make (claimIdempotencyKey):
 * null for a call to go ahead, else its answer (the replay of the first call, or a conflict).
 */
async function claimedOrAnswered(
  client: pg.ClientBase,
  access: Access,
  ctx: WebhookContext,
  call: { key: string | undefined; operation: string; request: unknown; made: MadeSecret },
): Promise<Result<{ endpoint: WebhookEndpoint; secret: string; replay: boolean }> | null> {
  if (call.key === undefined) return null;
  const claim = await claimIdempotencyKey(client, {
    tenantId: access.tenantId,
    key: call.key,
    operation: call.operation,
    request: call.request,
    result: { endpointId: call.made.endpointId, secretSealed: call.made.secretSealed },
  });
  if (claim.kind === "new") return null;
  if (claim.kind === "conflict") return fail(idempotencyConflict(call.key));
  const made = claim.result as unknown as MadeSecret;
  const { rows } = await client.query<EndpointRow>(`SELECT ${endpointColumns} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2`, [
    made.endpointId,
    access.tenantId,
  ]);
  assert(rows[0] !== undefined, "an idempotency key's endpoint exists (endpoints are never deleted)");
  return ok({ endpoint: endpointFromRow(rows[0]), secret: openSecret(ctx.key, made.secretSealed), replay: true });
}

export async function createWebhookEndpoint(
  db: Database,
  access: Access,
  ctx: WebhookContext,
  input: EndpointChanges & { url: string; eventTypes: readonly WebhookEventType[]; idempotencyKey?: string | null },
): Promise<Result<{ endpoint: WebhookEndpoint; secret: string; replay: boolean }>> {
  requireApiKey(access, "createWebhookEndpoint");
  const key = keyOf(input.idempotencyKey, ctx);
  if (!key.ok) return key;
  const checked = await checkChanges(db, access.tenantId, { filter: null, ...input }, ctx);
  if (!checked.ok) return checked;
  const { url, eventTypes, filter, description } = checked.value;
  const secret = newWebhookSecret();
  const made = { endpointId: randomUUID(), secretSealed: sealSecret(ctx.key, secret) };
  const max = ctx.limits.webhookEndpointsPerTenantMax;
  // Under the tenant's lock, the insert's count sees every create that came first: two at once
  // cannot both take the limit's last place.
  // A refusal rolls back the key it claimed, so the same call may succeed later.
  return inTransactionUnlessRefused(db.pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1::text))", [access.tenantId]);
    const request = { url, eventTypes, filter: filter ?? null, description: description ?? "" };
    const answered = await claimedOrAnswered(client, access, ctx, { key: key.value, operation: "createWebhookEndpoint", request, made });
    if (answered) return answered;
    const { rows } = await client.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, filter_account_id, filter_metadata, secret_sealed)
       SELECT $9, $1, $2, $3, $4::text[], $5, $6::jsonb, $7 WHERE (SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1) < $8
       RETURNING ${endpointColumns}`,
      [
        access.tenantId,
        url,
        description ?? "",
        eventTypes,
        filter?.accountId ?? null,
        filter?.metadata ? JSON.stringify(filter.metadata) : null,
        made.secretSealed,
        max,
        made.endpointId,
      ],
    );
    if (rows.length === 0) return fail(limitExceeded("webhookEndpointsPerTenantMax", max, "webhook endpoints of the tenant"));
    return ok({ endpoint: endpointFromRow(rows[0]!), secret, replay: false });
  });
}

export async function updateWebhookEndpoint(
  db: Database,
  access: Access,
  ctx: WebhookContext,
  input: EndpointChanges & { id: string; enabled?: boolean | null },
): Promise<Result<WebhookEndpoint>> {
  requireApiKey(access, "updateWebhookEndpoint");
  const id = fromEndpointGlobalId(input.id);
  if (id === null) return fail(endpointNotFound(input.id));
  const checked = await checkChanges(db, access.tenantId, input, ctx);
  if (!checked.ok) return checked;
  const { url, eventTypes, filter, description } = checked.value;
  const { rows } = await db.pool.query<EndpointRow>(
    `UPDATE webhook_endpoints SET
        url = coalesce($3, url), event_types = coalesce($4::text[], event_types), description = coalesce($5, description),
        filter_account_id = CASE WHEN $6 THEN $7::uuid ELSE filter_account_id END,
        filter_metadata = CASE WHEN $6 THEN $8::jsonb ELSE filter_metadata END,
        status = CASE WHEN $9::boolean IS NULL THEN status WHEN $9 THEN 'ENABLED'::"WebhookEndpointStatus" ELSE 'DISABLED'::"WebhookEndpointStatus" END,
        disabled_reason = CASE WHEN $9::boolean IS NULL THEN disabled_reason WHEN $9 THEN NULL ELSE 'DISABLED_BY_USER' END,
        -- Enabling again starts the breaker afresh.
        consecutive_failures = CASE WHEN $9 THEN 0 ELSE consecutive_failures END,
        breaker_open_until = CASE WHEN $9 THEN NULL ELSE breaker_open_until END,
        updated_at = now()
      WHERE id = $1 AND tenant_id = $2
      RETURNING ${endpointColumns}`,
    [
      id,
      access.tenantId,
      url ?? null,
      eventTypes ?? null,
      description ?? null,
      filter !== undefined,
      filter?.accountId ?? null,
      filter?.metadata ? JSON.stringify(filter.metadata) : null,
      input.enabled ?? null,
    ],
  );
  return rows[0] ? ok(endpointFromRow(rows[0])) : fail(endpointNotFound(input.id));
}

export const disableWebhookEndpoint = (db: Database, access: Access, ctx: WebhookContext, id: string) =>
  updateWebhookEndpoint(db, access, ctx, { id, enabled: false });

/**
 * A new signing secret; the one it replaces keeps signing too (a second v1 signature) for the
 * grace period, so receivers can switch without losing a delivery.
 */
export async function rotateWebhookSecret(
  db: Database,
  access: Access,
  ctx: WebhookContext,
  input: { id: string; gracePeriodSeconds?: number | null; idempotencyKey?: string | null },
): Promise<Result<{ endpoint: WebhookEndpoint; secret: string; replay: boolean }>> {
  requireApiKey(access, "rotateWebhookSecret");
  const key = keyOf(input.idempotencyKey, ctx);
  if (!key.ok) return key;
  const id = fromEndpointGlobalId(input.id);
  if (id === null) return fail(endpointNotFound(input.id));
  const grace = input.gracePeriodSeconds ?? ctx.settings.rotationGraceSecondsDefault;
  if (!Number.isInteger(grace) || grace < 0 || grace > rotationGraceSecondsMax) {
    return fail(invalidInput("gracePeriodSeconds", "GRACE_OUT_OF_RANGE", `must be an integer from 0 to ${rotationGraceSecondsMax}`));
  }
  const secret = newWebhookSecret();
  const made = { endpointId: id, secretSealed: sealSecret(ctx.key, secret) };
  return inTransactionUnlessRefused(db.pool, async (client) => {
    const request = { id, gracePeriodSeconds: input.gracePeriodSeconds ?? null };
    const answered = await claimedOrAnswered(client, access, ctx, { key: key.value, operation: "rotateWebhookSecret", request, made });
    if (answered) return answered;
    const { rows } = await client.query<EndpointRow>(
      `UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, secret_sealed = $3,
              previous_secret_expires_at = now() + $4 * interval '1 second', updated_at = now()
        WHERE id = $1 AND tenant_id = $2
        RETURNING ${endpointColumns}`,
      [id, access.tenantId, made.secretSealed, grace],
    );
    if (!rows[0]) return fail(endpointNotFound(input.id));
    return ok({ endpoint: endpointFromRow(rows[0]), secret, replay: false });
  });
}

export async function listWebhookEndpoints(
  db: Database,
  access: Access,
  first: number,
  after: { createdAt: Date; id: string } | null,
): Promise<{ rows: WebhookEndpoint[]; hasNextPage: boolean }> {
  requireApiKey(access, "webhookEndpoints");
  const { rows } = await db.pool.query<EndpointRow>(
    `SELECT ${endpointColumns} FROM webhook_endpoints
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [access.tenantId, after?.createdAt.toISOString() ?? null, after?.id ?? null, first + 1],
  );
  return { rows: rows.slice(0, first).map(endpointFromRow), hasNextPage: rows.length > first };
}

export async function findWebhookEndpoint(db: Database, access: Access, globalId: string): Promise<WebhookEndpoint | null> {
  requireApiKey(access, "webhookEndpoint");
  const id = fromEndpointGlobalId(globalId);
  if (id === null) return null;
  const { rows } = await db.pool.query<EndpointRow>(`SELECT ${endpointColumns} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2`, [
    id,
    access.tenantId,
  ]);
  return rows[0] ? endpointFromRow(rows[0]) : null;
}

// ------------------------------------------------------------------ deliveries

/** An endpoint's deliveries, newest first (`endpoint` as found for the same caller). */
export async function listDeliveries(
  db: Database,
  endpoint: WebhookEndpoint,
  status: DeliveryStatus | null,
  first: number,
  afterSeq: bigint | null,
): Promise<{ rows: WebhookDelivery[]; hasNextPage: boolean }> {
  const { rows } = await db.pool.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
      WHERE d.endpoint_id = $1 AND ($2::"WebhookDeliveryStatus" IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.seq < $3)
      ORDER BY d.seq DESC LIMIT $4`,
    [endpoint.id, status, afterSeq?.toString() ?? null, first + 1],
  );
  return { rows: await deliveriesFromRows(db, rows.slice(0, first)), hasNextPage: rows.length > first };
}

/** An attempt as a delivery's row keeps it (webhook_deliveries.attempts, written by ledger_webhook_record). */
interface StoredAttempt {
  at: string;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** The attempts of several deliveries, oldest first each (one query for a page). */
export async function attemptsOf(db: Database, deliveryIds: readonly string[]): Promise<WebhookAttempt[][]> {
  const { rows } = await db.pool.query<{ id: string; attempts: StoredAttempt[] }>(
    "SELECT id, attempts FROM webhook_deliveries WHERE id = ANY($1::uuid[])",
    [deliveryIds],
  );
  const byDelivery = new Map(
    rows.map((row) => [
      row.id,
      row.attempts.map((stored) => ({
        deliveryId: row.id,
        at: new Date(stored.at),
        outcome: stored.outcome,
        statusCode: stored.status_code,
        durationMs: stored.duration_ms,
        error: stored.error,
      })),
    ]),
  );
  return deliveryIds.map((id) => byDelivery.get(id) ?? []);
}

/** The delivery `d`'s event is still kept (not past its retention: ledger_webhook_prune_events). */
const eventKept = "EXISTS (SELECT 1 FROM webhook_events ev WHERE ev.id = d.event_id)";

/**
 * Sends a delivery again now, with a new retry horizon (a FAILED one becomes PENDING again). One
 * whose event is past its retention is not found (nor listed): there is nothing to send.
 */
export async function retryWebhookDelivery(db: Database, access: Access, globalId: string): Promise<Result<WebhookDelivery>> {
  requireApiKey(access, "retryWebhookDelivery");
  const id = fromDeliveryGlobalId(globalId);
  if (id === null) return fail(deliveryNotFound(globalId));
  // Due now (due_at), unless it is new and not claimed yet: its endpoint's cursor sends it next anyway.
  const { rows } = await db.pool.query<DeliveryRow>(
    `WITH retried AS (
       UPDATE webhook_deliveries d SET status = 'PENDING', next_attempt_at = now(), horizon_from = now(), failed_at = NULL,
              due_at = CASE WHEN ledger_webhook_awaits_cursor(d.seq, d.due_at, d.status,
                                   (SELECT ep.deliveries_claimed_through FROM webhook_endpoints ep WHERE ep.id = d.endpoint_id))
                            THEN NULL ELSE now() END
        WHERE d.id = $1 AND d.tenant_id = $2 AND d.status <> 'DELIVERED' AND ${eventKept}
       RETURNING d.*
     ), work AS (
       SELECT ledger_webhook_work_from(array_agg(endpoint_id), array_agg(now())) FROM retried
     )
     SELECT ${deliveryColumns} FROM retried d JOIN webhook_events ev ON ev.id = d.event_id, work`,
    [id, access.tenantId],
  );
  if (rows[0]) return ok((await deliveriesFromRows(db, rows))[0]!);
  // Delivered already: a new delivery of the same event, so a receiver that lost it gets it again.
  const again = await insertingDeliveries(db, (client) =>
    client.query<DeliveryRow>(
      `WITH made AS (
         INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id)
         SELECT ledger_uuidv7(), d.tenant_id, d.endpoint_id, d.event_id FROM webhook_deliveries d
          WHERE d.id = $1 AND d.tenant_id = $2 AND ${eventKept}
         RETURNING *
       ), work AS (
         SELECT ledger_webhook_work_from(array_agg(endpoint_id), array_agg(now())) FROM made
       )
       SELECT ${deliveryColumns} FROM made d JOIN webhook_events ev ON ev.id = d.event_id, work`,
      [id, access.tenantId],
    ),
  );
  return again.rows[0] ? ok((await deliveriesFromRows(db, again.rows))[0]!) : fail(deliveryNotFound(globalId));
}

/** New deliveries are inserted under ledger_webhook_deliveries_lock (prisma/sql/webhooks.sql: why). */
function insertingDeliveries<T>(db: Database, insert: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(db.pool, async (client) => {
    await client.query("SELECT ledger_webhook_deliveries_lock()");
    return insert(client);
  });
}

/**
 * New deliveries to the endpoint of the tenant's events that occurred in [from, to) and that it
 * takes now (its event types and filter: ledger_webhook_matches), oldest first; at most
 * webhookReplayEventsMax. Events exist from when the tenant first had an enabled endpoint.
 */
export async function replayWebhookEvents(
  db: Database,
  access: Access,
  ctx: WebhookContext,
  input: { endpointId: string; from: Date; to: Date },
): Promise<Result<{ endpoint: WebhookEndpoint; deliveries: number }>> {
  requireApiKey(access, "replayWebhookEvents");
  if (input.to <= input.from) return fail(invalidInput("to", "RANGE_INVERTED", "must be later than from"));
  const endpoint = await findWebhookEndpoint(db, access, input.endpointId);
  if (!endpoint) return fail(endpointNotFound(input.endpointId));
  const max = ctx.limits.webhookReplayEventsMax;
  const { rows } = await insertingDeliveries(db, (client) =>
    client.query<{ matched: string; made: string }>(
      `WITH matched AS (
       SELECT ev.id, ev.seq FROM webhook_events ev JOIN webhook_endpoints ep ON ep.id = $1
        WHERE ev.tenant_id = $2 AND ev.occurred_at >= $3 AND ev.occurred_at < $4
          AND ledger_webhook_matches(ep.event_types, ep.filter_account_id, ep.filter_metadata, ev.type, ev.account_ids, ev.metadata)
        ORDER BY ev.seq LIMIT $5 + 1
     ), made AS (
       INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id)
       SELECT ledger_uuidv7(), $2, $1, id FROM matched WHERE (SELECT count(*) FROM matched) <= $5 ORDER BY seq
       RETURNING endpoint_id
     ), work AS (
       SELECT count(*) AS made, ledger_webhook_work_from(array_agg(endpoint_id), array_agg(now())) FROM made
     )
     SELECT (SELECT count(*) FROM matched)::text AS matched, made::text FROM work`,
      [endpoint.id, access.tenantId, input.from.toISOString(), input.to.toISOString(), max],
    ),
  );
  if (Number(rows[0]!.matched) > max) return fail(limitExceeded("webhookReplayEventsMax", max, "events in the replayed range"));
  return ok({ endpoint, deliveries: Number(rows[0]!.made) });
}
