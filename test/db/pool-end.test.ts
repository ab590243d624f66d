// A pool ended through endsWhenClosed has no session left on the server once the call returns,
// so a database stopped right after (the embedded one, at shutdown) ends none with an error.
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { endsWhenClosed } from "../../src/db/pool-end.js";
import { randomSuffix } from "../global-setup.js";

describe("ending a pool", () => {
  it("returns once every one of its sessions has ended on the server", async () => {
    const name = `pool-end-${randomSuffix()}`;
    const pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 4, application_name: name });
    const end = endsWhenClosed(pool);
    // Four sessions at once, back in the pool idle.
    const clients = await Promise.all([1, 2, 3, 4].map(() => pool.connect()));
    for (const client of clients) client.release();
    const observer = new pg.Client({ connectionString: inject("databaseUrl") });
    await observer.connect();
    try {
      const sessions = async () =>
        (await observer.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [name]))
          .rows[0]!.n;
      expect(await sessions()).toBe(4);
      await end();
      expect(await sessions()).toBe(0);
    } finally {
      await observer.end();
    }
  });
});
