// The reconciliation API's documents for tests (statements, runs, exceptions, resolutions).
export interface LineInput {
  externalId: string;
  externalRef?: string;
  amount: string;
  direction: "DEBIT" | "CREDIT";
  currency: string;
  occurredAt: string;
  description?: string;
}

const problems = `... on Problem { code message } ... on InvalidInput { field reason } ... on LimitExceeded { limit max }
  ... on IdempotencyConflict { idempotencyKey }`;

export const statementFields = "id source periodStart periodEnd openingBalance closingBalance lineCount account { id }";

export const importStatementMutation = `mutation($input: ImportStatementInput!) { importStatement(input: $input) { __typename
  ... on StatementImported { replay statement { ${statementFields} } } ${problems} } }`;

export const appendLinesMutation = `mutation($input: AppendStatementLinesInput!) { appendStatementLines(input: $input) { __typename
  ... on StatementLinesAppended { replay firstLineNo statement { ${statementFields} } } ${problems} } }`;

export const runFields = `id createdAt timeToleranceSeconds statementConsistent reconciled
  summary { lines matched amountMismatch missingInLedger missingInStatement duplicateInStatement open resolved }
  opening { statement ledger difference } closing { statement ledger difference }`;

export const reconcileMutation = `mutation($input: ReconcileStatementInput!) { reconcileStatement(input: $input) { __typename
  ... on StatementReconciled { run { ${runFields} } } ... on Problem { code message } ... on InvalidInput { field reason } } }`;

const lineFields = "lineNo externalId externalRef amount direction occurredAt description";
const resolutionFields = `id kind note resolvedAt credential keyId
  transfer { id externalRef metadata entries { account { id } direction amount } }`;

export const exceptionFields = `id status externalRef direction occurredAt lineAmount ledgerAmount difference
  line { ${lineFields} } entries { id amount direction } resolution { ${resolutionFields} }`;

export const exceptionsQuery = `query($filter: ReconciliationExceptionFilter!, $first: Int) {
  reconciliationExceptions(filter: $filter, first: $first) { nodes { ${exceptionFields} } pageInfo { hasNextPage endCursor } } }`;

export const resolveMutation = `mutation($input: ResolveReconciliationExceptionInput!) { resolveReconciliationException(input: $input) {
  __typename ... on ReconciliationExceptionResolved { replay exception { ${exceptionFields} } resolution { ${resolutionFields} } }
  ${problems} } }`;
