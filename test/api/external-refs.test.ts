// External references through the API: a payment provider's charge, payout or refund id on
// transfers and holds, given on every write that makes one, stored, returned everywhere, and
// found again with transfers(filter: {externalRef}) and account.entries(filter: {externalRef}).
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client.js";
import { listEntries, listTransfers } from "../../src/ledger/queries.js";
import { ledgerState } from "../support/ledger-state.js";
import { createAccount, expectResult, key, mintToken, postTransfer } from "../support/ledger-client.js";
import { useFundedTenant, useTestService, type TestTenant } from "../support/service.js";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "external refs");

const problem = `... on Problem { code message } ... on InvalidInput { field reason } ... on LimitExceeded { limit max }`;
const transferFields = `id externalRef hold { id externalRef } reverses { id externalRef }`;
const documents = {
  postTransfer: `mutation($input: TransferInput!) { postTransfer(input: $input) {
    __typename ... on TransferPosted { replay transfer { ${transferFields} } } ${problem} } }`,
  postTransfers: `mutation($input: PostTransfersInput!) { postTransfers(input: $input) {
    __typename ... on TransfersPosted { results { __typename ... on TransferPosted { transfer { ${transferFields} } } ${problem} } } } }`,
  createHold: `mutation($input: CreateHoldInput!) { createHold(input: $input) {
    __typename ... on HoldCreated { replay hold { id externalRef } } ${problem} } }`,
  captureHold: `mutation($input: CaptureHoldInput!) { captureHold(input: $input) {
    __typename ... on HoldCaptured { replay hold { id externalRef } transfer { ${transferFields} } } ${problem} } }`,
  reverseTransfer: `mutation($input: ReverseTransferInput!) { reverseTransfer(input: $input) {
    __typename ... on TransferReversed { replay transfer { ${transferFields} } } ${problem} } }`,
};
type Operation = keyof typeof documents;

const run = async (who: TestTenant, operation: Operation, input: Record<string, unknown>) =>
  (await who.gql(documents[operation], { input }))[operation];

/** A transfer or hold read back by id: what was stored, not what the write answered. */
const stored = async (kind: "transfer" | "hold", id: string): Promise<string | null> =>
  (await tenant.gql(`query($id: ID!) { ${kind}(id: $id) { externalRef } }`, { id }))[kind].externalRef;

/** From the funding account to `to`, in USD. */
const usd = (to: string, amount = "100") => ({ from: { id: funding.id }, to: { id: to }, amount, currency: "USD" });
const refOf = (externalRef: string | undefined) => (externalRef === undefined ? {} : { externalRef });

async function newHold(to: string, externalRef?: string): Promise<string> {
  const created = await run(tenant, "createHold", {
    idempotencyKey: key("hold"),
    ...usd(to, "500"),
    expiresInSeconds: 3600,
    ...refOf(externalRef),
  });
  expect(created.__typename).toBe("HoldCreated");
  return created.hold.id;
}

async function newTransfer(to: string, externalRef?: string): Promise<string> {
  const posted = await run(tenant, "postTransfer", { idempotencyKey: key("tr"), ...usd(to), ...refOf(externalRef) });
  expect(posted.__typename).toBe("TransferPosted");
  return posted.transfer.id;
}

