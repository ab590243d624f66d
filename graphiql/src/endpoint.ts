/** The API is on the page's own origin: HTTP POST /graphql, graphql-ws at ws(s)://host/graphql. */
export interface Endpoint {
  httpUrl: string;
  socketUrl: string;
}

export function endpointFor(location: Pick<Location, "protocol" | "host" | "origin">): Endpoint {
  const socketProtocol = location.protocol === "https:" ? "wss:" : "ws:";
  return {
    httpUrl: `${location.origin}/graphql`,
    socketUrl: `${socketProtocol}//${location.host}/graphql`,
  };
}
