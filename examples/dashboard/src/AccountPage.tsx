// One account: live balances, the balance chart, an as-of lookup, open holds and history.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { Api, ApiError } from "./api";
import { AsOfPanel } from "./AsOfPanel";
import { BalanceChart } from "./BalanceChart";
import { BalanceList, ErrorBox } from "./common";
import { EntriesTable } from "./EntriesTable";
import { HoldsTable } from "./HoldsTable";
import { accountQuery, type AccountData, type AccountSummary, type Limits } from "./operations";
import { useLiveBalances, type BalanceChange } from "./useLiveBalances";

export function AccountPage({ api, limits, accountId }: { api: Api; limits: Limits; accountId: string }) {
  const [account, setAccount] = useState<AccountSummary | null | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  // Bumped by live events so the history and holds below reload.
  const [entriesRevision, setEntriesRevision] = useState(0);
  const [holdsRevision, setHoldsRevision] = useState(0);

  useEffect(() => {
    api.query<AccountData>(accountQuery, { id: accountId }).then((data) => setAccount(data.account), setError);
  }, [api, accountId]);

  const loaded = useMemo(() => (account ? [account] : []), [account]);
  const watched = useMemo(() => (account ? [account.id] : []), [account]);
  const onChange = useCallback((change: BalanceChange) => {
    setEntriesRevision((n) => n + 1);
    if (change.entry.kind !== "POSTED") setHoldsRevision((n) => n + 1);
  }, []);
  const live = useLiveBalances(api, loaded, watched, onChange);

  if (error) return <ErrorBox error={error} what="Cannot load the account" />;
  if (account === undefined) return <p className="muted">Loading…</p>;
  if (account === null) {
    return (
      <section>
        <a href="#/">← Accounts</a>
        <p className="error">No account {accountId} for this token.</p>
      </section>
    );
  }

  const balance = live.balances[account.id] ?? account.balance;
  const { currency } = account;
  return (
    <section className="account-page">
      <a href="#/" className="back">
        ← Accounts
      </a>
      <div className={live.flashing.has(account.id) ? "card account-head flash" : "card account-head"} data-testid="account-header">
        <div>
          <h1>
            <bdi>{account.name}</bdi>
          </h1>
          <p className="muted">
            <code>
              <bdi>{account.code}</bdi>
            </code>{" "}
            · {currency.code} · {account.normalSide.toLowerCase()}-normal · version <span data-testid="version">{balance.version}</span>
          </p>
        </div>
        <BalanceList balance={balance} currency={currency} testIdOf={(kind) => `${kind}-${account.id}`} />
      </div>
      <ErrorBox error={live.error} what="Live updates stopped" />
      <BalanceChart api={api} accountId={account.id} currency={currency} current={balance} pointsMax={limits.balanceHistoryPointsMax} />
      <div className="columns">
        <AsOfPanel api={api} accountId={account.id} currency={currency} />
        <HoldsTable
          api={api}
          accountId={account.id}
          currency={currency}
          revision={holdsRevision}
          pageSize={Math.min(20, limits.pageSizeMax)}
        />
      </div>
      <EntriesTable
        api={api}
        accountId={account.id}
        currency={currency}
        revision={entriesRevision}
        pageSize={Math.min(20, limits.pageSizeMax)}
      />
    </section>
  );
}
