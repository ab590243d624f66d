// Sign-in state, the API client for the token, and the pages (hash routes): accounts, an
// account, statements, a statement.
import { useCallback, useEffect, useState } from "react";
import { createApi, type Api, type ApiError } from "./api";
import { AccountPage } from "./AccountPage";
import { AccountsPage } from "./AccountsPage";
import { ErrorBox, LiveIndicator, statementsHref, useHashRoute, type Route } from "./common";
import { sessionQuery, type Session, type SessionData, type Viewer } from "./operations";
import { SignIn } from "./SignIn";
import { StatementPage } from "./StatementPage";
import { StatementsPage } from "./StatementsPage";
import { formatDateTime } from "./time";

const tokenKey = "ledger.accessToken";

function ViewerBadge({ viewer }: { viewer: Viewer }) {
  const credential = viewer.credential === "API_KEY" ? "API key" : "access token";
  const scope = viewer.scope === "READ_ONLY" ? "read-only" : "read-write";
  return (
    <span className="viewer" data-testid="viewer">
      {credential} · {scope}
      {viewer.expiresAt ? ` · until ${formatDateTime(viewer.expiresAt)}` : ""}
    </span>
  );
}

function Page({ route, api, session }: { route: Route; api: Api; session: Session }) {
  switch (route.page) {
    case "account":
      return <AccountPage key={route.id} api={api} limits={session.limits} accountId={route.id} />;
    case "statements":
      return <StatementsPage api={api} limits={session.limits} />;
    case "statement":
      return <StatementPage key={route.id} api={api} limits={session.limits} statementId={route.id} />;
    default:
      return <AccountsPage api={api} limits={session.limits} />;
  }
}

export function App() {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(tokenKey));
  const [notice, setNotice] = useState<string | null>(null);
  const [api, setApi] = useState<Api | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [sessionError, setSessionError] = useState<ApiError | null>(null);
  const route = useHashRoute();

  const signOut = useCallback((message: string | null) => {
    sessionStorage.removeItem(tokenKey);
    // Cleared here too (not only in the effect's cleanup) so no query runs with the old token.
    setApi(null);
    setToken(null);
    setSession(null);
    setSessionError(null);
    setNotice(message);
  }, []);

  const signIn = useCallback((newToken: string, newSession: Session) => {
    sessionStorage.setItem(tokenKey, newToken);
    setNotice(null);
    setSession(newSession);
    setToken(newToken);
  }, []);

  useEffect(() => {
    if (!token) return;
    const created = createApi(token, (error) =>
      signOut(
        `You were signed out: ${error.message}${error.code && error.code !== "UNAUTHENTICATED" ? ` (${error.code})` : ""}. Sign in again.`,
      ),
    );
    setApi(created);
    return () => {
      created.dispose();
      setApi(null);
    };
  }, [token, signOut]);

  // After a reload the token comes from sessionStorage: load limits and viewer (and so check it).
  useEffect(() => {
    if (!api || session) return;
    setSessionError(null);
    api.query<SessionData>(sessionQuery).then(
      setSession,
      // An auth error has already signed out, with its own message.
      (error: ApiError) => error.kind !== "auth" && setSessionError(error),
    );
  }, [api, session]);

  if (!token) return <SignIn notice={notice} onSignedIn={signIn} />;

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/">
          Ledger dashboard
        </a>
        <nav className="nav">
          <a href="#/" data-testid="nav-accounts">
            Accounts
          </a>
          <a href={statementsHref} data-testid="nav-statements">
            Statements
          </a>
        </nav>
        <div className="topbar-right">
          {session ? <ViewerBadge viewer={session.viewer} /> : null}
          {api ? <LiveIndicator api={api} /> : null}
          <button type="button" className="secondary" data-testid="sign-out" onClick={() => signOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <ErrorBox error={sessionError} what="Cannot load the session" />
        {api && session ? <Page route={route} api={api} session={session} /> : sessionError ? null : <p className="muted">Loading…</p>}
      </main>
    </div>
  );
}
