// Idempotency keys of writes made outside the write engine (webhook endpoints, their secrets):
// the engine's table and rule (prisma/sql/engine.sql), so a key is unique per tenant over every
// writing mutation, and the request's fingerprint (operation and canonical request,
// canonical.ts) tells a retry from another request. The caller knows its result before it acts
// (its ids made up front), so a key is claimed with its result in one insert, in the
// transaction that does the work: a refusal or a failure rolls the key back with the work, and
// a concurrent call with the same key waits for that transaction, then replays what it made.
import type pg from "pg";
import { requestHash } from "../domain/canonical.js";
import type { JsonObject } from "./records.js";

export type KeyClaim = { kind: "new" } | { kind: "replay"; result: JsonObject } | { kind: "conflict" };

export async function claimIdempotencyKey(
  client: Pick<pg.ClientBase, "query">,
  claim: { tenantId: string; key: string; operation: string; request: unknown; result: JsonObject },
): Promise<KeyClaim> {
  const hash = Buffer.from(requestHash(claim.operation, claim.request), "hex");
  const { rowCount } = await client.query(
    `INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash, result) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (tenant_id, key) DO NOTHING`,
    [claim.tenantId, claim.key, claim.operation, hash, JSON.stringify(claim.result)],
  );
  if (rowCount === 1) return { kind: "new" };
  // Its own statement (READ COMMITTED: a snapshot of its own), so it sees the row the insert waited for.
  const { rows } = await client.query<{ request_hash: Buffer; result: JsonObject }>(
    "SELECT request_hash, result FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
    [claim.tenantId, claim.key],
  );
  const row = rows[0];
  if (!row) throw new Error(`idempotency key ${claim.key} neither claimed nor found`);
  return row.request_hash.equals(hash) ? { kind: "replay", result: row.result } : { kind: "conflict" };
}
