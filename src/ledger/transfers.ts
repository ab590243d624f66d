// The posting path: validate in the pure core, then one round trip to ledger_post_transfers,
// which locks, checks and writes inside one transaction.
import type pg from "pg";
import { committed } from "../db/commit-signal.js";
import { assert } from "../domain/assert.js";
import { requestHash } from "../domain/canonical.js";
import type { Limits } from "../domain/limits.js";
import { invalidInput, limitExceeded, withMessage, type Problem } from "../domain/problems.js";
import { validateTransfer, type Transfer, type TransferRequest } from "../domain/transfer.js";
import type { TransferWithEntries } from "./records.js";
import { legsJson, publicProblem, transferFromJson, type ItemError, type TransferJson } from "./write-results.js";
import { withRetry } from "./retry.js";

/** Both mutations share it, so a transfer retried through either is recognised. */
export const postTransferOperation = "postTransfer";

export type PostOutcome =
  | { ok: true; replay: boolean; transfer: TransferWithEntries }
  | { ok: false; replay: boolean; problem: Problem };

export type BatchOutcome = { ok: true; outcomes: PostOutcome[] } | { ok: false; problem: Problem };

type ItemJson =
  | { ok: true; replay: boolean; transfer: TransferJson }
  | { ok: false; replay: boolean; error: ItemError };

function toItemJson(transfer: Transfer) {
  return {
    key: transfer.idempotencyKey,
    hash: requestHash(postTransferOperation, transfer),
    description: transfer.description,
    metadata: transfer.metadata,
    legs: legsJson(transfer.legs),
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
    committed(pool);
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

/** The database numbers the items it saw; the client numbers all of its items. */
function remapBatchIndex(problem: Problem, valid: { index: number }[]): Problem {
  if (problem.code !== "BatchAborted") return problem;
  const failedIndex = valid[problem.failedIndex as number]?.index;
  assert(failedIndex !== undefined, "BatchAborted names a posted item");
  return batchAborted(failedIndex);
}
