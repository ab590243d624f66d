// The posting path: validate in the pure core, then one round trip to ledger_post_transfers,
// which locks, checks and writes inside one transaction.
import type pg from "pg";
import { assert } from "../domain/assert.js";
import type { Side } from "../domain/balance.js";
import { requestHash } from "../domain/canonical.js";
import type { Limits } from "../domain/limits.js";
import { toGlobalId } from "../domain/ids.js";
import { invalidInput, limitExceeded, withMessage, type Problem } from "../domain/problems.js";
import { validateTransfer, type Transfer, type TransferRequest } from "../domain/transfer.js";
import type { TransferWithEntries } from "./records.js";
import { withRetry } from "./retry.js";

/** Both mutations share it, so a transfer retried through either is recognised. */
export const postTransferOperation = "postTransfer";

export type PostOutcome =
  | { ok: true; replay: boolean; transfer: TransferWithEntries }
  | { ok: false; replay: boolean; problem: Problem };

export type BatchOutcome = { ok: true; outcomes: PostOutcome[] } | { ok: false; problem: Problem };

interface EntryJson {
  id: string;
  accountId: string;
  legIndex: number;
  direction: Side;
  amount: string;
  accountVersion: string;
  debitsPostedAfter: string;
  creditsPostedAfter: string;
  createdAt: string;
}

interface TransferJson {
  id: string;
  seq: string;
  idempotencyKey: string;
  description: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  entries: EntryJson[];
}

/** A rejection as the posting function reports it: no message, raw account uuids. */
interface ItemError {
  code: string;
  accountRef?: { accountId?: string; accountCode?: string };
  [detail: string]: unknown;
}

type ItemJson =
  | { ok: true; replay: boolean; transfer: TransferJson }
  | { ok: false; replay: boolean; error: ItemError };

function transferFromJson(tenantId: string, json: TransferJson): TransferWithEntries {
  return {
    id: json.id,
    seq: BigInt(json.seq),
    tenantId,
    idempotencyKey: json.idempotencyKey,
    description: json.description,
    metadata: json.metadata as TransferWithEntries["metadata"],
    createdAt: new Date(json.createdAt),
    entries: json.entries.map((e) => ({
      id: BigInt(e.id),
      tenantId,
      transferId: json.id,
      accountId: e.accountId,
      legIndex: e.legIndex,
      direction: e.direction,
      amount: BigInt(e.amount),
      accountVersion: BigInt(e.accountVersion),
      debitsPostedAfter: BigInt(e.debitsPostedAfter),
      creditsPostedAfter: BigInt(e.creditsPostedAfter),
      createdAt: new Date(e.createdAt),
    })),
  };
}

function toItemJson(transfer: Transfer) {
  return {
    key: transfer.idempotencyKey,
    hash: requestHash(postTransferOperation, transfer),
    description: transfer.description,
    metadata: transfer.metadata,
    legs: transfer.legs.map((leg) => ({
      ...leg.account,
      direction: leg.direction,
      amount: leg.amountMinor.toString(),
      currency: leg.currency,
    })),
  };
}

const batchAborted = (failedIndex: number): Problem =>
  withMessage({ code: "BatchAborted", failedIndex });

/**
 * Posts transfers. `atomic`: all or none. Input problems are answered without touching the
 * database (and are not stored under their keys: nothing happened).
 */
export async function postTransfers(
  pool: pg.Pool,
  tenantId: string,
  requests: TransferRequest[],
  atomic: boolean,
  limits: Limits,
): Promise<BatchOutcome> {
  if (requests.length === 0) return { ok: false, problem: invalidInput("transfers", "EMPTY", "give at least one transfer") };
  if (requests.length > limits.transferBatchSizeMax) {
    return { ok: false, problem: limitExceeded("transferBatchSizeMax", limits.transferBatchSizeMax, "number of transfers") };
  }

  const outcomes: (PostOutcome | undefined)[] = new Array(requests.length);
  const valid: { index: number; transfer: Transfer }[] = [];
  const keys = new Set<string>();
  for (const [index, request] of requests.entries()) {
    const checked = validateTransfer(request, limits);
    if (!checked.ok) {
      outcomes[index] = { ok: false, replay: false, problem: checked.problem };
    } else if (keys.has(checked.value.idempotencyKey)) {
      outcomes[index] = {
        ok: false,
        replay: false,
        problem: invalidInput(`transfers[${index}].idempotencyKey`, "DUPLICATE_IDEMPOTENCY_KEY", "repeats an earlier item's key"),
      };
    } else {
      keys.add(checked.value.idempotencyKey);
      valid.push({ index, transfer: checked.value });
    }
  }

  const firstInvalid = outcomes.findIndex((o) => o !== undefined);
  if (atomic && firstInvalid >= 0) {
    return {
      ok: true,
      outcomes: requests.map((_, index) => outcomes[index] ?? { ok: false, replay: false, problem: batchAborted(firstInvalid) }),
    };
  }

  if (valid.length > 0) {
    const items = valid.map(({ transfer }) => toItemJson(transfer));
    const { rows } = await withRetry(() =>
      pool.query<{ results: ItemJson[] }>(
        "SELECT ledger_post_transfers($1::uuid, $2, $3, $4::jsonb) AS results",
        [tenantId, postTransferOperation, atomic, JSON.stringify(items)],
      ),
    );
    const results = rows[0]?.results;
    assert(results && results.length === valid.length, "one result per posted item");
    for (const [position, { index }] of valid.entries()) {
      const item = results[position]!;
      outcomes[index] = item.ok
        ? { ok: true, replay: item.replay, transfer: transferFromJson(tenantId, item.transfer) }
        : { ok: false, replay: item.replay, problem: remapBatchIndex(publicProblem(item.error), valid) };
    }
  }
  return { ok: true, outcomes: outcomes.map((o) => o!) };
}

/**
 * A rejection from the database as the API words it: accounts by global id (codes stay as
 * given), with a message.
 */
function publicProblem(error: ItemError): Problem {
  const { accountRef, ...named } = error;
  if (typeof named.accountId === "string") named.accountId = toGlobalId("Account", named.accountId);
  if (accountRef) named.account = accountRef.accountId ? toGlobalId("Account", accountRef.accountId) : accountRef.accountCode;
  return withMessage(named);
}

/** The database numbers the items it saw; the client numbers all of its items. */
function remapBatchIndex(problem: Problem, valid: { index: number }[]): Problem {
  if (problem.code !== "BatchAborted") return problem;
  const failedIndex = valid[problem.failedIndex as number]?.index;
  assert(failedIndex !== undefined, "BatchAborted names a posted item");
  return batchAborted(failedIndex);
}
