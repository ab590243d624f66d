/**
 * The access token lives in this tab's sessionStorage only (never localStorage): it is gone when
 * the tab closes, and other tabs or later visits cannot read it.
 */
const accessTokenKey = "ledger.accessToken";

export function readAccessToken(): string {
  try {
    return sessionStorage.getItem(accessTokenKey) ?? "";
  } catch {
    return ""; // storage disabled: the token then lives in memory only
  }
}

export function storeAccessToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(accessTokenKey, token);
    else sessionStorage.removeItem(accessTokenKey);
  } catch {
    // storage disabled: nothing to keep or forget
  }
}

/** What a user pastes, as the bare token: trimmed, without a copied "Bearer " prefix. */
export function normalizeAccessToken(input: string): string {
  return input.trim().replace(/^Bearer\s+/i, "");
}
