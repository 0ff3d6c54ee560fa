/**
 * Running async work over a list with at most `limit` calls in flight (object pushes and pulls:
 * one round trip for a message's objects instead of one per object, without flooding the peer).
 */

/**
 * Calls `fn` for every item, at most `limit` at a time, in order of `items`.
 * After the first failure no new call starts; the returned promise rejects with that first
 * error once the calls in flight have settled.
 */
export async function forEachBounded<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < queue.length) {
      const item = queue[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, queue.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failed) throw firstError;
}
