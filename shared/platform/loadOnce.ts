/**
 * `load`'s result, loaded at the first call and shared by every later one: how an adapter loads its
 * SDK and builds its client on first use rather than when the services are built. A load that fails
 * is tried again at the next call rather than remembered (as building the services was).
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}
