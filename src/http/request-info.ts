// What one HTTP request's log line and metrics need, filled in by the handler and by the Apollo
// plugin (which sees the same HTTPGraphQLRequest object the handler passed to Apollo).
import { randomUUID } from "node:crypto";

export interface RequestInfo {
  requestId: string;
  tenantId: string | null;
  /** The client's operationName (logged, never a metric label). */
  operationName: string | null;
  /** type.rootField, e.g. mutation.postTransfer (bounded: a metric label). */
  operation: string | null;
  /** extensions.code of every error answered. */
  errorCodes: string[];
}

const infos = new WeakMap<object, RequestInfo>();

export const attachRequestInfo = (carrier: object, info: RequestInfo): void => void infos.set(carrier, info);
export const requestInfoOf = (carrier: object | undefined): RequestInfo | undefined => (carrier ? infos.get(carrier) : undefined);

/** The client's x-request-id when it is a sane token, else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[\w.:/+=@-]{1,128}$/.test(given) ? given : randomUUID();
}
