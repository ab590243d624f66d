// The few operations the dashboard sends, with hand-written types of their answers.
// Amount and BigInt scalars arrive as decimal strings; DateTime as ISO strings in UTC.

export interface Currency {
  code: string;
  scale: number;
}

export interface Balance {
  posted: string;
  pending: string;
  available: string;
  version: string;
}

export interface AccountSummary {
  id: string;
  code: string;
  name: string;
  normalSide: "DEBIT" | "CREDIT";
  currency: Currency;
  balance: Balance;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Limits {
  pageSizeMax: number;
  balanceHistoryPointsMax: number;
  subscriptionAccountsMax: number;
}

const balanceFields = "posted pending available version";
const accountFields = `id code name normalSide currency { code scale } balance { ${balanceFields} }`;

/** Who the token is: an API key, or an access token with its scope and expiry. */
export interface Viewer {
  credential: "API_KEY" | "ACCESS_TOKEN";
  scope: "READ_ONLY" | "READ_WRITE";
  expiresAt: string | null;
}

export interface Session {
  limits: Limits;
  viewer: Viewer;
}

export const sessionQuery = `query Session {
  limits { pageSizeMax balanceHistoryPointsMax subscriptionAccountsMax }
  viewer { credential scope expiresAt }
}`;
export type SessionData = Session;

export const accountsQuery = `query Accounts($first: Int!, $after: String) {
  accounts(first: $first, after: $after) { nodes { ${accountFields} } pageInfo { hasNextPage endCursor } }
}`;
export interface AccountsData {
  accounts: { nodes: AccountSummary[]; pageInfo: PageInfo };
}

export const accountQuery = `query Account($id: ID!) { account(id: $id) { ${accountFields} } }`;
export interface AccountData {
  account: AccountSummary | null;
}

export type EntryKind = "POSTED" | "HOLD" | "RELEASE" | "CAPTURE";

export interface Entry {
  id: string;
  kind: EntryKind;
  direction: "DEBIT" | "CREDIT";
  amount: string;
  createdAt: string;
  transfer: { id: string; description: string } | null;
  hold: { id: string; description: string } | null;
  balanceAfter: Balance;
}

export const entriesQuery = `query Entries($id: ID!, $first: Int!, $after: String) {
  account(id: $id) {
    entries(first: $first, after: $after) {
      nodes {
        id kind direction amount createdAt
        transfer { id description } hold { id description }
        balanceAfter { ${balanceFields} }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
export interface EntriesData {
  account: { entries: { nodes: Entry[]; pageInfo: PageInfo } } | null;
}

export interface Hold {
  id: string;
  status: string;
  amount: string;
  remainingAmount: string;
  expiresAt: string;
  createdAt: string;
  description: string;
}

export const openHoldsQuery = `query OpenHolds($id: ID!, $first: Int!, $after: String) {
  account(id: $id) {
    holds(status: OPEN, first: $first, after: $after) {
      nodes { id status amount remainingAmount expiresAt createdAt description }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
export interface OpenHoldsData {
  account: { holds: { nodes: Hold[]; pageInfo: PageInfo } } | null;
}

// Separate queries: an error in balance(asOf) or balanceHistory nulls the whole account.
export const balanceAsOfQuery = `query BalanceAsOf($id: ID!, $asOf: DateTime!) {
  account(id: $id) { balance(asOf: $asOf) { ${balanceFields} } }
}`;
export interface BalanceAsOfData {
  account: { balance: Balance } | null;
}

export type Granularity = "HOUR" | "DAY" | "MONTH";

export interface BalancePoint {
  periodStart: string;
  periodEnd: string;
  balance: Balance;
}

export const balanceHistoryQuery = `query BalanceHistory($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!) {
  account(id: $id) { balanceHistory(from: $from, to: $to, granularity: $granularity) { periodStart periodEnd balance { ${balanceFields} } } }
}`;
export interface BalanceHistoryData {
  account: { balanceHistory: BalancePoint[] } | null;
}

export const balanceChangedSubscription = `subscription BalanceChanged($ids: [ID!]!, $after: [BigInt!]) {
  balanceChanged(accountIds: $ids, afterVersion: $after) {
    account { id }
    version replayed createdAt
    entry { id kind }
    balance { ${balanceFields} }
  }
}`;
export interface BalanceChangedData {
  balanceChanged: {
    account: { id: string };
    version: string;
    replayed: boolean;
    createdAt: string;
    entry: { id: string; kind: EntryKind };
    balance: Balance;
  };
}

// ------------------------------------------------------------------ reconciliation

export type ReconciliationStatus = "MATCHED" | "AMOUNT_MISMATCH" | "MISSING_IN_LEDGER" | "MISSING_IN_STATEMENT" | "DUPLICATE_IN_STATEMENT";

export interface RunSummary {
  lines: number;
  matched: number;
  amountMismatch: number;
  missingInLedger: number;
  missingInStatement: number;
  duplicateInStatement: number;
  open: number;
  resolved: number;
}

export interface BalanceComparison {
  statement: string;
  ledger: string;
  difference: string;
}

export interface ReconciliationRun {
  id: string;
  createdAt: string;
  reconciled: boolean;
  statementConsistent: boolean;
  summary: RunSummary;
  opening: BalanceComparison;
  closing: BalanceComparison;
}

export interface Statement {
  id: string;
  source: string;
  periodStart: string;
  periodEnd: string;
  openingBalance: string;
  closingBalance: string;
  lineCount: number;
  account: { id: string; code: string; name: string; currency: Currency };
  latestRun: ReconciliationRun | null;
}

const statementFields = `id source periodStart periodEnd openingBalance closingBalance lineCount
  account { id code name currency { code scale } }
  latestRun {
    id createdAt reconciled statementConsistent
    summary { lines matched amountMismatch missingInLedger missingInStatement duplicateInStatement open resolved }
    opening { statement ledger difference } closing { statement ledger difference }
  }`;

export const statementsQuery = `query Statements($first: Int!, $after: String) {
  statements(first: $first, after: $after) { nodes { ${statementFields} } pageInfo { hasNextPage endCursor } }
}`;
export interface StatementsData {
  statements: { nodes: Statement[]; pageInfo: PageInfo };
}

export const statementQuery = `query Statement($id: ID!) { statement(id: $id) { ${statementFields} } }`;
export interface StatementData {
  statement: Statement | null;
}

export interface ReconciliationException {
  id: string;
  status: ReconciliationStatus;
  externalRef: string | null;
  direction: "DEBIT" | "CREDIT";
  occurredAt: string;
  lineAmount: string | null;
  ledgerAmount: string | null;
  difference: string;
  line: { lineNo: number; externalId: string; description: string } | null;
  resolution: {
    kind: "CORRECTING_TRANSFER" | "ACCEPTED_DIFFERENCE";
    note: string;
    resolvedAt: string;
    credential: "API_KEY" | "ACCESS_TOKEN";
    transfer: { id: string } | null;
  } | null;
}

export const exceptionsQuery = `query ReconciliationExceptions($statementId: ID!, $first: Int!, $after: String) {
  reconciliationExceptions(filter: { statementId: $statementId }, first: $first, after: $after) {
    nodes {
      id status externalRef direction occurredAt lineAmount ledgerAmount difference
      line { lineNo externalId description }
      resolution { kind note resolvedAt credential transfer { id } }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;
export interface ExceptionsData {
  reconciliationExceptions: { nodes: ReconciliationException[]; pageInfo: PageInfo };
}

/** A typed problem of a mutation's result union. */
export interface Problem {
  __typename: string;
  code: string;
  message: string;
}

export const reconcileStatementMutation = `mutation ReconcileStatement($statementId: ID!) {
  reconcileStatement(input: { statementId: $statementId }) {
    __typename
    ... on StatementReconciled { run { id } }
    ... on Problem { code message }
  }
}`;
export interface ReconcileStatementData {
  reconcileStatement: { __typename: "StatementReconciled"; run: { id: string } } | Problem;
}

export const acceptDifferenceMutation = `mutation AcceptDifference($exceptionId: ID!, $idempotencyKey: String!, $note: String!) {
  resolveReconciliationException(input: { exceptionId: $exceptionId, idempotencyKey: $idempotencyKey, acceptDifference: { note: $note } }) {
    __typename
    ... on ReconciliationExceptionResolved { replay resolution { kind } }
    ... on Problem { code message }
  }
}`;
export interface AcceptDifferenceData {
  resolveReconciliationException:
    | { __typename: "ReconciliationExceptionResolved"; replay: boolean; resolution: { kind: string } }
    | Problem;
}

export const reconciliationChangedSubscription = `subscription ReconciliationChanged($statementId: ID!) {
  reconciliationChanged(statementId: $statementId) { kind statement { id } }
}`;
export interface ReconciliationChangedData {
  reconciliationChanged: { kind: "RUN_FINISHED" | "EXCEPTION_RESOLVED"; statement: { id: string } };
}
