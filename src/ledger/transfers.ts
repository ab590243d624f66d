// Posting transfers: validate in the pure core, then the write engine (one command per transfer;
// an atomic batch is one group of them).
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import type { Limits } from "../domain/limits.js";
import { invalidInput, limitExceeded, withMessage, type Problem } from "../domain/problems.js";
import { validateTransfer, type Transfer, type TransferRequest } from "../domain/transfer.js";
import { accountsNamedBy, authorizeWrite } from "./authorization.js";
import { command, execute, legsOf, notesOf, type Command } from "./engine.js";
import type { TransferWithEntries } from "./records.js";

export type PostOutcome = { ok: true; replay: boolean; transfer: TransferWithEntries } | { ok: false; replay: boolean; problem: Problem };

export type BatchOutcome = { ok: true; outcomes: PostOutcome[] } | { ok: false; problem: Problem };

/** postTransfer and postTransfers share the operation, so a transfer retried through either is recognised. */
export const transferCommand = (tenantId: string, transfer: Transfer): Command =>
  command("postTransfer", tenantId, transfer.idempotencyKey, transfer, { ...notesOf(transfer), legs: legsOf(transfer.legs) });

const batchAborted = (failedIndex: number): Problem => withMessage({ code: "BatchAborted", failedIndex });

/**
 * Posts transfers. `atomic`: all or none. Input problems are answered without touching the
 * database (and are not stored under their keys: nothing happened).
 */
export async function postTransfers(
  db: Database,
  access: Access,
  requests: TransferRequest[],
  atomic: boolean,
  limits: Limits,
): Promise<BatchOutcome> {
  await authorizeWrite(db, access, "postTransfers", { accounts: accountsNamedBy(requests) });
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
    const results = await execute(
      db,
      valid.map(({ transfer }) => transferCommand(access.tenantId, transfer)),
      atomic,
    );
    for (const [position, { index }] of valid.entries()) {
      const result = results[position]!;
      outcomes[index] = result.ok
        ? { ok: true, replay: result.done.replay, transfer: result.done.transfer! }
        : { ok: false, replay: result.replay, problem: remapBatchIndex(result.problem, valid) };
    }
  }
  return { ok: true, outcomes: outcomes.map((o) => o!) };
}

/** The engine numbers the items it saw; the client numbers all of its items. */
function remapBatchIndex(problem: Problem, valid: { index: number }[]): Problem {
  if (problem.code !== "BatchAborted") return problem;
  const failedIndex = valid[problem.failedIndex as number]?.index;
  return failedIndex === undefined ? problem : batchAborted(failedIndex);
}
