import type { FetcherParams } from "@graphiql/toolkit";
import type { FormattedExecutionResult as ExecutionResult } from "graphql-ws";

/**
 * One GraphQL request over HTTP POST. The token field gives the Authorization header; headers
 * typed in GraphiQL's headers editor are added after it, so a typed Authorization wins.
 */
export async function postGraphQL(
  url: string,
  params: FetcherParams,
  token: string,
  typedHeaders: Record<string, unknown> = {},
): Promise<ExecutionResult> {
  const headers = new Headers({
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  });
  if (token) headers.set("authorization", `Bearer ${token}`);
  for (const [name, value] of Object.entries(typedHeaders)) {
    if (value !== null && value !== undefined) headers.set(name, String(value));
  }
  const response = await fetch(url, {
    method: "POST",
    headers,
    credentials: "same-origin",
    body: JSON.stringify({
      query: params.query,
      variables: params.variables ?? undefined,
      operationName: params.operationName ?? undefined,
    }),
  });
  const text = await response.text();
  const body = parseJsonObject(text);
  if (body) return body as ExecutionResult;
  // A proxy error page or an empty body: show what came back instead of a JSON parse error.
  const excerpt = text.trim().slice(0, 500) || "(empty body)";
  return { errors: [{ message: `HTTP ${response.status} ${response.statusText}: ${excerpt}` }] };
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
