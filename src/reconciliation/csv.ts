// A statement's lines from a CSV file (RFC 4180, through csv-parse), for people who have a file:
// a header row naming the columns (any order; external_ref and description may be left out),
// one line per row:
//   external_id   the provider's id of the line (a balance transaction id)
//   external_ref  the charge, payout or refund id transfers carry (may be empty)
//   amount        integer minor units, positive ("1050" is 10.50 USD)
//   direction     DEBIT or CREDIT: the line's direction on the ledger account
//   currency      the account's currency code
//   occurred_at   ISO 8601 instant with an offset ("2026-12-01T09:30:00Z")
//   description   free text (may be empty)
// Values stay strings: amounts become bigint only in the statement's validation.
import { parse } from "csv-parse/sync";
import type { Side } from "../domain/balance.js";
import { parseInstant } from "../domain/instant.js";
import { fail, invalidInput, ok, type Result } from "../domain/problems.js";
import type { StatementLineInput } from "../domain/statement.js";

export const csvColumnsRequired = ["external_id", "amount", "direction", "currency", "occurred_at"] as const;
const csvColumnsOptional = ["external_ref", "description"] as const;

/** The file's lines; a mistake names its row (1: the header) and column. */
export function linesOfCsv(text: string): Result<StatementLineInput[]> {
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (error) {
    return fail(invalidInput("file", "FORMAT", `not a CSV file: ${(error as Error).message}`));
  }
  const [header, ...body] = rows;
  if (!header) return fail(invalidInput("file", "EMPTY", "has no header row"));
  const names = header.map((name) => name.trim().toLowerCase());
  const missing = csvColumnsRequired.filter((name) => !names.includes(name));
  if (missing.length > 0) return fail(invalidInput("file", "FORMAT", `the header lacks ${missing.join(", ")}`));
  const unknown = names.filter((name) => ![...csvColumnsRequired, ...csvColumnsOptional].includes(name as never));
  if (unknown.length > 0) return fail(invalidInput("file", "FORMAT", `unknown columns: ${unknown.join(", ")}`));
  const lines: StatementLineInput[] = [];
  for (const [index, row] of body.entries()) {
    const at = (name: string) => row[names.indexOf(name)] ?? "";
    const where = `row ${index + 2}`;
    const direction = at("direction").trim().toUpperCase();
    if (direction !== "DEBIT" && direction !== "CREDIT")
      return fail(invalidInput(`${where}.direction`, "FORMAT", "must be DEBIT or CREDIT"));
    const occurredAt = parseInstant(at("occurred_at").trim());
    if (!occurredAt) return fail(invalidInput(`${where}.occurred_at`, "FORMAT", "must be an ISO 8601 instant with an offset"));
    const externalRef = names.includes("external_ref") ? at("external_ref").trim() : "";
    lines.push({
      externalId: at("external_id").trim(),
      externalRef: externalRef === "" ? null : externalRef,
      amount: at("amount").trim(),
      direction: direction as Side,
      currency: at("currency").trim(),
      occurredAt,
      description: names.includes("description") ? at("description") : "",
    });
  }
  return ok(lines);
}
