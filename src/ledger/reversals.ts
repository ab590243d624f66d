// Reversals: a new transfer with the legs of another inverted, linked to it.
import { requestHash } from "../domain/canonical.js";
import { validateReverse, type ReverseRequest } from "../domain/hold.js";
import type { Limits } from "../domain/limits.js";
import type { Database } from "../db/client.js";
import type { PostOutcome } from "./transfers.js";
import { callOperation, publicProblem } from "./write-results.js";

export async function reverseTransfer(db: Database, tenantId: string, request: ReverseRequest, limits: Limits): Promise<PostOutcome> {
  const checked = validateReverse(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const reversal = checked.value;
  const item = {
    key: reversal.idempotencyKey,
    ...reversal.target,
    ...(reversal.amountMinor !== null ? { amount: reversal.amountMinor.toString() } : {}),
    force: reversal.force,
    description: reversal.description,
    metadata: reversal.metadata,
  };
  const answer = await callOperation(db.pool, "ledger_reverse_transfer", tenantId, requestHash("reverseTransfer", reversal), item);
  if (!answer.ok) return { ok: false, replay: answer.replay, problem: publicProblem(answer.error) };
  const transfer = await db.prisma.transfer.findUniqueOrThrow({
    where: { id: answer.transferId! },
    include: { entries: { orderBy: { legIndex: "asc" } } },
  });
  return { ok: true, replay: answer.replay, transfer };
}
