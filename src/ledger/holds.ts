// Holds: validate in the pure core, then the write engine, which reserves, captures, voids and
// releases expired holds under the locks of their accounts (prisma/sql/engine.sql).
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import { committed } from "../db/commit-signal.js";
import { validateCreateHold, validateSettleHold, type CreateHoldRequest, type SettleHoldRequest } from "../domain/hold.js";
import type { Limits } from "../domain/limits.js";
import type { Problem } from "../domain/problems.js";
import { accountsNamedBy, authorizeWrite } from "./authorization.js";
import { command, execute, legsOf, notesOf } from "./engine.js";
import type { Entry, Hold, TransferWithEntries } from "./records.js";

export type HoldOutcome =
  | { ok: true; replay: boolean; hold: Hold; transfer: TransferWithEntries | null; entries: Entry[] }
  | { ok: false; replay: boolean; problem: Problem };

async function holdOutcome(db: Database, commands: Parameters<typeof execute>[1]): Promise<HoldOutcome> {
  const [result] = await execute(db, commands, false);
  if (!result!.ok) return result!;
  const { replay, hold, transfer, entries } = result!.done;
  return { ok: true, replay, hold: hold!, transfer, entries };
}

export async function createHold(db: Database, access: Access, request: CreateHoldRequest, limits: Limits): Promise<HoldOutcome> {
  await authorizeWrite(db, access, "createHold", { accounts: accountsNamedBy([request]) });
  const checked = validateCreateHold(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const hold = checked.value;
  return holdOutcome(db, [
    command("createHold", access.tenantId, hold.idempotencyKey, hold, {
      ...notesOf(hold),
      legs: legsOf(hold.legs),
      ...("expiresAt" in hold.expiry ? { expiresAt: hold.expiry.expiresAt.toISOString() } : { expiresInMs: hold.expiry.expiresInMs }),
      durationMaxMs: limits.holdDurationMaxSeconds * 1000,
    }),
  ]);
}

async function settleHold(
  db: Database,
  access: Access,
  operation: "captureHold" | "voidHold",
  request: SettleHoldRequest,
  limits: Limits,
): Promise<HoldOutcome> {
  await authorizeWrite(db, access, operation, { hold: request.holdId });
  const checked = validateSettleHold(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const settlement = checked.value;
  return holdOutcome(db, [
    command(operation, access.tenantId, settlement.idempotencyKey, settlement, {
      holdId: settlement.holdId,
      amount: settlement.amountMinor?.toString() ?? null,
      ...notesOf(settlement),
    }),
  ]);
}

export const captureHold = (db: Database, access: Access, request: SettleHoldRequest, limits: Limits) =>
  settleHold(db, access, "captureHold", request, limits);

export const voidHold = (db: Database, access: Access, request: SettleHoldRequest, limits: Limits) =>
  settleHold(db, access, "voidHold", { idempotencyKey: request.idempotencyKey, holdId: request.holdId }, limits);

/** Releases holds whose expiry has passed, up to `batchSize` per call; returns how many. */
export async function expireHolds(db: Database, batchSize: number): Promise<number> {
  const { rows } = await db.pool.query<{ released: number }>("SELECT ledger_expire_holds($1) AS released", [batchSize]);
  if (rows[0]!.released > 0) committed(db.pool);
  return rows[0]!.released;
}
