import { readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../project-root.js";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { Context } from "./context.js";
import { formatError } from "./errors.js";
import { graphqlCjs } from "./graphql-cjs.js";
import { operationCheckPlugin, type OperationPolicy } from "./operation-check.js";
import { resolvers } from "./resolvers/index.js";

export const typeDefs = readFileSync(path.join(projectRoot, "schema.graphql"), "utf8");

/** The executable schema, shared by Apollo (HTTP) and graphql-ws (WebSocket). */
export const schema = makeExecutableSchema({ typeDefs, resolvers: resolvers as never });

export interface ApolloOptions {
  /** The operation checks shared with the WebSocket transport. */
  policy: OperationPolicy;
  production: boolean;
  /** Answer introspection queries (GraphiQL's schema, docs and completion need it). */
  introspection: boolean;
  plugins?: ApolloServerPlugin<Context>[];
}

export function createApollo({ policy, production, introspection, plugins = [] }: ApolloOptions): ApolloServer<Context> {
  return new ApolloServer<Context>({
    schema,
    validationRules: policy.validationRules,
    parseOptions: policy.parseOptions,
    plugins: [
      ...policy.armorPlugins,
      subscriptionsOverWebSocketOnly,
      operationCheckPlugin(policy),
      ApolloServerPluginLandingPageDisabled(),
      ...plugins,
    ],
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    introspection,
    includeStacktraceInErrorResponses: !production,
    formatError: (formatted, error) => formatError(formatted, error, production),
  });
}

/**
 * A subscription sent over HTTP is a client mistake: answered 400 with the WebSocket URL (the
 * same path on the same host), before any resolver runs.
 */
const subscriptionsOverWebSocketOnly: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, request }) {
        if (operation?.operation !== "subscription") return;
        const headers = request.http?.headers;
        const secure = (headers?.get("x-forwarded-proto") ?? "").split(",")[0]?.trim() === "https";
        const url = `${secure ? "wss" : "ws"}://${headers?.get("host") ?? "localhost"}/graphql`;
        throw new graphqlCjs.GraphQLError(`subscriptions are served over WebSocket (graphql-ws protocol) at ${url}, not over HTTP`, {
          extensions: { code: "SUBSCRIPTION_OVER_HTTP", webSocketUrl: url, http: { status: 400 } },
        });
      },
    };
  },
};

export { formatError };
