import type { Fetcher, Storage } from "@graphiql/toolkit";
import { GraphiQL, type GraphiQLProps } from "graphiql";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { normalizeAccessToken, readAccessToken, storeAccessToken } from "./access-token";
import { endpointFor } from "./endpoint";
import { createLedgerTransport } from "./fetcher";
import type { StartupEditors } from "./startup";
import { TokenField } from "./TokenField";

type TabsState = Parameters<NonNullable<GraphiQLProps["onTabChange"]>>[0];

interface AppProps {
  storage: Storage;
  defaultTabs: NonNullable<GraphiQLProps["defaultTabs"]>;
  startup: StartupEditors;
}

/** Pause in typing after which the schema is fetched again with the new token. */
const schemaRefetchDelayMs = 500;

export function App({ storage, defaultTabs, startup }: AppProps) {
  const [tokenInput, setTokenInput] = useState(readAccessToken);
  const tokenRef = useRef(normalizeAccessToken(tokenInput));
  const [transport] = useState(() => createLedgerTransport(endpointFor(window.location), () => tokenRef.current));
  const [schemaToken, setSchemaToken] = useState(tokenRef.current);
  const [response, setResponse] = useState("");

  const changeToken = useCallback(
    (input: string) => {
      setTokenInput(input);
      const token = normalizeAccessToken(input);
      if (token === tokenRef.current) return;
      tokenRef.current = token;
      storeAccessToken(token);
      transport.closeSockets("Subscription ended: the access token changed. Run it again to use the new one.");
    },
    [transport],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: each edit of the token restarts the delay; the value is read from the ref
  useEffect(() => {
    const timer = setTimeout(() => setSchemaToken(tokenRef.current), schemaRefetchDelayMs);
    return () => clearTimeout(timer);
  }, [tokenInput]);

  // A new fetcher identity makes GraphiQL introspect again, this time with the current token.
  const fetcher = useMemo<Fetcher>(() => {
    void schemaToken;
    return (params, opts) => transport.fetcher(params, opts);
  }, [transport, schemaToken]);

  const mirrorResponse = useCallback((state: TabsState) => {
    setResponse(state.tabs[state.activeTabIndex]?.response ?? "");
  }, []);

  return (
    <>
      <GraphiQL
        fetcher={fetcher}
        storage={storage}
        defaultTabs={defaultTabs}
        initialQuery={startup.initialQuery}
        initialVariables={startup.initialVariables}
        defaultEditorToolsVisibility="variables"
        shouldPersistHeaders={false}
        showPersistHeadersSettings={false}
        onTabChange={mirrorResponse}
      >
        <GraphiQL.Logo>
          <div className="ledger-header">
            <span className="ledger-title">Ledger GraphiQL</span>
            <TokenField value={tokenInput} onChange={changeToken} />
          </div>
        </GraphiQL.Logo>
      </GraphiQL>
      {/* The active tab's response as plain text: Monaco renders only the visible lines. */}
      <output data-testid="response-text" hidden>
        {response}
      </output>
    </>
  );
}
