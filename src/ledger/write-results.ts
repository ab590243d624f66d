// What the write-path SQL functions return, turned into the service's records and problems.
import type pg from "pg";
import { committed } from "../db/commit-signal.js";
import type { Side } from "../domain/balance.js";
import { toGlobalId } from "../domain/ids.js";
import type { Leg } from "../domain/transfer.js";
import { withMessage, type Problem } from "../domain/problems.js";
import type { Entry } from "./records.js";
import type { TransferWithEntries } from "./records.js";
import { withRetry } from "./retry.js";

interface EntryJson {
  id: string;
  kind: Entry["kind"];
  accountId: string;
  holdId: string | null;
  legIndex: number;
  direction: Side;
  amount: string;
  accountVersion: string;
  debitsPostedAfter: string;
  creditsPostedAfter: string;
  debitsPendingAfter: string;
  creditsPendingAfter: string;
  createdAt: string;
}

export interface TransferJson {
  id: string;
  seq: string;
  idempotencyKey: string;
  description: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  reversesId: string | null;
  forced: boolean;
  holdId: string | null;
  entries: EntryJson[];
}

/** A rejection as the SQL functions report it: no message, raw uuids. */
export interface ItemError {
  code: string;
  accountRef?: { accountId?: string; accountCode?: string };
  [detail: string]: unknown;
}

export function transferFromJson(tenantId: string, json: TransferJson): TransferWithEntries {
  return {
    id: json.id,
    seq: BigInt(json.seq),
    tenantId,
    idempotencyKey: json.idempotencyKey,
    description: json.description,
    metadata: json.metadata as TransferWithEntries["metadata"],
    createdAt: new Date(json.createdAt),
    reversesId: json.reversesId,
    forced: json.forced,
    holdId: json.holdId,
    entries: json.entries.map((e) => ({
      id: BigInt(e.id),
      tenantId,
      kind: e.kind,
      transferId: json.id,
      holdId: e.holdId,
      accountId: e.accountId,
      legIndex: e.legIndex,
      direction: e.direction,
      amount: BigInt(e.amount),
      accountVersion: BigInt(e.accountVersion),
      debitsPostedAfter: BigInt(e.debitsPostedAfter),
      creditsPostedAfter: BigInt(e.creditsPostedAfter),
      debitsPendingAfter: BigInt(e.debitsPendingAfter),
      creditsPendingAfter: BigInt(e.creditsPendingAfter),
      createdAt: new Date(e.createdAt),
    })),
  };
}

/** Legs as the SQL functions take them: amounts as decimal strings. */
export const legsJson = (legs: Leg[]) =>
  legs.map((leg) => ({ ...leg.account, direction: leg.direction, amount: leg.amountMinor.toString(), currency: leg.currency }));

const globalIdFields = { accountId: "Account", holdId: "Hold", transferId: "Transfer" } as const;

/**
 * A rejection from the database as the API words it: objects by global id (account codes stay
 * as given), instants as dates, with a message.
 */
export function publicProblem(error: ItemError): Problem {
  const { accountRef, ...named } = error;
  for (const [field, type] of Object.entries(globalIdFields)) {
    if (typeof named[field] === "string") named[field] = toGlobalId(type, named[field] as string);
  }
  if (accountRef) named.account = accountRef.accountId ? toGlobalId("Account", accountRef.accountId) : accountRef.accountCode;
  if (named.code === "TransferNotFound" && typeof named.holdId === "string") {
    named.transferId = named.holdId;  // an unknown hold id, echoed as given
    delete named.holdId;
  }
  if (named.code === "NotReversible") {
    named.id = named.holdId ?? named.transferId;
    delete named.holdId;
    delete named.transferId;
  }
  if (typeof named.expiresAt === "string") named.expiresAt = new Date(named.expiresAt);
  return withMessage(named);
}

/** The answer of a single-item write function (createHold, captureHold, voidHold, reverseTransfer). */
export type OperationJson =
  | { ok: true; replay: boolean; holdId?: string; transferId?: string }
  | { ok: false; replay: boolean; error: ItemError };

export async function callOperation(pool: pg.Pool, fn: string, tenantId: string, hash: string, item: unknown): Promise<OperationJson> {
  const { rows } = await withRetry(() =>
    pool.query<{ answer: OperationJson }>(`SELECT ${fn}($1::uuid, $2, $3::jsonb) AS answer`, [tenantId, hash, JSON.stringify(item)]),
  );
  committed(pool);
  return rows[0]!.answer;
}
