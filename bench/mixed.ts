// Mixed write workload: closed-loop clients each running flows of dependent mutations, chosen at
// random with equal weight:
//   hold, captured in two parts: createHold -> captureHold(part) -> captureHold(the rest)
//   hold, voided:                createHold -> voidHold
//   transfer, partly reversed:   postTransfer -> reverseTransfer(part)
// Every request's latency is recorded by kind; counts are of the requests completed inside the
// window that answered the expected success type.
import http from "node:http";
import { leanDocuments } from "../test/support/ledger-client.js";
import { sleep } from "./lib/lifecycle.js";
import { measurementWindow, postGraphql, type Endpoint, type LoadOutcome } from "./lib/load.js";
import { percentile } from "./lib/stats.js";

export const mixedKinds = ["createHold", "captureHold (part)", "captureHold (rest)", "voidHold", "postTransfer", "reverseTransfer (part)"] as const;
export type MixedKind = (typeof mixedKinds)[number];
/** Kinds whose success posts a transfer (captures post one per call). */
export const transferKinds: readonly MixedKind[] = ["captureHold (part)", "captureHold (rest)", "postTransfer", "reverseTransfer (part)"];

const { createHold, captureHold, voidHold, postTransfer, reverseTransfer } = leanDocuments;
const mutations = { createHold, captureHold, voidHold, postTransfer, reverseTransfer };

export interface MixedSpec {
  clients: number;
  warmupMs: number;
  measureMs: number;
  requestTimeoutMs: number;
  /** Two distinct accounts (raw ids) of one currency; minBalance null, so no flow is refused. */
  randomPair: () => [string, string];
  currency: string;
  nextKey: () => string;
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
  shouldAbort?: () => string | null;
}

export interface KindStats {
  kind: MixedKind;
  /** Successful requests completed inside the window. */
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface MixedResult extends LoadOutcome {
  byKind: KindStats[];
  mutationsPerSecond: number;
  transfersPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Completed flows (all steps succeeded) that ended inside the window. */
  flows: number;
}

export async function runMixed(spec: MixedSpec, endpoint: Endpoint): Promise<MixedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.clients, maxFreeSockets: spec.clients });
  const window = measurementWindow(spec);
  const latencies = new Map<MixedKind, number[]>(mixedKinds.map((k) => [k, []]));
  const failures = new Map<string, number>();
  let failureCount = 0;
  let allRequests = 0;
  let flows = 0;
  let aborted: string | null = null;

  /** Sends one mutation; returns the result object if it is `success`, else null (failure recorded). */
  async function send(kind: MixedKind, field: keyof typeof mutations, input: Record<string, unknown>, success: string): Promise<Record<string, any> | null> {
    const body = JSON.stringify({ query: mutations[field], variables: { input: { idempotencyKey: spec.nextKey(), ...input } } });
    const sent = performance.now();
    let result: Record<string, any> | null = null;
    let label: string | null = null;
    try {
      const answer = await postGraphql(agent, endpoint, body, spec.requestTimeoutMs);
      const json = JSON.parse(answer.text) as { data?: Record<string, any>; errors?: { message?: string }[] };
      result = json.data?.[field] ?? null;
      if (json.errors?.length) label = `${kind}: GraphQL error ${json.errors[0]?.message ?? "?"}`.slice(0, 200);
      else if (result?.__typename !== success) label = `${kind}: result ${result?.__typename ?? "none"}${result?.code ? ` (${result.code})` : ""}`;
    } catch (error) {
      label = `${kind}: transport ${error instanceof Error ? error.message : String(error)}`;
    }
    const done = performance.now();
    allRequests += 1;
    if (label) {
      failureCount += 1;
      failures.set(label, (failures.get(label) ?? 0) + 1);
      if (label.includes("transport")) await sleep(50); // a dead server must not become a busy spin
      return null;
    }
    if (window.contains(done)) latencies.get(kind)!.push(done - sent);
    return result;
  }

  const amount = () => 2 + Math.floor(Math.random() * 9_999);
  const open = () => window.open() && aborted === null;

  async function flow(): Promise<boolean> {
    const [from, to] = spec.randomPair();
    const total = amount();
    const part = Math.floor(total / 2);
    const legs = { from: { id: from }, to: { id: to }, amount: String(total), currency: spec.currency };
    const choice = Math.floor(Math.random() * 3);
    if (choice === 2) {
      const posted = await send("postTransfer", "postTransfer", legs, "TransferPosted");
      if (!posted || !open()) return false;
      return (await send("reverseTransfer (part)", "reverseTransfer", { transferId: posted.transfer.id, amount: String(part) }, "TransferReversed")) !== null;
    }
    const created = await send("createHold", "createHold", { ...legs, expiresInSeconds: 3600 }, "HoldCreated");
    if (!created || !open()) return false;
    const holdId = created.hold.id as string;
    if (choice === 1) return (await send("voidHold", "voidHold", { holdId }, "HoldVoided")) !== null;
    if (!(await send("captureHold (part)", "captureHold", { holdId, amount: String(part) }, "HoldCaptured")) || !open()) return false;
    return (await send("captureHold (rest)", "captureHold", { holdId }, "HoldCaptured")) !== null;
  }

  async function client(): Promise<void> {
    while (open()) {
      const reason = spec.shouldAbort?.();
      if (reason) {
        aborted = reason;
        return;
      }
      const completed = await flow();
      const now = performance.now();
      if (completed && window.contains(now)) flows += 1;
    }
  }

  let windowSeconds = 0;
  try {
    await Promise.all(Array.from({ length: spec.clients }, () => client()));
  } finally {
    windowSeconds = window.close();
    agent.destroy();
  }
  const perSecond = (n: number) => (windowSeconds > 0 ? n / windowSeconds : 0);
  const byKind = mixedKinds.map((kind) => {
    const sorted = latencies.get(kind)!.sort((a, b) => a - b);
    return { kind, count: sorted.length, perSecond: perSecond(sorted.length), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  });
  const all = [...latencies.values()].flat().sort((a, b) => a - b);
  const transfers = byKind.filter((k) => transferKinds.includes(k.kind)).reduce((sum, k) => sum + k.count, 0);
  return {
    clients: spec.clients,
    windowSeconds,
    byKind,
    mutationsPerSecond: perSecond(all.length),
    transfersPerSecond: perSecond(transfers),
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    flows,
    failures,
    failureCount,
    allRequests,
    aborted,
  };
}
