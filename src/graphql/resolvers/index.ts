import type { Resolvers } from "../../generated/graphql.js";
import { AmountScalar, BigIntScalar, DateTimeScalar, JSONObjectScalar } from "../scalars.js";
import { Balance } from "./balance.js";
import { AccountBalance } from "./account-balance.js";
import { Mutation } from "./mutation.js";
import { BalanceChange, HoldChange, Subscription } from "./subscription.js";
import { Account, Currency, Entry, Hold, HoldLeg, Transfer } from "./nodes.js";
import { Query } from "./query.js";
import { Node, Problem, resultUnions } from "./results.js";
import { WebhookDelivery, WebhookEndpoint } from "./webhooks.js";
import { ReconciliationException, ReconciliationResolution, ReconciliationRun, Statement } from "./reconciliation.js";

export const resolvers: Resolvers = {
  Amount: AmountScalar,
  BigInt: BigIntScalar,
  DateTime: DateTimeScalar,
  JSONObject: JSONObjectScalar,
  Query,
  Mutation,
  Subscription,
  BalanceChange,
  HoldChange,
  Account,
  Currency,
  Transfer,
  Entry,
  Hold,
  HoldLeg,
  Balance,
  AccountBalance,
  WebhookEndpoint,
  WebhookDelivery,
  Statement,
  ReconciliationRun,
  ReconciliationException,
  ReconciliationResolution,
  Node,
  Problem,
  ...resultUnions,
};
