// Holds: validate in the pure core, then one round trip to a SQL function that locks, decides
// and writes (prisma/migrations/*_holds_write_path); then read back what the API returns.
import { requestHash } from "../domain/canonical.js";
import { validateCreateHold, validateSettleHold, type CreateHoldRequest, type SettleHoldRequest } from "../domain/hold.js";
import type { Limits } from "../domain/limits.js";
import type { Problem } from "../domain/problems.js";
import { committed } from "../db/commit-signal.js";
import type { Database } from "../db/client.js";
import type { Entry, Hold, TransferWithEntries } from "./records.js";
import { callOperation, legsJson, publicProblem, type OperationJson } from "./write-results.js";

export type HoldOutcome =
  | { ok: true; replay: boolean; hold: Hold; transfer: TransferWithEntries | null; entries: Entry[] }
  | { ok: false; replay: boolean; problem: Problem };

/** The entries that carry each account's balances right after the operation. */
type ResultEntries = "HOLD" | "RELEASE" | "CAPTURE";

async function holdOutcome(db: Database, answer: OperationJson, entriesOf: ResultEntries): Promise<HoldOutcome> {
  if (!answer.ok) return { ok: false, replay: answer.replay, problem: publicProblem(answer.error) };
  const hold = await db.prisma.hold.findUniqueOrThrow({ where: { id: answer.holdId! } });
  const transfer = answer.transferId
    ? await db.prisma.transfer.findUniqueOrThrow({ where: { id: answer.transferId }, include: { entries: { orderBy: { legIndex: "asc" } } } })
    : null;
  const entries = transfer
    ? transfer.entries
    : await db.prisma.entry.findMany({ where: { holdId: hold.id, kind: entriesOf }, orderBy: { legIndex: "asc" } });
  return { ok: true, replay: answer.replay, hold, transfer, entries };
}

export async function createHold(db: Database, tenantId: string, request: CreateHoldRequest, limits: Limits): Promise<HoldOutcome> {
  const checked = validateCreateHold(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const hold = checked.value;
  const item = {
    key: hold.idempotencyKey,
    description: hold.description,
    metadata: hold.metadata,
    legs: legsJson(hold.legs),
    ...("expiresAt" in hold.expiry ? { expiresAt: hold.expiry.expiresAt.toISOString() } : { expiresInMs: hold.expiry.expiresInMs }),
    durationMaxMs: limits.holdDurationMaxSeconds * 1000,
  };
  const answer = await callOperation(db.pool, "ledger_create_hold", tenantId, requestHash("createHold", hold), item);
  return holdOutcome(db, answer, "HOLD");
}

async function settleHold(
  db: Database,
  tenantId: string,
  operation: "captureHold" | "voidHold",
  request: SettleHoldRequest,
  limits: Limits,
): Promise<HoldOutcome> {
  const checked = validateSettleHold(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const settlement = checked.value;
  const item = {
    key: settlement.idempotencyKey,
    operation,
    holdId: settlement.holdId,
    ...(settlement.amountMinor !== null ? { amount: settlement.amountMinor.toString() } : {}),
    description: settlement.description,
    metadata: settlement.metadata,
  };
  const answer = await callOperation(db.pool, "ledger_settle_hold", tenantId, requestHash(operation, settlement), item);
  return holdOutcome(db, answer, operation === "captureHold" ? "CAPTURE" : "RELEASE");
}

export const captureHold = (db: Database, tenantId: string, request: SettleHoldRequest, limits: Limits) =>
  settleHold(db, tenantId, "captureHold", request, limits);

export const voidHold = (db: Database, tenantId: string, request: SettleHoldRequest, limits: Limits) =>
  settleHold(db, tenantId, "voidHold", { idempotencyKey: request.idempotencyKey, holdId: request.holdId }, limits);

/** Releases holds whose expiry has passed, up to `batchSize` per call; returns how many. */
export async function expireHolds(db: Database, batchSize: number): Promise<number> {
  const { rows } = await db.pool.query<{ released: number }>("SELECT ledger_expire_holds($1) AS released", [batchSize]);
  if (rows[0]!.released > 0) committed(db.pool);
  return rows[0]!.released;
}
