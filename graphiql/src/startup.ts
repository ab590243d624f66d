import type { Storage } from "@graphiql/toolkit";
import type { ExampleOperation } from "./examples";

export interface StartupEditors {
  /** From ?query=: GraphiQL opens (or re-selects) a tab with it. */
  initialQuery?: string;
  initialVariables?: string;
}

/** GraphiQL's StorageAPI namespace plus its keys (@graphiql/react STORAGE_KEY). */
const tabStateKey = "graphiql:tabState";
const queryKey = "graphiql:query";
const variablesKey = "graphiql:variables";

/**
 * Puts the examples in GraphiQL's tab storage on a first visit. GraphiQL's own `defaultTabs` are
 * ignored when it is also given a query (?query=) and an empty storage, so seeding the storage is
 * what lets a linked operation open as an extra, active tab next to the examples.
 */
export function seedExampleTabs(storage: Storage, examples: ExampleOperation[]): void {
  if (storage.getItem(tabStateKey)) return;
  const tabs = examples.map((example, index) => {
    const operationName = /^(?:query|mutation|subscription)\s+(\w+)/m.exec(example.query)?.[1] ?? null;
    return {
      id: `example-${index}`,
      title: operationName ?? "<untitled>",
      query: example.query,
      variables: formatVariables(example.variables),
      headers: null,
      operationName,
      response: null,
    };
  });
  storage.setItem(tabStateKey, JSON.stringify({ activeTabIndex: 0, tabs }));
  // GraphiQL fills the editors of the first tab from these, not from the tab state: without
  // them the first example would open with an empty Variables pane.
  const [first] = tabs;
  if (first) {
    storage.setItem(queryKey, first.query);
    storage.setItem(variablesKey, first.variables);
  }
}

export function formatVariables(variables: Record<string, unknown>): string {
  return JSON.stringify(variables, null, 2);
}

/**
 * Reads ?query=...&variables=... (URL-encoded), then removes them from the address bar so a
 * reload does not open the operation again once it has been edited.
 */
export function takeLinkedOperation(location: Location, history: History): StartupEditors {
  const params = new URLSearchParams(location.search);
  const query = params.get("query");
  if (!query) return {};
  const variables = params.get("variables");
  params.delete("query");
  params.delete("variables");
  const search = params.size > 0 ? `?${params}` : "";
  history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`);
  // Empty variables rather than undefined: GraphiQL would otherwise reuse the last stored ones.
  return { initialQuery: query, initialVariables: variables ?? "" };
}