describe("externalRef round-trips", () => {
  // A write, what it made (read from its answer), and what else its answer must show.
  interface Write {
    operation: Operation;
    input: Record<string, unknown>;
    made: (answer: any) => { kind: "transfer" | "hold"; id: string; externalRef: string | null };
    also?: (answer: any) => void | Promise<void>;
  }
  const transferOf = (answer: any) => ({ kind: "transfer" as const, id: answer.transfer.id, externalRef: answer.transfer.externalRef });
  const holdOf = (answer: any) => ({ kind: "hold" as const, id: answer.hold.id, externalRef: answer.hold.externalRef });
  const hold = (merchant: string, externalRef?: string): Write => ({
    operation: "createHold",
    input: { idempotencyKey: key("hold"), ...usd(merchant), expiresInSeconds: 3600, ...refOf(externalRef) },
    made: holdOf,
  });
  const capture = async (merchant: string, holdRef: string | undefined, externalRef?: string): Promise<Write> => {
    const holdId = await newHold(merchant, holdRef);
    return {
      operation: "captureHold",
      input: { idempotencyKey: key("cap"), holdId, amount: "200", ...refOf(externalRef) },
      made: transferOf,
      // The hold keeps its own.
      also: (answer) => expect(answer.transfer.hold).toEqual({ id: holdId, externalRef: holdRef ?? null }),
    };
  };
  const reversal = async (merchant: string, externalRef?: string): Promise<Write> => {
    const charge = await newTransfer(merchant, "ch_refunded");
    return {
      operation: "reverseTransfer",
      input: { idempotencyKey: key("rev"), transferId: charge, amount: "40", ...refOf(externalRef) },
      made: transferOf,
      also: (answer) => expect(answer.transfer.reverses).toEqual({ id: charge, externalRef: "ch_refunded" }),
    };
  };

  const cases: [string, (merchant: string) => Write | Promise<Write>, string | null][] = [
    [
      "postTransfer keeps the charge id",
      (merchant) => ({
        operation: "postTransfer",
        input: { idempotencyKey: key("tr"), ...usd(merchant), externalRef: "ch_1" },
        made: transferOf,
      }),
      "ch_1",
    ],
    [
      "postTransfer without one has none",
      (merchant) => ({ operation: "postTransfer", input: { idempotencyKey: key("tr"), ...usd(merchant) }, made: transferOf }),
      null,
    ],
    [
      "a postTransfers item keeps its own (a payout id), next to an item without one",
      (merchant) => ({
        operation: "postTransfers",
        input: {
          atomic: true,
          transfers: [
            { idempotencyKey: key("b1"), ...usd(merchant), externalRef: "po_1" },
            { idempotencyKey: key("b2"), ...usd(merchant) },
          ],
        },
        made: (answer) => transferOf(answer.results[0]),
        also: async (answer) => {
          expect(answer.results[1].transfer.externalRef).toBeNull();
          expect(await stored("transfer", answer.results[1].transfer.id)).toBeNull();
        },
      }),
      "po_1",
    ],
    ["createHold keeps the authorization's id", (merchant) => hold(merchant, "ch_auth"), "ch_auth"],
    ["createHold without one has none", (merchant) => hold(merchant), null],
    ["captureHold with its own gives it to the capture's transfer", (merchant) => capture(merchant, "ch_auth", "cap_1"), "cap_1"],
    ["captureHold without one gives the capture's transfer the hold's", (merchant) => capture(merchant, "ch_auth"), "ch_auth"],
    ["captureHold of a hold without one has none", (merchant) => capture(merchant, undefined), null],
    ["reverseTransfer keeps the refund's id", (merchant) => reversal(merchant, "re_1"), "re_1"],
    ["reverseTransfer without one has none, not the reversed transfer's", (merchant) => reversal(merchant), null],
  ];

  it.each(cases)("%s: in the answer, in a replay and read back", async (_, writeOf, expected) => {
    const { operation, input, made, also } = await writeOf((await createAccount(tenant)).id);
    const answer = await run(tenant, operation, input);
    const replay = await run(tenant, operation, input);
    expect(made(answer).externalRef).toBe(expected);
    expect(made(replay)).toEqual(made(answer));
    expect(await stored(made(answer).kind, made(answer).id)).toBe(expected);
    await also?.(answer);
  });
});

