import { useState, type FormEvent } from "react";
import { ApiError, createApi } from "./api";
import { ErrorBox } from "./common";
import { sessionQuery, type Session, type SessionData } from "./operations";

/** Asks for a token (API key or access token) and checks it with one query before keeping it. */
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (token: string, session: Session) => void }) {
  const [token, setToken] = useState("");
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = token.trim();
    if (!trimmed) return;
    setChecking(true);
    setError(null);
    const probe = createApi(trimmed, () => {});
    try {
      onSignedIn(trimmed, await probe.query<SessionData>(sessionQuery));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), "network"));
      setChecking(false);
    } finally {
      probe.dispose();
    }
  }

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit}>
        <h1>Ledger dashboard</h1>
        <p className="muted">Sign in with an API key or an access token of your tenant.</p>
        {notice ? (
          <div className="notice" role="status" data-testid="signin-notice">
            {notice}
          </div>
        ) : null}
        <label htmlFor="token">Token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="lk_…"
          data-testid="token-input"
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <ErrorBox error={error} what={error?.kind === "auth" ? "Token refused" : "Cannot sign in"} />
        <button type="submit" data-testid="sign-in" disabled={checking || !token.trim()}>
          {checking ? "Checking…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
