// What the test clients send: a query string (untyped: the answer is `any`), or a document
// generated from test/support/documents/*.graphql (test/generated/operations.ts), whose type
// carries the operation's variables and the shape of its answer.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { Kind, print, visit, type FragmentDefinitionNode, type InlineFragmentNode } from "graphql";

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

/**
 * A generated fragment's fields as text to write into a query string, the fragments it spreads
 * written out in place (as inline fragments on their types): for the tests that build a query
 * around the same fields.
 */
export function fieldsOf(fragment: AnyDocument): string {
  const definitions = fragment.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const byName = new Map(definitions.map((d) => [d.name.value, d]));
  const [own] = definitions;
  if (!own) throw new Error("not a fragment document");
  const inlined = visit(own.selectionSet, {
    FragmentSpread(spread): InlineFragmentNode {
      const { typeCondition, selectionSet } = byName.get(spread.name.value)!;
      return { kind: Kind.INLINE_FRAGMENT, typeCondition, selectionSet };
    },
  });
  return print(inlined).slice(1, -1).trim();
}
