// How node-postgres turns column text into values for the ledger: timestamps as Instants (to the
// microsecond, as PostgreSQL keeps them; pg's default Date would cut them to milliseconds), the
// rest as pg does (bigints stay text: rows.ts makes them bigint).
import pg from "pg";
import { type Instant, parseInstant } from "../domain/instant.js";

const TIMESTAMPTZ = 1184;

function timestamptz(text: string): Instant {
  const instant = parseInstant(text);
  if (!instant) throw new Error(`not a timestamp PostgreSQL writes: ${text}`);
  return instant;
}

export const ledgerTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMPTZ && format !== "binary"
      ? timestamptz
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};
