// One transaction on a client of the pool, for the paths off the write engine that need more than
// one statement (webhook claims and endpoints, statement imports, reconciliation runs). The
// ledger's own writes never use it: each is one statement of the write engine.
import type pg from "pg";
import type { Result } from "../domain/problems.js";

/** Commits what `work` did unless `keep` says its result is not to be kept (then rolls it back). */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  keep: (result: T) => boolean = () => true,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query(keep(result) ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** For work that may refuse: a refusal rolls back what the work wrote before it (a claimed idempotency key, say). */
export const inTransactionUnlessRefused = <T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<Result<T>>) =>
  inTransaction(pool, work, (result) => result.ok);
