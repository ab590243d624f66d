// Public ids carry their type (acct_<uuid>, tr_<uuid>, ent_<n>, hold_<uuid>) so node(id) can route them.

export type NodeType = "Account" | "Transfer" | "Entry" | "Hold";

const prefixes: Record<NodeType, string> = { Account: "acct_", Transfer: "tr_", Entry: "ent_", Hold: "hold_" };
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const entryPattern = /^[1-9]\d{0,18}$/;

export const toGlobalId = (type: NodeType, rawId: string | bigint): string => prefixes[type] + String(rawId);

/** The raw id if `globalId` is a well-formed id of `type`; null otherwise (answered as unknown). */
export function fromGlobalId(type: NodeType, globalId: string): string | null {
  const prefix = prefixes[type];
  if (!globalId.startsWith(prefix)) return null;
  const raw = globalId.slice(prefix.length);
  const valid = type === "Entry" ? entryPattern.test(raw) && BigInt(raw) <= 2n ** 63n - 1n : uuidPattern.test(raw);
  return valid ? raw : null;
}

export function nodeTypeOf(globalId: string): NodeType | null {
  for (const [type, prefix] of Object.entries(prefixes) as [NodeType, string][]) {
    if (globalId.startsWith(prefix)) return type;
  }
  return null;
}
