// Instants to the microsecond, as PostgreSQL keeps them. A JavaScript Date holds milliseconds, so
// an entry's createdAt cut to a Date would lie before the entry itself: balance(asOf: createdAt)
// would leave it out, and two entries in one millisecond could not be told apart. An Instant is a
// Date (every Date API keeps working at millisecond precision) that also carries the microseconds
// within its millisecond and writes them: toISOString() always has six fractional digits.

export class Instant extends Date {
  /** 0..999: the microseconds after the Date's millisecond. */
  readonly micros: number;

  constructor(epochMs: number, micros = 0) {
    super(epochMs);
    if (!Number.isInteger(micros) || micros < 0 || micros > 999) throw new RangeError(`micros must be 0..999, got ${micros}`);
    this.micros = micros;
  }

  /** An instant given in microseconds since the epoch. */
  static ofEpochMicros(epochMicros: bigint): Instant {
    const ms = epochMicros >= 0n ? epochMicros / 1000n : (epochMicros - 999n) / 1000n;
    return new Instant(Number(ms), Number(epochMicros - ms * 1000n));
  }

  get epochMicros(): bigint {
    return BigInt(this.getTime()) * 1000n + BigInt(this.micros);
  }

  override toISOString(): string {
    return `${super.toISOString().slice(0, -1)}${String(this.micros).padStart(3, "0")}Z`;
  }

  override toJSON(): string {
    return this.toISOString();
  }
}

/** The microseconds since the epoch of any Date (a plain Date: on its millisecond). */
const epochMicrosOf = (date: Date): bigint => (date instanceof Instant ? date.epochMicros : BigInt(date.getTime()) * 1000n);

/** As precise as `date` is: an Instant as it is, a plain Date on its millisecond. */
export const instantOf = (date: Date): Instant => (date instanceof Instant ? date : new Instant(date.getTime()));

/** Negative, zero or positive as `a` is before, at or after `b`, to the microsecond. */
export function compareInstants(a: Date, b: Date): number {
  const difference = epochMicrosOf(a) - epochMicrosOf(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

// "2026-11-21T18:00:00.123456Z", "2026-11-21 18:00:00.123456+00", "...+05:30": ISO 8601 as clients
// send it and as PostgreSQL writes timestamptz. At most six fractional digits (no instant finer
// than PostgreSQL keeps is silently cut).
const pattern = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?(Z|[+-]\d\d(?::?\d\d)?)$/i;

/** The instant `text` names, or null when it is not one (or has more than microsecond precision). */
export function parseInstant(text: string): Instant | null {
  const match = pattern.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second = "0", fraction = "", zone] = match as unknown as string[];
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 31 February over into March: such a day does not exist.
  if (new Date(utc).getUTCDate() !== d) return null;
  let offsetMinutes = 0;
  if (zone!.toUpperCase() !== "Z") {
    const sign = zone!.startsWith("-") ? -1 : 1;
    const digits = zone!.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  const micros = Number(fraction.padEnd(6, "0"));
  const epochMicros = BigInt(utc - offsetMinutes * 60_000) * 1000n + BigInt(micros);
  return Instant.ofEpochMicros(epochMicros);
}
