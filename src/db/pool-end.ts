// pg.Pool's end() resolves once it has told its clients to close, before their sessions have
// ended on the server: a database stopped right after (the embedded one, at shutdown) still finds
// them and ends them with "terminating connection due to administrator command", which the pool
// reports as a connection failure. A pool made through this ends only once every socket closed.
import { once } from "node:events";
import type pg from "pg";

/** How long ending waits for the sockets after pool.end() (a server that does not answer). */
const socketsClosedTimeoutMs = 2_000;

/** Tracks `pool`'s clients; answers a function that ends the pool and waits for their sockets to close. */
export function endsWhenClosed(pool: pg.Pool): () => Promise<void> {
  const open = new Set<pg.Client>();
  pool.on("connect", (client) => {
    open.add(client);
    client.once("end", () => open.delete(client));
  });
  return async () => {
    const closing = [...open].map((client) => once(client, "end"));
    await pool.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closing),
      new Promise((resolve) => {
        timer = setTimeout(resolve, socketsClosedTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
  };
}
