// Date-times: the as-of picker works in the browser's local time zone; the API takes ISO UTC.

const localInputPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * "2026-11-21T14:05" or "2026-11-21T14:05:09" (an <input type="datetime-local"> value, local
 * time) -> "2026-11-21T19:05:09.000Z"; null when it is not such a value.
 */
export function localInputToIso(value: string): string | null {
  const match = localInputPattern.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second, fraction] = match.slice(1);
  const date = new Date(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second ?? "0"),
    Number((fraction ?? "").padEnd(3, "0")),
  );
  // new Date(...) rolls over impossible values (Feb 30); refuse them rather than guess.
  if (date.getDate() !== Number(day) || date.getMonth() !== Number(month) - 1) return null;
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A Date as a datetime-local input value with seconds, in local time. */
export function toLocalInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** An ISO instant in the reader's local time, to the second. */
export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

/** "in 6 d 23 h", "in 5 min", "expired" - rough, for hold expiries. */
export function formatRelative(iso: string, now = Date.now()): string {
  const minutes = Math.floor((new Date(iso).getTime() - now) / 60_000);
  if (minutes < 0) return "expired";
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h ${minutes % 60} min`;
  return `in ${Math.floor(hours / 24)} d ${hours % 24} h`;
}
