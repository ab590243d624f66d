// The ledger the scenarios load: accounts made through createAccount, fresh idempotency keys,
// random pairs of accounts, the postTransfer request the transfer and live scenarios send, and
// how its answer is judged.
import http from "node:http";
import { print } from "graphql";
import { createAccountMutation, leanDocuments } from "../../test/support/ledger-client.js";
import {
  mapLimited,
  parseAnswer,
  postGraphql,
  requestTimeoutMs,
  resultLabel,
  type Endpoint,
  type HttpAnswer,
  type ResultJson,
  type Verdict,
} from "./load.js";

/** The tests' createAccount document as text: the benchmark writes its request bodies itself. */
const createAccountQuery = print(createAccountMutation);

/** USD accounts the transfer, mixed and live scenarios share. */
export const accountCount = 1000;

export interface AccountInput {
  idempotencyKey: string;
  code: string;
  name: string;
  currency: string;
  normalSide: "DEBIT" | "CREDIT";
  minBalance: string | null;
}

/** One createAccount over `agent`; returns the new account's global id. */
export async function createAccount(agent: http.Agent, endpoint: Endpoint, label: string, input: AccountInput): Promise<string> {
  const body = JSON.stringify({ query: createAccountQuery, variables: { input } });
  const { json, failures } = parseAnswer(await postGraphql(agent, endpoint, body, requestTimeoutMs));
  const result = json?.data?.createAccount as { __typename?: string; account?: { id: string }; message?: string } | undefined;
  if (result?.__typename !== "AccountCreated" || !result.account) {
    throw new Error(`createAccount ${label} failed: ${failures.join("; ") || resultLabel(result)} ${result?.message ?? ""}`);
  }
  return result.account.id;
}

/** The shared accounts (DEBIT-normal, `minBalance: null`, so no transfer is refused), 8 requests at a time. */
export async function createAccounts(endpoint: Endpoint, runTag: string): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const indexes = Array.from({ length: accountCount }, (_, i) => i);
    return await mapLimited(indexes, 8, (i) =>
      createAccount(agent, endpoint, String(i), {
        idempotencyKey: `${runTag}-account-${i}`,
        code: `bench:${i}`,
        name: `Bench account ${i}`,
        currency: "USD",
        normalSide: "DEBIT",
        minBalance: null,
      }),
    );
  } finally {
    agent.destroy();
  }
}

export interface Workload {
  /** Global ids of the shared accounts. */
  accounts: string[];
  /** A new idempotency key of this run. */
  nextKey: () => string;
  /** Two distinct accounts at random. */
  randomPair: () => [string, string];
  /** A transfer input between two accounts: a new key, a random amount of 1..10,000 minor units, USD. */
  transferInput: (
    from: string,
    to: string,
  ) => { idempotencyKey: string; from: { id: string }; to: { id: string }; amount: string; currency: string };
  /** The postTransfer request body between two accounts (the uniform scenario's and the live group's). */
  transferBody: (from: string, to: string) => string;
}

export function workload(accounts: string[], runTag: string): Workload {
  let keySeq = 0;
  const nextKey = () => `${runTag}-${(keySeq++).toString(36)}`;
  const amount = () => String(1 + Math.floor(Math.random() * 10_000));
  const randomPair = (): [string, string] => {
    const i = Math.floor(Math.random() * accounts.length);
    let j = Math.floor(Math.random() * (accounts.length - 1));
    if (j >= i) j += 1;
    return [accounts[i]!, accounts[j]!];
  };
  const transferInput = (from: string, to: string) => ({
    idempotencyKey: nextKey(),
    from: { id: from },
    to: { id: to },
    amount: amount(),
    currency: "USD",
  });
  const transferBody = (from: string, to: string) =>
    JSON.stringify({ query: leanDocuments.postTransfer, variables: { input: transferInput(from, to) } });
  return { accounts, nextKey, randomPair, transferInput, transferBody };
}

/** A postTransfer answer: one transfer posted, or the failures in it. */
export function judgeSingle(answer: HttpAnswer): Verdict {
  const { json, failures } = parseAnswer(answer);
  const result = json?.data?.postTransfer as ResultJson | null | undefined;
  if (result?.__typename === "TransferPosted") return { posted: 1, failures };
  if (json && failures.length === 0) failures.push(resultLabel(result));
  return { posted: 0, failures };
}
