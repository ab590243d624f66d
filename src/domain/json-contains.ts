// JSON containment as PostgreSQL's jsonb @> defines it, for filtering live events in memory the
// way the transfers query filters stored ones.

type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Whether `container` contains `contained`: every key of an object is present with a contained
 * value; every element of an array is contained in some element; scalars are equal. As in
 * PostgreSQL, a top-level array also contains a scalar that is one of its elements.
 */
export function jsonContains(container: Json, contained: Json, topLevel = true): boolean {
  if (Array.isArray(contained)) {
    if (!Array.isArray(container)) return false;
    return contained.every((wanted) => container.some((have) => jsonContains(have, wanted, false)));
  }
  if (isObject(contained)) {
    if (!isObject(container)) return false;
    return Object.entries(contained).every(([key, wanted]) => Object.hasOwn(container, key) && jsonContains(container[key], wanted, false));
  }
  if (topLevel && Array.isArray(container)) return container.some((have) => have === contained);
  return container === contained;
}
