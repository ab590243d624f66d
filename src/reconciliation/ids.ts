// Public ids of reconciliation objects: stmt_<uuid> statements, rrun_<uuid> runs, rex_<n>
// exceptions (a run's result that is not MATCHED).
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const serialPattern = /^[1-9]\d{0,18}$/;

const idOf = (prefix: string, pattern: RegExp) => ({
  to: (raw: string | bigint) => prefix + String(raw),
  from: (globalId: string): string | null =>
    globalId.startsWith(prefix) && pattern.test(globalId.slice(prefix.length)) ? globalId.slice(prefix.length) : null,
});

const statements = idOf("stmt_", uuidPattern);
const runs = idOf("rrun_", uuidPattern);
const exceptions = idOf("rex_", serialPattern);

export const statementGlobalId = statements.to;
export const fromStatementGlobalId = statements.from;
export const runGlobalId = runs.to;
export const exceptionGlobalId = exceptions.to;
export const fromExceptionGlobalId = exceptions.from;
