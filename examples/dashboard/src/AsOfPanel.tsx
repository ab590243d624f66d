// The balance at a past instant picked in local time (balance(asOf:) takes UTC).
import { useState, type FormEvent } from "react";
import type { Api, ApiError } from "./api";
import { BalanceList, ErrorBox } from "./common";
import type { CurrencyRef } from "./money";
import { balanceAsOfQuery, type Balance, type BalanceAsOfData } from "./operations";
import { formatDateTime, localInputToIso, toLocalInput } from "./time";

export function AsOfPanel({ api, accountId, currency }: { api: Api; accountId: string; currency: CurrencyRef }) {
  const [value, setValue] = useState(() => toLocalInput(new Date(Date.now() - 60_000)));
  const [result, setResult] = useState<{ asOf: string; balance: Balance } | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [loading, setLoading] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const asOf = localInputToIso(value);
    if (!asOf) {
      setError("Pick a date and time.");
      return;
    }
    setLoading(true);
    setError(null);
    try {
      const data = await api.query<BalanceAsOfData>(balanceAsOfQuery, { id: accountId, asOf });
      if (!data.account) throw new Error("the account is gone");
      setResult({ asOf, balance: data.account.balance });
    } catch (e) {
      setResult(null);
      setError(e as ApiError);
    } finally {
      setLoading(false);
    }
  }

  return (
    <div className="card">
      <h2>Balance as of</h2>
      <form className="inline-form" onSubmit={submit}>
        <input
          type="datetime-local"
          step="1"
          aria-label="As of (local time)"
          data-testid="asof-input"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit" data-testid="asof-submit" disabled={loading}>
          Show
        </button>
      </form>
      <p className="muted small">Your local time ({Intl.DateTimeFormat().resolvedOptions().timeZone}).</p>
      <ErrorBox error={error} what="Cannot show that balance" />
      {result ? (
        <div data-testid="asof-result">
          <p className="muted small">
            As of {formatDateTime(result.asOf)} (<code>{result.asOf}</code>), version {result.balance.version}
          </p>
          <BalanceList balance={result.balance} currency={currency} testIdOf={(kind) => `asof-${kind}`} compact />
        </div>
      ) : null}
    </div>
  );
}
