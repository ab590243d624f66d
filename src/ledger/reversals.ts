// Reversals: a new transfer with the legs of another inverted, linked to it.
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import { validateReverse, type ReverseRequest } from "../domain/hold.js";
import type { Limits } from "../domain/limits.js";
import { authorizeWrite } from "./authorization.js";
import { command, execute, notesOf } from "./engine.js";
import type { PostOutcome } from "./transfers.js";

export async function reverseTransfer(db: Database, access: Access, request: ReverseRequest, limits: Limits): Promise<PostOutcome> {
  await authorizeWrite(db, access, "reverseTransfer", { transfer: request.transferId });
  const checked = validateReverse(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const reversal = checked.value;
  const [result] = await execute(
    db,
    [
      command("reverseTransfer", access.tenantId, reversal.idempotencyKey, reversal, {
        ...reversal.target,
        amount: reversal.amountMinor?.toString() ?? null,
        force: reversal.force,
        ...notesOf(reversal),
      }),
    ],
    false,
  );
  if (!result!.ok) return result!;
  return { ok: true, replay: result!.done.replay, transfer: result!.done.transfer! };
}
