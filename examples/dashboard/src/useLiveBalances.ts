// Live balances of a set of accounts through ONE balanceChanged subscription. Balances from
// queries and from events are merged by version, so an event for a version already shown (or an
// older query answer arriving late) never moves a balance backwards.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Api, ApiError } from "./api";
import { compareMinor } from "./money";
import { balanceChangedSubscription, type Balance, type BalanceChangedData } from "./operations";

export type BalanceChange = BalanceChangedData["balanceChanged"];

const flashMs = 1_500;

export interface LiveBalances {
  /** Newest balance known per account id (from a query or an event). */
  balances: Readonly<Record<string, Balance>>;
  /** Accounts whose balance changed in the last moment, to highlight. */
  flashing: ReadonlySet<string>;
  error: ApiError | null;
}

export function useLiveBalances(
  api: Api,
  loaded: readonly { id: string; balance: Balance }[],
  watchedIds: readonly string[],
  onChange?: (change: BalanceChange) => void,
): LiveBalances {
  const [balances, setBalances] = useState<Record<string, Balance>>({});
  // The same map, updated synchronously: events are compared against it and the
  // resubscription after a reconnect reads its versions.
  const balancesRef = useRef<Record<string, Balance>>({});
  const [flashing, setFlashing] = useState<ReadonlySet<string>>(new Set());
  const flashTimers = useRef(new Map<string, number>());
  const [error, setError] = useState<ApiError | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  /** Keeps each balance whose version is newer than the one held; returns whether it did. */
  const merge = useCallback((id: string, balance: Balance): boolean => {
    const held = balancesRef.current[id];
    if (held && compareMinor(balance.version, held.version) <= 0) return false;
    balancesRef.current = { ...balancesRef.current, [id]: balance };
    return true;
  }, []);

  const flash = useCallback((id: string) => {
    window.clearTimeout(flashTimers.current.get(id));
    setFlashing((current) => new Set(current).add(id));
    flashTimers.current.set(
      id,
      window.setTimeout(() => {
        flashTimers.current.delete(id);
        setFlashing((current) => {
          const next = new Set(current);
          next.delete(id);
          return next;
        });
      }, flashMs),
    );
  }, []);

  // Declared before the subscription effect so the versions it sends are the loaded ones.
  useEffect(() => {
    let changed = false;
    for (const account of loaded) changed = merge(account.id, account.balance) || changed;
    if (changed) setBalances(balancesRef.current);
  }, [loaded, merge]);

  useEffect(() => {
    const timers = flashTimers.current;
    return () => {
      for (const timer of timers.values()) window.clearTimeout(timer);
    };
  }, []);

  const watchedKey = watchedIds.join(" ");
  useEffect(() => {
    const ids = watchedKey.split(" ").filter(Boolean);
    if (ids.length === 0) return;
    setError(null);
    const variables = () => {
      const versions = ids.map((id) => balancesRef.current[id]?.version);
      // afterVersion = what is shown, so a (re)subscription replays every change since.
      return versions.every((v) => v !== undefined) ? { ids, after: versions } : { ids };
    };
    return api.subscribe<BalanceChangedData>(balanceChangedSubscription, variables, {
      next: ({ balanceChanged: change }) => {
        if (!merge(change.account.id, change.balance)) return;
        setBalances(balancesRef.current);
        flash(change.account.id);
        onChangeRef.current?.(change);
      },
      error: (e) => setError(e),
    });
  }, [api, watchedKey, merge, flash]);

  return { balances, flashing, error };
}
