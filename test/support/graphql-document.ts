// What the test clients send: a query string (untyped: the answer is `any`), or a document
// generated from test/support/documents/*.graphql (test/generated/operations.ts), whose type
// carries the operation's variables and the shape of its answer.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export type GraphQLDocument<TResult = any, TVariables = Record<string, unknown>> = string | TypedDocumentNode<TResult, TVariables>;

/** Any generated document, whatever its variables (they are contravariant). */
type AnyDocument = TypedDocumentNode<unknown, never>;

const printed = new WeakMap<AnyDocument, string>();

/** The text to send: a string as it is, a document printed (once). */
export function queryText(document: string | AnyDocument): string {
  if (typeof document === "string") return document;
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}
