interface TokenFieldProps {
  value: string;
  onChange(value: string): void;
}

const tokenHelp =
  "A bearer token from the createAccessToken mutation (an API key works too). Kept in this " +
  "browser tab's sessionStorage only; sent as Authorization: Bearer on HTTP requests and in " +
  "connection_init on the subscription WebSocket.";

/** The access token field in GraphiQL's header bar, with a Forget button. */
export function TokenField({ value, onChange }: TokenFieldProps) {
  return (
    <div className="ledger-token" title={tokenHelp}>
      <label className="ledger-token-label" htmlFor="ledger-token-input">
        Token
      </label>
      <input
        id="ledger-token-input"
        data-testid="token-input"
        className="ledger-token-input"
        type="password"
        placeholder="access token"
        autoComplete="off"
        spellCheck={false}
        aria-describedby="ledger-token-help"
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      <button type="button" className="ledger-token-forget" data-testid="token-forget" disabled={value === ""} onClick={() => onChange("")}>
        Forget
      </button>
      <span id="ledger-token-help" className="ledger-visually-hidden">
        {tokenHelp}
      </span>
    </div>
  );
}