describe("bad externalRef values", () => {
  // [what, value, expected answer]; "not a string" is refused by the schema's String type before
  // any resolver runs (a BAD_USER_INPUT error, as for every mistyped argument).
  const values: [string, unknown, Record<string, unknown>][] = [
    ["an empty string", "", { __typename: "InvalidInput", field: "externalRef", reason: "EMPTY" }],
    ["one character too many", "r".repeat(256), { __typename: "LimitExceeded", limit: "externalRefLengthMax", max: "255" }],
    ["a control character", "ch_\u00071", { __typename: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["a line feed", "ch_1\n", { __typename: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["a right-to-left override", "ch_\u202E1", { __typename: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["NUL", "ch_\u00001", { __typename: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["not a string", 12345, { errorCode: "BAD_USER_INPUT" }],
  ];
  // Each write with the value in its externalRef, and how to read its one result.
  const writes: [Operation, (merchant: string, target: { holdId: string; transferId: string }, ref: unknown) => unknown][] = [
    ["postTransfer", (merchant, _, externalRef) => ({ idempotencyKey: key("tr"), ...usd(merchant), externalRef })],
    [
      "postTransfers",
      (merchant, _, externalRef) => ({
        atomic: false,
        transfers: [{ idempotencyKey: key("b"), ...usd(merchant), externalRef }],
      }),
    ],
    ["createHold", (merchant, _, externalRef) => ({ idempotencyKey: key("h"), ...usd(merchant), expiresInSeconds: 60, externalRef })],
    ["captureHold", (_, { holdId }, externalRef) => ({ idempotencyKey: key("c"), holdId, externalRef })],
    ["reverseTransfer", (_, { transferId }, externalRef) => ({ idempotencyKey: key("r"), transferId, externalRef })],
  ];
  const table = writes.flatMap(([operation, input]) =>
    values.map(([what, value, expected]) => [operation, what, input, value, expected] as const),
  );

  it.each(table)("%s with %s is refused and writes nothing", async (operation, _, inputOf, value, expected) => {
    const merchant = await createAccount(tenant);
    const target = { holdId: await newHold(merchant.id, "ch_target"), transferId: await newTransfer(merchant.id, "ch_target") };
    const before = await ledgerState(service.db.pool, tenant.id);
    const response = await tenant.request(documents[operation], { input: inputOf(merchant.id, target, value) });
    if ("errorCode" in expected) {
      expect(response.errors?.[0]?.extensions?.code).toBe(expected.errorCode);
      expect(response.errors?.[0]?.message).toMatch(/String cannot represent a non string value/);
    } else {
      expect(response.errors).toBeUndefined();
      const answer = response.data![operation];
      const result = operation === "postTransfers" ? answer.results[0] : answer;
      expect(result).toMatchObject(expected);
      expect(result.message).toMatch(/externalRef/);
    }
    expect(await ledgerState(service.db.pool, tenant.id)).toEqual(before);
  });

  it("limits.externalRefLengthMax says the limit", async () => {
    expect((await tenant.gql(`{ limits { externalRefLengthMax } }`)).limits.externalRefLengthMax).toBe(255);
  });
});

describe("transfers(filter: {externalRef}) and account.entries(filter: {externalRef})", () => {
  const transfersQuery = `query($filter: TransferFilter, $first: Int, $after: String) {
    transfers(filter: $filter, first: $first, after: $after) { nodes { id externalRef } pageInfo { hasNextPage endCursor } } }`;
  const entriesQuery = `query($id: ID!, $filter: EntryFilter) {
    account(id: $id) { entries(filter: $filter) { nodes { kind amount direction transfer { id externalRef } } } } }`;
  const ids = (data: any) => data.transfers.nodes.map((n: { id: string }) => n.id);

  it("finds exactly the transfers with that reference, a charge and its refund, newest first, alone or with the other filters", async () => {
    const ref = key("ch");
    const merchant = (await createAccount(tenant)).id;
    const other = (await createAccount(tenant)).id;
    const charge = await newTransfer(merchant, ref);
    const refund = (
      await run(tenant, "reverseTransfer", { idempotencyKey: key("rev"), transferId: charge, amount: "30", externalRef: ref })
    ).transfer.id;
    const elsewhere = await newTransfer(other, ref); // the same reference on other accounts
    await newTransfer(merchant, `${ref}-other`); // a reference that only starts the same
    await newTransfer(merchant); // none
    const holdId = await newHold(merchant, ref);
    const capture = (await run(tenant, "captureHold", { idempotencyKey: key("cap"), holdId, amount: "5" })).transfer.id; // inherits it

    const byRef = await tenant.gql(transfersQuery, { filter: { externalRef: ref } });
    expect(ids(byRef)).toEqual([capture, elsewhere, refund, charge]);
    expect(byRef.transfers.nodes.every((n: { externalRef: string }) => n.externalRef === ref)).toBe(true);

    // With accountId: those with an entry on it; with direction too, the side of that entry.
    expect(ids(await tenant.gql(transfersQuery, { filter: { externalRef: ref, accountId: merchant } }))).toEqual([capture, refund, charge]);
    expect(ids(await tenant.gql(transfersQuery, { filter: { externalRef: ref, accountId: merchant, direction: "DEBIT" } }))).toEqual([
      refund,
    ]);
    expect(ids(await tenant.gql(transfersQuery, { filter: { externalRef: ref, accountId: other } }))).toEqual([elsewhere]);

    // Paged like any other listing.
    const first = await tenant.gql(transfersQuery, { filter: { externalRef: ref }, first: 3 });
    expect(first.transfers.pageInfo.hasNextPage).toBe(true);
    const rest = await tenant.gql(transfersQuery, { filter: { externalRef: ref }, first: 3, after: first.transfers.pageInfo.endCursor });
    expect([...ids(first), ...ids(rest)]).toEqual([capture, elsewhere, refund, charge]);
    expect(rest.transfers.pageInfo.hasNextPage).toBe(false);

    // An account's entries of the transfers with that reference (not the hold's own HOLD entry).
    const entries = (await tenant.gql(entriesQuery, { id: merchant, filter: { externalRef: ref } })).account.entries.nodes;
    expect(entries.map((e: any) => [e.kind, e.direction, e.amount, e.transfer.id])).toEqual([
      ["CAPTURE", "CREDIT", "5", capture],
      ["POSTED", "DEBIT", "30", refund],
      ["POSTED", "CREDIT", "100", charge],
    ]);
    const credits = await tenant.gql(entriesQuery, { id: merchant, filter: { externalRef: ref, direction: "CREDIT", kinds: ["POSTED"] } });
    expect(credits.account.entries.nodes.map((e: any) => e.transfer.id)).toEqual([charge]);

    expect(ids(await tenant.gql(transfersQuery, { filter: { externalRef: key("unknown") } }))).toEqual([]);
  });

  it("respects tenants: another tenant's transfers with the same reference are not found", async () => {
    const ref = key("ch-shared");
    const mine = await newTransfer((await createAccount(tenant)).id, ref);
    const other = await service.newTenant("external refs, other");
    const theirFunding = await createAccount(other, { minBalance: null });
    const theirs = expectResult(
      await postTransfer(other, {
        from: { id: theirFunding.id },
        to: { id: (await createAccount(other)).id },
        amount: "100",
        currency: "USD",
        externalRef: ref,
      }),
      "TransferPosted",
    );
    expect(ids(await tenant.gql(transfersQuery, { filter: { externalRef: ref } }))).toEqual([mine]);
    expect(ids(await other.gql(transfersQuery, { filter: { externalRef: ref } }))).toEqual([theirs.transfer.id]);
  });

  it("an access token limited to accounts finds the transfers with that reference on one of them, and needs accountId", async () => {
    const ref = key("ch-token");
    const merchant = (await createAccount(tenant)).id;
    const outsider = (await createAccount(tenant)).id;
    const seen = await newTransfer(merchant, ref);
    await newTransfer(outsider, ref);
    const reader = service.as(tenant, await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant] }));
    expect(ids(await reader.gql(transfersQuery, { filter: { externalRef: ref, accountId: merchant } }))).toEqual([seen]);
    expect(ids(await reader.gql(transfersQuery, { filter: { externalRef: ref, accountId: outsider } }))).toEqual([]);
    const unscoped = await reader.request(transfersQuery, { filter: { externalRef: ref } });
    expect(unscoped.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const entries = (await reader.gql(entriesQuery, { id: merchant, filter: { externalRef: ref } })).account.entries.nodes;
    expect(entries.map((e: any) => e.transfer.id)).toEqual([seen]);
  });

  it.each<[string, string, string]>([
    ["an empty reference (it could never match)", "", "EMPTY"],
    ["a reference with NUL (it could never be stored)", "ch_\u00001", "FORBIDDEN_CHARACTER"],
  ])("refuses %s as BAD_USER_INPUT, for transfers and for entries", async (_, externalRef, reason) => {
    const merchant = (await createAccount(tenant)).id;
    for (const [query, variables] of [
      [transfersQuery, { filter: { externalRef } }],
      [entriesQuery, { id: merchant, filter: { externalRef } }],
    ] as const) {
      const response = await tenant.request(query, variables);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason, field: "filter.externalRef" });
    }
  });
});

describe("the lookup's plan", () => {
  /** A Database whose queries are recorded, not run: the SQL the listing sends, with its parameters. */
  function recorder() {
    const sent: { sql: string; params: unknown[] }[] = [];
    const db = {
      pool: {
        query: async (sql: string, params: unknown[]) => {
          sent.push({ sql, params });
          return { rows: [] };
        },
      },
    } as unknown as Database;
    return { db, sent };
  }

  /** The scans of a JSON plan, each as "Node Type on relation using index". */
  function scansOf(plan: any): string[] {
    const here =
      plan["Relation Name"] || plan["Index Name"]
        ? [`${plan["Node Type"]} on ${plan["Relation Name"] ?? "-"} using ${plan["Index Name"] ?? "-"}`]
        : [];
    return [...here, ...(plan.Plans ?? []).flatMap(scansOf)];
  }

  // In a transaction that is rolled back, so nothing stays: 30,000 transfers of one tenant (one
  // in ten with a reference of its own, three with the one looked for), each with an entry on one
  // account; then ANALYZE, so the planner decides on statistics like those of a real table
  // (ANALYZE's statistics roll back too). The SQL is what the listings send.
  it("transfers(filter: {externalRef}) is a range scan of the partial index, not a scan of the tenant's transfers", async () => {
    const planTenant = await service.newTenant("external refs, plan");
    const accountId = (await createAccount(planTenant)).id.replace(/^acct_/, "");
    const client = await service.db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `WITH t AS (
           INSERT INTO transfers (id, tenant_id, idempotency_key, created_at, external_ref)
           SELECT gen_random_uuid(), $1, 'plan-' || i, now(),
                  CASE WHEN i % 10000 = 0 THEN 'ch_looked_for' WHEN i % 10 = 0 THEN 'ch_' || i END
           FROM generate_series(1, 30000) AS i
           RETURNING id, seq)
         INSERT INTO entries (tenant_id, kind, transfer_id, account_id, leg_index, direction, amount, account_version,
                              debits_posted_after, credits_posted_after, created_at)
         SELECT $1, 'POSTED', t.id, $2, 0, 'CREDIT', 1, row_number() OVER (ORDER BY t.seq), 0, row_number() OVER (ORDER BY t.seq), now()
         FROM t`,
        [planTenant.id, accountId],
      );
      await client.query("ANALYZE transfers");
      await client.query("ANALYZE entries");
      const transferScans = async (sent: { sql: string; params: unknown[] }[]) => {
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sent[0]!.sql}`, sent[0]!.params);
        return scansOf(rows[0]["QUERY PLAN"][0].Plan).filter((scan) => scan.includes(" on transfers "));
      };
      const viaIndex = expect.stringMatching(
        /^(Index Scan|Bitmap Index Scan|Index Only Scan) on transfers using transfers_tenant_id_external_ref_idx$/,
      );
      for (const filter of [
        { externalRef: "ch_looked_for" },
        { externalRef: "ch_looked_for", createdFrom: new Date(Date.now() - 3600_000) },
        { externalRef: "ch_looked_for", accountId },
      ]) {
        const { db, sent } = recorder();
        await listTransfers(db, planTenant.id, 20, null, filter);
        expect(await transferScans(sent), JSON.stringify(filter)).toEqual([viaIndex]);
      }
      // An account's entries by a reference start from the transfers that have it, too.
      const { db, sent } = recorder();
      await listEntries(db, planTenant.id, accountId, 20, null, { externalRef: "ch_looked_for" });
      expect(await transferScans(sent)).toEqual([viaIndex]);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });
});
