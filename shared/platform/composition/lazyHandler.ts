import { loadOnce } from '../loadOnce';

/**
 * A handler that loads its module (and through it the SDKs and the composition root) on its first
 * invocation: the Functions worker requires every entry file at start, yet an instance serves few of
 * them, so what an entry file loads is cold start for all. Later invocations reuse the loaded one.
 * A load that fails is tried again on the next invocation rather than remembered.
 */
export function lazyHandler<Args extends unknown[], Result>(
  load: () => Promise<(...args: Args) => Result>,
): (...args: Args) => Promise<Awaited<Result>> {
  const handler = loadOnce(load);
  return async (...args: Args): Promise<Awaited<Result>> => await (await handler())(...args);
}
