// A list loaded page by page from one connection field (first/after), from its start on mount.
import { useCallback, useEffect, useState } from "react";
import type { Api, ApiError } from "./api";
import type { PageInfo } from "./operations";

export interface PagedList<TNode> {
  nodes: TNode[];
  pageInfo: PageInfo | null;
  loading: boolean;
  error: ApiError | null;
  /** Loads the page after `after` (appended), or from the start with null. */
  load(after: string | null): Promise<void>;
}

export function usePagedList<TData, TNode>(
  api: Api,
  document: string,
  first: number,
  connectionOf: (data: TData) => { nodes: TNode[]; pageInfo: PageInfo },
): PagedList<TNode> {
  const [nodes, setNodes] = useState<TNode[]>([]);
  const [pageInfo, setPageInfo] = useState<PageInfo | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: connectionOf only picks a field; the query is the same for every render
  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const connection = connectionOf(await api.query<TData>(document, { first, after }));
        setNodes((current) => (after ? [...current, ...connection.nodes] : connection.nodes));
        setPageInfo(connection.pageInfo);
      } catch (e) {
        setError(e as ApiError);
      } finally {
        setLoading(false);
      }
    },
    [api, document, first],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  return { nodes, pageInfo, loading, error, load };
}
