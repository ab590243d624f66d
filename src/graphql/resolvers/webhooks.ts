// Thin: the webhook fields call src/webhooks/endpoints.ts (which refuses access tokens) and map
// outcomes to result unions.
import { assert } from "../../domain/assert.js";
import { parseInstant } from "../../domain/instant.js";
import { toGlobalId } from "../../domain/ids.js";
import type { Problem, Result } from "../../domain/problems.js";
import type { MutationResolvers, QueryResolvers, WebhookDeliveryResolvers, WebhookEndpointResolvers } from "../../generated/graphql.js";
import {
  attemptsOf,
  createWebhookEndpoint,
  disableWebhookEndpoint,
  findWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  replayWebhookEvents,
  retryWebhookDelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type WebhookContext,
  type WebhookDelivery as DeliveryRecord,
  type WebhookEndpoint as EndpointRecord,
} from "../../webhooks/endpoints.js";
import { eventTypeEnum, eventTypeOfEnum, type WebhookEventType } from "../../webhooks/events.js";
import { deliveryGlobalId, endpointGlobalId, eventGlobalId } from "../../webhooks/ids.js";
import type { Context } from "../context.js";
import { connection, decodeCursor, encodeCursor, isInstantIdCursor, isSerialCursor, pageSize } from "../cursors.js";

const webhooksOf = (ctx: Context): WebhookContext => {
  assert(ctx.webhooks !== null, "contexts that run webhook calls have their settings");
  return ctx.webhooks;
};

const problemResult = (problem: Problem) => ({ ...problem, replay: false });

function mapResult<T, R>(result: Result<T>, map: (value: T) => R) {
  return result.ok ? map(result.value) : problemResult(result.problem);
}

const eventTypesOf = (values: readonly string[]): WebhookEventType[] =>
  values.map((value) => {
    const type = eventTypeOfEnum(value);
    assert(type !== null, `the schema's WebhookEventType values are event types: ${value}`);
    return type;
  });

type FilterInput = { accountId?: string | null; metadata?: unknown } | null | undefined;

const isDeliveryCursor = isSerialCursor("s");

export const webhookQueries: Pick<Required<QueryResolvers>, "webhookEndpoints" | "webhookEndpoint"> = {
  webhookEndpoints: async (_, { first, after }, ctx) => {
    const cursor = decodeCursor(after, isInstantIdCursor);
    const { rows, hasNextPage } = await listWebhookEndpoints(
      ctx.db,
      ctx.access,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor && { createdAt: parseInstant(cursor.t)!, id: cursor.id },
    );
    return connection(rows, hasNextPage, (row) => encodeCursor({ t: row.createdAt.toISOString(), id: row.id }));
  },
  webhookEndpoint: (_, { id }, ctx) => findWebhookEndpoint(ctx.db, ctx.access, id),
};

export const webhookMutations: Pick<
  Required<MutationResolvers>,
  | "createWebhookEndpoint"
  | "updateWebhookEndpoint"
  | "rotateWebhookSecret"
  | "disableWebhookEndpoint"
  | "retryWebhookDelivery"
  | "replayWebhookEvents"
> = {
  createWebhookEndpoint: async (_, { input }, ctx) =>
    mapResult(
      await createWebhookEndpoint(ctx.db, ctx.access, webhooksOf(ctx), {
        ...input,
        eventTypes: eventTypesOf(input.eventTypes),
        filter: input.filter as FilterInput,
      }),
      ({ endpoint, secret, replay }) => ({ __typename: "WebhookEndpointCreated" as const, endpoint, secret, replay }),
    ),
  updateWebhookEndpoint: async (_, { input }, ctx) =>
    mapResult(
      await updateWebhookEndpoint(ctx.db, ctx.access, webhooksOf(ctx), {
        ...input,
        eventTypes: input.eventTypes ? eventTypesOf(input.eventTypes) : null,
        // Given as null: no filter any more; left out: unchanged.
        filter: "filter" in input ? ((input.filter ?? null) as FilterInput) : undefined,
      }),
      (endpoint) => ({ __typename: "WebhookEndpointUpdated" as const, endpoint }),
    ),
  disableWebhookEndpoint: async (_, { id }, ctx) =>
    mapResult(await disableWebhookEndpoint(ctx.db, ctx.access, webhooksOf(ctx), id), (endpoint) => ({
      __typename: "WebhookEndpointUpdated" as const,
      endpoint,
    })),
  rotateWebhookSecret: async (_, { input }, ctx) =>
    mapResult(await rotateWebhookSecret(ctx.db, ctx.access, webhooksOf(ctx), input), ({ endpoint, secret, replay }) => ({
      __typename: "WebhookSecretRotated" as const,
      endpoint,
      secret,
      replay,
    })),
  retryWebhookDelivery: async (_, { id }, ctx) =>
    mapResult(await retryWebhookDelivery(ctx.db, ctx.access, id), (delivery) => ({
      __typename: "WebhookDeliveryRetried" as const,
      delivery,
    })),
  replayWebhookEvents: async (_, { input }, ctx) =>
    mapResult(await replayWebhookEvents(ctx.db, ctx.access, webhooksOf(ctx), input), ({ endpoint, deliveries }) => ({
      __typename: "WebhookEventsReplayed" as const,
      endpoint,
      deliveries,
    })),
};

/** A page's deliveries carry their attempts, read in one query for the page. */
type DeliveryWithAttempts = DeliveryRecord & { attempts?: Awaited<ReturnType<typeof attemptsOf>>[number] };

export const WebhookEndpoint: WebhookEndpointResolvers<Context, EndpointRecord> = {
  id: (endpoint) => endpointGlobalId(endpoint.id),
  eventTypes: (endpoint) => endpoint.eventTypes.map(eventTypeEnum) as never,
  filter: (endpoint) =>
    endpoint.filterAccountId || endpoint.filterMetadata
      ? { accountId: endpoint.filterAccountId ? toGlobalId("Account", endpoint.filterAccountId) : null, metadata: endpoint.filterMetadata }
      : null,
  breaker: (endpoint, _, ctx) => {
    const failuresMax = webhooksOf(ctx).settings.breakerFailuresMax;
    if (endpoint.consecutiveFailures < failuresMax) return "CLOSED";
    return endpoint.breakerOpenUntil && endpoint.breakerOpenUntil > new Date() ? "OPEN" : "HALF_OPEN";
  },
  deliveries: async (endpoint, { status, first, after }, ctx) => {
    const cursor = decodeCursor(after, isDeliveryCursor);
    const { rows, hasNextPage } = await listDeliveries(
      ctx.db,
      endpoint,
      status ?? null,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor ? BigInt(cursor.s) : null,
    );
    const attempts = await attemptsOf(
      ctx.db,
      rows.map((row) => row.id),
    );
    const withAttempts: DeliveryWithAttempts[] = rows.map((row, index) => ({ ...row, attempts: attempts[index]! }));
    return connection(withAttempts, hasNextPage, (row) => encodeCursor({ s: row.seq.toString() }));
  },
};

export const WebhookDelivery: WebhookDeliveryResolvers<Context, DeliveryWithAttempts> = {
  id: (delivery) => deliveryGlobalId(delivery.id),
  nextAttemptAt: (delivery) => (delivery.status === "PENDING" ? delivery.nextAttemptAt : null),
  event: (delivery) => ({ ...delivery.event, id: eventGlobalId(delivery.event.id) }),
  attempts: async (delivery, _, ctx) => delivery.attempts ?? (await attemptsOf(ctx.db, [delivery.id]))[0]!,
};
