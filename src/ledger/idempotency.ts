// Idempotency for the low-rate mutations (accounts, currencies): the key is claimed, the work
// done and the outcome stored in one Prisma transaction. Transfers do the same inside their
// SQL function.
import { requestHash } from "../domain/canonical.js";
import { idempotencyConflict, type Problem } from "../domain/problems.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { withRetry } from "./retry.js";

export type Tx = Prisma.TransactionClient;

/** What is stored under a key: the id of what was made or changed, or a business rejection. */
export type StoredOutcome = { ok: true; id: string } | { ok: false; problem: Problem };

export interface IdempotentResult {
  replay: boolean;
  outcome: StoredOutcome;
}

export async function idempotent(
  prisma: PrismaClient,
  tenantId: string,
  key: string,
  operation: string,
  request: unknown,
  work: (tx: Tx) => Promise<StoredOutcome>,
): Promise<IdempotentResult> {
  const hash = requestHash(operation, request);
  return withRetry(() =>
    prisma.$transaction(async (tx) => {
      // Waits for a concurrent holder of the same key to commit, then sees its row.
      const claimed = await tx.$executeRaw`
        INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash)
        VALUES (${tenantId}::uuid, ${key}, ${operation}, ${hash})
        ON CONFLICT DO NOTHING`;
      if (claimed === 0) {
        const stored = await tx.idempotencyKey.findUniqueOrThrow({ where: { tenantId_key: { tenantId, key } } });
        if (stored.operation !== operation || stored.requestHash !== hash) {
          return { replay: false, outcome: { ok: false, problem: idempotencyConflict(key) } };
        }
        return { replay: true, outcome: stored.result as unknown as StoredOutcome };
      }
      const outcome = await work(tx);
      await tx.idempotencyKey.update({
        where: { tenantId_key: { tenantId, key } },
        data: { result: outcome as unknown as Prisma.InputJsonValue },
      });
      return { replay: false, outcome };
    }),
  );
}
