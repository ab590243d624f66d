// Ledger writes announce their commits on the pool they used, so the change feed of this
// instance looks right away instead of at its next poll. Losing a signal only delays events.
import type pg from "pg";

const listeners = new WeakMap<pg.Pool, Set<() => void>>();

export function onCommitted(pool: pg.Pool, listener: () => void): () => void {
  const set = listeners.get(pool) ?? new Set<() => void>();
  listeners.set(pool, set);
  set.add(listener);
  return () => set.delete(listener);
}

/** Called after a write on `pool` committed. */
export function committed(pool: pg.Pool): void {
  for (const listener of listeners.get(pool) ?? []) listener();
}
