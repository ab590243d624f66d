// One transaction on a client of the pool, for the paths off the write engine that need more than
// one statement (webhook claims and endpoints, statement imports, reconciliation runs). The
// ledger's own writes never use it: each is one statement of the write engine.
import type pg from "pg";

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
