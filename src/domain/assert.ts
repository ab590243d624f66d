/** A broken invariant: a bug, never an expected failure. Surfaces as INTERNAL_SERVER_ERROR. */
export class InvariantViolation extends Error {
  override name = "InvariantViolation";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(`invariant violated: ${message}`);
}
