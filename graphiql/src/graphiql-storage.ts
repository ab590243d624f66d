import type { Storage } from "@graphiql/toolkit";

/**
 * GraphiQL keeps tabs, history and editor sizes in localStorage, and request headers may carry a
 * bearer token, which must never reach localStorage. This storage drops every "headers" value
 * before writing, so only queries, variables and layout persist.
 */
const graphiqlPrefix = "graphiql:";

export function createHeaderlessStorage(base: globalThis.Storage): Storage {
  const graphiqlKeys = (): string[] => {
    const keys: string[] = [];
    for (let index = 0; index < base.length; index++) {
      const key = base.key(index);
      if (key?.startsWith(graphiqlPrefix)) keys.push(key);
    }
    return keys;
  };
  return {
    getItem: (key) => base.getItem(key),
    setItem(key, value) {
      if (key === `${graphiqlPrefix}headers`) return; // the headers editor's own copy
      base.setItem(key, withoutHeaders(value));
    },
    removeItem: (key) => base.removeItem(key),
    clear() {
      for (const key of graphiqlKeys()) base.removeItem(key);
    },
    get length() {
      return graphiqlKeys().length;
    },
  };
}

/** Tab state and history are JSON with "headers" fields; other values pass unchanged. */
function withoutHeaders(value: string): string {
  if (!value.includes('"headers"')) return value;
  try {
    return JSON.stringify(JSON.parse(value), (key, field: unknown) => (key === "headers" ? null : field));
  } catch {
    return value;
  }
}

/** localStorage when the browser allows it; otherwise memory, forgotten on reload. */
export function graphiqlStorage(): Storage {
  try {
    return createHeaderlessStorage(window.localStorage);
  } catch {
    return createHeaderlessStorage(memoryStorage());
  }
}

function memoryStorage(): globalThis.Storage {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, String(value)),
    removeItem: (key) => void values.delete(key),
    clear: () => values.clear(),
    key: (index) => [...values.keys()][index] ?? null,
    get length() {
      return values.size;
    },
  };
}
