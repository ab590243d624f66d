// Validation of bank and payment-provider statements: their period, balances and lines. Pure:
// what needs the account (its currency) is checked by src/reconciliation/statements.ts.
import type { Side } from "./balance.js";
import { checkCurrencyCode, checkExternalRef, checkIdempotencyKey, checkText } from "./fields.js";
import type { Limits } from "./limits.js";
import { parsePositiveAmount, parseSignedAmount, type AmountInput } from "./money.js";
import { fail, invalidInput, limitExceeded, ok, type Result } from "./problems.js";

export interface StatementLineInput {
  externalId: string;
  externalRef?: string | null;
  amount: AmountInput;
  direction: Side;
  currency: string;
  occurredAt: Date;
  description?: string | null;
}

export interface StatementLine {
  externalId: string;
  externalRef: string | null;
  amount: bigint;
  direction: Side;
  currency: string;
  occurredAt: Date;
  description: string;
}

export interface ImportStatementRequest {
  idempotencyKey: string;
  accountId: string;
  source: string;
  periodStart: Date;
  periodEnd: Date;
  openingBalance: AmountInput;
  closingBalance: AmountInput;
  lines?: readonly StatementLineInput[] | null;
}

export interface NewStatement {
  idempotencyKey: string;
  source: string;
  periodStart: Date;
  periodEnd: Date;
  openingBalance: bigint;
  closingBalance: bigint;
  lines: StatementLine[];
}

/** Lines of one call: each inside the period, at most statementLinesPerCallMax of them. */
export function validateLines(
  lines: readonly StatementLineInput[],
  period: { periodStart: Date; periodEnd: Date },
  limits: Limits,
  field = "lines",
): Result<StatementLine[]> {
  if (lines.length > limits.statementLinesPerCallMax) {
    return fail(limitExceeded("statementLinesPerCallMax", limits.statementLinesPerCallMax, `${field} count`));
  }
  const checked: StatementLine[] = [];
  for (const [index, line] of lines.entries()) {
    const at = `${field}[${index}]`;
    // A line's id is checked as keys are; its ref as transfers' refs are (the two must match).
    const externalId = checkIdempotencyKey(line.externalId, limits, `${at}.externalId`);
    if (!externalId.ok) return externalId;
    const ref = checkExternalRef(line.externalRef, limits, `${at}.externalRef`);
    if (!ref.ok) return ref;
    const amount = parsePositiveAmount(line.amount, `${at}.amount`);
    if (!amount.ok) return amount;
    const currency = checkCurrencyCode(line.currency, `${at}.currency`);
    if (!currency.ok) return currency;
    if (line.occurredAt < period.periodStart || line.occurredAt >= period.periodEnd) {
      return fail(invalidInput(`${at}.occurredAt`, "OUT_OF_PERIOD", "must lie in the statement's period [periodStart, periodEnd)"));
    }
    const description = checkText(line.description ?? "", `${at}.description`, "descriptionLengthMax", limits, false);
    if (!description.ok) return description;
    checked.push({
      externalId: externalId.value,
      externalRef: line.externalRef ?? null,
      amount: amount.value,
      direction: line.direction,
      currency: currency.value,
      occurredAt: line.occurredAt,
      description: description.value,
    });
  }
  return ok(checked);
}

/** `now`: the tenant's clock; a statement covers a period that has ended. */
export function validateStatement(request: ImportStatementRequest, limits: Limits, now: Date): Result<NewStatement> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const source = checkText(request.source, "source", "nameLengthMax", limits, true);
  if (!source.ok) return source;
  if (request.periodEnd <= request.periodStart) {
    return fail(invalidInput("periodEnd", "RANGE_INVERTED", "must be later than periodStart"));
  }
  if (request.periodEnd > now) return fail(invalidInput("periodEnd", "PERIOD_NOT_ENDED", "must not lie in the future"));
  const opening = parseSignedAmount(request.openingBalance, "openingBalance");
  if (!opening.ok) return opening;
  const closing = parseSignedAmount(request.closingBalance, "closingBalance");
  if (!closing.ok) return closing;
  const lines = validateLines(request.lines ?? [], request, limits);
  if (!lines.ok) return lines;
  return ok({
    idempotencyKey: key.value,
    source: source.value,
    periodStart: request.periodStart,
    periodEnd: request.periodEnd,
    openingBalance: opening.value,
    closingBalance: closing.value,
    lines: lines.value,
  });
}

/** A reconciliation's rules: how far apart in time a line and an entry may be to match by amount. */
export interface ReconcileRules {
  timeToleranceSeconds: number;
}

export const reconcileRulesDefault: ReconcileRules = { timeToleranceSeconds: 3 * 24 * 3600 };

export function validateRules(rules: { timeToleranceSeconds?: number | null } | null | undefined): Result<ReconcileRules> {
  const tolerance = rules?.timeToleranceSeconds ?? reconcileRulesDefault.timeToleranceSeconds;
  const max = 31 * 24 * 3600;
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > max) {
    return fail(invalidInput("rules.timeToleranceSeconds", "TOLERANCE_OUT_OF_RANGE", `must be an integer from 0 to ${max}`));
  }
  return ok({ timeToleranceSeconds: tolerance });
}
