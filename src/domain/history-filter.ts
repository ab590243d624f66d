// Filters on transfer and entry history. A combination the service cannot answer, or a range
// that is empty by construction, is refused: never a silently empty page.
import type { Side } from "./balance.js";
import { checkMetadata, type Metadata } from "./fields.js";
import { compareInstants } from "./instant.js";
import type { Limits } from "./limits.js";
import { parsePositiveAmount, type AmountInput } from "./money.js";
import { fail, invalidInput, ok, type Result } from "./problems.js";
import { checkCharacters } from "./text.js";

export interface HistoryFilterRequest {
  createdFrom?: Date | null;
  createdTo?: Date | null;
  amountMin?: AmountInput | null;
  amountMax?: AmountInput | null;
  direction?: Side | null;
  metadata?: unknown;
  externalRef?: string | null;
}

export interface HistoryFilter {
  createdFrom?: Date;
  createdTo?: Date;
  amountMin?: bigint;
  amountMax?: bigint;
  direction?: Side;
  metadata?: Metadata;
  /** Transfers with exactly this reference (for entries: whose transfer has it). */
  externalRef?: string;
}

const given = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/**
 * `entryScoped`: the amount and direction filters apply to one account's entry (entries of an
 * account, or transfers filtered by accountId). Without that scope they have no meaning.
 */
export function validateHistoryFilter(request: HistoryFilterRequest, entryScoped: boolean, limits: Limits): Result<HistoryFilter> {
  const filter: HistoryFilter = {};
  if (!entryScoped && (given(request.amountMin) || given(request.amountMax) || given(request.direction))) {
    return fail(invalidInput("filter", "UNSUPPORTED_FILTER", "amountMin, amountMax and direction need accountId"));
  }
  if (given(request.createdFrom)) filter.createdFrom = request.createdFrom;
  if (given(request.createdTo)) filter.createdTo = request.createdTo;
  if (filter.createdFrom && filter.createdTo && compareInstants(filter.createdFrom, filter.createdTo) >= 0) {
    return fail(invalidInput("filter.createdFrom", "BOUNDS_INVERTED", "must be before createdTo"));
  }
  for (const field of ["amountMin", "amountMax"] as const) {
    const text = request[field];
    if (!given(text)) continue;
    const amount = parsePositiveAmount(text, `filter.${field}`);
    if (!amount.ok) return amount;
    filter[field] = amount.value;
  }
  if (filter.amountMin !== undefined && filter.amountMax !== undefined && filter.amountMin > filter.amountMax) {
    return fail(invalidInput("filter.amountMin", "BOUNDS_INVERTED", "must not exceed amountMax"));
  }
  if (given(request.direction)) filter.direction = request.direction;
  if (given(request.metadata)) {
    const metadata = checkMetadata(request.metadata, "filter.metadata", limits);
    if (!metadata.ok) return metadata;
    filter.metadata = metadata.value;
  }
  if (given(request.externalRef)) {
    // A lookup: only what no transfer could have is refused (a reference stored under a higher
    // externalRefLengthMax can still be found). "" could never match: refused, not an empty page.
    if (request.externalRef.length === 0) return fail(invalidInput("filter.externalRef", "EMPTY", "must not be empty: leave it out"));
    const externalRef = checkCharacters(request.externalRef, "filter.externalRef", "storable");
    if (!externalRef.ok) return externalRef;
    filter.externalRef = externalRef.value;
  }
  return ok(filter);
}
