// Answers the HTTP layer gives itself (not through Apollo), in GraphQL's error shape with a code.
import type { ServerResponse } from "node:http";

export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

export const sendError = (response: ServerResponse, error: RequestError): void =>
  sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
