// Business counters read from what each mutation resolver returns (over HTTP and WebSocket
// alike): results by __typename, newly posted transfers, rejections by code, replays, holds.
import type * as G from "../../generated/graphql.js";
import { holdEvents, idempotentReplays, mutationResults, rejections, transfersPosted } from "../../ops/metrics.js";

interface ResultLike {
  __typename?: string;
  /** Problems carry their code (= type name) instead of __typename. */
  code?: string;
  replay?: boolean;
  /** postTransfers: one result per item. */
  results?: ResultLike[];
}

const holdEventOf: Record<string, string> = { HoldCreated: "created", HoldCaptured: "captured", HoldVoided: "voided" };
const postsTransfer = new Set(["TransferPosted", "TransferReversed", "HoldCaptured"]);

export function recordMutationResult(mutation: string, value: ResultLike | null | undefined): void {
  if (!value) return;
  if (value.__typename === "TransfersPosted" && value.results) {
    for (const item of value.results) recordMutationResult(mutation, item);
    return;
  }
  const result = value.__typename ?? value.code ?? "unknown";
  const replay = value.replay === true;
  mutationResults.inc({ mutation, result, replay: String(replay) });
  if (replay) {
    idempotentReplays.inc({ mutation });
    return;
  }
  if (value.__typename === undefined && value.code) {
    rejections.inc({ mutation, code: value.code });
    return;
  }
  if (postsTransfer.has(result)) transfersPosted.inc({ mutation });
  const event = holdEventOf[result];
  if (event) holdEvents.inc({ event });
}

/** The resolvers, each counting its result. */
export function countMutationResults(resolvers: G.MutationResolvers): G.MutationResolvers {
  const counted: Record<string, unknown> = {};
  for (const [name, resolve] of Object.entries(resolvers) as [string, (...args: unknown[]) => Promise<ResultLike>][]) {
    counted[name] = async (...args: unknown[]) => {
      const value = await resolve(...args);
      recordMutationResult(name, value);
      return value;
    };
  }
  return counted as G.MutationResolvers;
}
