// Money and text at the API edge: amounts only as JSON strings of one spelling, text inputs
// checked for characters PostgreSQL cannot store or people cannot see, subscriptions only over
// WebSocket. Each refusal is a typed answer and writes nothing.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ledgerState } from "../support/ledger-state.js";
import {
  captureHoldMutation,
  createAccount,
  createHold,
  expectResult,
  key,
  postTransfer,
  postTransferMutation,
  reverseTransferMutation,
} from "../support/ledger-client.js";
import { type GraphQLResponse, useFundedTenant, useTestService } from "../support/service.js";
import { print } from "graphql";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "input edge");
let merchant: { id: string; code: string };

beforeAll(async () => {
  merchant = await createAccount(tenant);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const state = () => ledgerState(service.db.pool, tenant.id);

/** Sends a request body exactly as written, so JSON numbers reach the server with all their digits. */
const raw = (body: string): Promise<GraphQLResponse> => service.post(body, { authorization: `Bearer ${tenant.key}` });

/** The query text of a generated document: sent with variables of the wrong type on purpose, so untyped. */
const untyped = print;

const createAccountMutation = `mutation($input: CreateAccountInput!) { createAccount(input: $input) {
  __typename ... on Problem { code message } ... on InvalidInput { field reason } ... on AccountCreated { account { id code name } } } }`;

describe("amounts are JSON strings of one spelling", () => {
  it("refuses a JSON number amount that JSON.parse would round (9007199254740993) and writes nothing", async () => {
    const before = await state();
    const response = await raw(`{"query": ${JSON.stringify(untyped(postTransferMutation))}, "variables": {"input": {
      "idempotencyKey": "${key("n")}", "from": {"id": "${funding.id}"}, "to": {"id": "${merchant.id}"},
      "amount": 9007199254740993, "currency": "USD"}}}`);
    expect(response.errors).toBeUndefined();
    expect(response.data!.postTransfer).toMatchObject({ __typename: "InvalidInput", field: "amount", reason: "AMOUNT_NOT_A_STRING" });
    expect(await state()).toEqual(before);
  });

  it("refuses 1e3 as a JSON number, an integer literal and a float literal in the query text", async () => {
    const before = await state();
    const exponent = await raw(`{"query": ${JSON.stringify(untyped(postTransferMutation))}, "variables": {"input": {
      "idempotencyKey": "${key("n")}", "from": {"id": "${funding.id}"}, "to": {"id": "${merchant.id}"}, "amount": 1e3, "currency": "USD"}}}`);
    expect(exponent.data!.postTransfer).toMatchObject({ __typename: "InvalidInput", reason: "AMOUNT_NOT_A_STRING" });
    for (const literal of ["1050", "10.5"]) {
      const data = await tenant.gql(`mutation { postTransfer(input: { idempotencyKey: "${key("lit")}", from: { id: "${funding.id}" },
        to: { id: "${merchant.id}" }, amount: ${literal}, currency: "USD" }) { __typename ... on InvalidInput { field reason message } } }`);
      expect(data.postTransfer).toMatchObject({ __typename: "InvalidInput", field: "amount", reason: "AMOUNT_NOT_A_STRING" });
      expect(data.postTransfer.message).toContain(literal);
    }
    expect(await state()).toEqual(before);
  });

  it("answers every amount field the same way: legs, bounds, captures, reversals and filters", async () => {
    const { hold } = expectResult(
      await createHold(tenant, { from: { id: funding.id }, to: { id: merchant.id }, amount: "500", currency: "USD" }),
      "HoldCreated",
    );
    const posted = expectResult(
      await postTransfer(tenant, { from: { id: funding.id }, to: { id: merchant.id }, amount: "300", currency: "USD" }),
      "TransferPosted",
    );
    const before = await state();
    const legs = await tenant.gql(untyped(postTransferMutation), {
      input: {
        idempotencyKey: key("legs"),
        legs: [
          { account: { id: funding.id }, direction: "DEBIT", amount: "5", currency: "USD" },
          { account: { id: merchant.id }, direction: "CREDIT", amount: 5, currency: "USD" },
        ],
      },
    });
    expect(legs.postTransfer).toMatchObject({ __typename: "InvalidInput", field: "legs[1].amount", reason: "AMOUNT_NOT_A_STRING" });
    const bound = await tenant.gql(createAccountMutation, {
      input: {
        idempotencyKey: key("a"),
        code: key("code"),
        name: "n",
        currency: "USD",
        normalSide: "CREDIT",
        minBalance: -100,
      },
    });
    expect(bound.createAccount).toMatchObject({ __typename: "InvalidInput", field: "minBalance", reason: "AMOUNT_NOT_A_STRING" });
    const zeros = await tenant.gql(createAccountMutation, {
      input: {
        idempotencyKey: key("a"),
        code: key("code"),
        name: "n",
        currency: "USD",
        normalSide: "CREDIT",
        maxBalance: "0100",
      },
    });
    expect(zeros.createAccount).toMatchObject({ __typename: "InvalidInput", field: "maxBalance", reason: "AMOUNT_LEADING_ZERO" });
    const update = await tenant.gql(
      `mutation($input: UpdateAccountInput!) { updateAccount(input: $input) {
      __typename ... on InvalidInput { field reason } } }`,
      { input: { idempotencyKey: key("u"), id: merchant.id, maxBalance: 1000 } },
    );
    expect(update.updateAccount).toMatchObject({ __typename: "InvalidInput", field: "maxBalance", reason: "AMOUNT_NOT_A_STRING" });
    const capture = await tenant.gql(untyped(captureHoldMutation), { input: { idempotencyKey: key("c"), holdId: hold.id, amount: 100 } });
    expect(capture.captureHold).toMatchObject({ __typename: "InvalidInput", field: "amount", reason: "AMOUNT_NOT_A_STRING" });
    const reversal = await tenant.gql(reverseTransferMutation, {
      input: { idempotencyKey: key("r"), transferId: posted.transfer.id, amount: "-0" },
    });
    expect(reversal.reverseTransfer).toMatchObject({ __typename: "InvalidInput", field: "amount", reason: "AMOUNT_LEADING_ZERO" });
    const filtered = await tenant.request(
      `query($min: Amount) { transfers(filter: { accountId: "${merchant.id}", amountMin: $min }) { nodes { id } } }`,
      { min: 5 },
    );
    expect(filtered.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      reason: "AMOUNT_NOT_A_STRING",
      field: "filter.amountMin",
    });
    expect(await state()).toEqual(before);
  });
});

describe("text inputs", () => {
  const nul = "a\u0000b";
  /** Raw JSON text of a string holding a lone high surrogate: JSON.stringify would escape it the same way. */
  const loneSurrogate = "x\ud800y";

  it.each<[string, (text: string) => Record<string, unknown>, string]>([
    ["a description", (text) => ({ description: text }), "description"],
    ["an idempotency key", (text) => ({ idempotencyKey: text }), "idempotencyKey"],
    ["a metadata value", (text) => ({ metadata: { note: text } }), "metadata.note"],
    ["a metadata key", (text) => ({ metadata: { [text]: "v" } }), "metadata key"],
    ["an account code of a leg", (text) => ({ to: { code: text } }), "to.code"],
  ])("refuses NUL and an unpaired surrogate in %s with InvalidInput and writes nothing", async (_, inputOf, field) => {
    const before = await state();
    for (const text of [nul, loneSurrogate]) {
      const result = await postTransfer(tenant, {
        from: { id: funding.id },
        to: { id: merchant.id },
        amount: "1",
        currency: "USD",
        ...inputOf(text),
      });
      expect(result).toMatchObject({
        __typename: "InvalidInput",
        field,
        reason: "FORBIDDEN_CHARACTER",
        message: expect.stringMatching(/U\+(0000|D800) at position 1/),
      });
    }
    expect(await state()).toEqual(before);
  });

  it("refuses NUL in an account's code and name, and answers a lookup by such a code as a bad request", async () => {
    const before = await state();
    for (const [field, input] of [
      ["code", { code: nul }],
      ["name", { name: nul }],
    ] as const) {
      const defaults = { idempotencyKey: key("a"), code: key("code"), name: "n", currency: "USD", normalSide: "CREDIT" };
      const data = await tenant.gql(createAccountMutation, { input: Object.assign(defaults, input) });
      expect(data.createAccount).toMatchObject({ __typename: "InvalidInput", field, reason: "FORBIDDEN_CHARACTER" });
    }
    const lookup = await tenant.request(`query($code: String!) { account(code: $code) { id } }`, { code: nul });
    expect(lookup.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "FORBIDDEN_CHARACTER", field: "code" });
    const prefix = await tenant.request(`query($p: String!) { accounts(filter: { codePrefix: $p }) { nodes { id } } }`, { p: nul });
    expect(prefix.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "FORBIDDEN_CHARACTER" });
    expect(await state()).toEqual(before);
  });

  it("refuses control and bidirectional-control characters in codes and keys, but keeps them readable in descriptions", async () => {
    const before = await state();
    for (const code of ["tab\there", "line\nbreak", "bell\u0007", "rlo\u202Etxt", "isolate\u2066x\u2069", "rlm\u200F", "c1\u0085"]) {
      const data = await tenant.gql(createAccountMutation, {
        input: { idempotencyKey: key("a"), code, name: "n", currency: "USD", normalSide: "CREDIT" },
      });
      expect(data.createAccount, JSON.stringify(code)).toMatchObject({
        __typename: "InvalidInput",
        field: "code",
        reason: "FORBIDDEN_CHARACTER",
      });
      const keyed = await postTransfer(tenant, {
        idempotencyKey: code,
        from: { id: funding.id },
        to: { id: merchant.id },
        amount: "1",
        currency: "USD",
      });
      expect(keyed, JSON.stringify(code)).toMatchObject({
        __typename: "InvalidInput",
        field: "idempotencyKey",
        reason: "FORBIDDEN_CHARACTER",
      });
    }
    for (const description of ["bell\u0007", "escape\u001B[31m", "c1\u009B"]) {
      const refused = await postTransfer(tenant, {
        description,
        from: { id: funding.id },
        to: { id: merchant.id },
        amount: "1",
        currency: "USD",
      });
      expect(refused, JSON.stringify(description)).toMatchObject({
        __typename: "InvalidInput",
        field: "description",
        reason: "FORBIDDEN_CHARACTER",
      });
    }
    expect(await state()).toEqual(before);
    const description = "Refund\tline one\nline two \u2067\u05E9\u05DC\u05D5\u05DD\u2069 \u202Eok";
    const posted = await postTransfer(tenant, {
      description,
      from: { id: funding.id },
      to: { id: merchant.id },
      amount: "1",
      currency: "USD",
    });
    expect(posted).toMatchObject({ __typename: "TransferPosted", transfer: { description } });
  });

  it("refuses a metadata integer beyond 2^53, which a JSON number cannot carry exactly", async () => {
    const before = await state();
    const response = await raw(`{"query": ${JSON.stringify(untyped(postTransferMutation))}, "variables": {"input": {
      "idempotencyKey": "${key("m")}", "from": {"id": "${funding.id}"}, "to": {"id": "${merchant.id}"}, "amount": "1", "currency": "USD",
      "metadata": {"orderId": 9007199254740993}}}}`);
    expect(response.data!.postTransfer).toMatchObject({ __typename: "InvalidInput", field: "metadata.orderId", reason: "UNSAFE_NUMBER" });
    expect(await state()).toEqual(before);
    const exact = expectResult(
      await postTransfer(tenant, {
        from: { id: funding.id },
        to: { id: merchant.id },
        amount: "1",
        currency: "USD",
        metadata: { orderId: "9007199254740993", small: 42, ratio: 0.25 },
      }),
      "TransferPosted",
    );
    expect(exact.transfer.metadata).toEqual({ orderId: "9007199254740993", small: 42, ratio: 0.25 });
  });
});

describe("subscriptions over HTTP", () => {
  it("answer 400 SUBSCRIPTION_OVER_HTTP naming the WebSocket URL, and log no internal error", async () => {
    const logged = vi.spyOn(console, "error");
    const webSocketUrl = `ws://${new URL(service.service.url).host}/graphql`;
    const response = await tenant.request(`subscription { transferPosted { id } }`);
    expect(response.status).toBe(400);
    expect(response.data).toBeUndefined();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.extensions).toMatchObject({
      code: "SUBSCRIPTION_OVER_HTTP",
      webSocketUrl,
    });
    expect(response.errors![0]!.message).toContain(webSocketUrl);
    expect(logged).not.toHaveBeenCalled();
  });
});
