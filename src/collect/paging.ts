// The page loop every collector shares: hand each page to a handler that writes it and saves the
// checkpoint, and stop at a page boundary once the run is asked to stop (SIGTERM).

export type PageLoopEnd = 'complete' | 'aborted';

/**
 * Calls `handle` for each page, in order, with the time the page was asked for. A page that has arrived
 * is finished (written, checkpoint saved) before the loop looks at `signal`; a request cut short by the
 * abort ends the loop as 'aborted', leaving the checkpoint at the last page written.
 */
export async function eachPage<P>(
  pages: AsyncIterable<P>,
  now: () => number,
  signal: AbortSignal | undefined,
  handle: (page: P, requestedAt: number) => Promise<void>,
): Promise<PageLoopEnd> {
  if (signal?.aborted) return 'aborted';
  const iterator = pages[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const requestedAt = now();
      let next: IteratorResult<P>;
      try {
        next = await iterator.next();
      } catch (err) {
        finished = true;
        if (signal?.aborted) return 'aborted';
        throw err;
      }
      if (next.done) {
        finished = true;
        return 'complete';
      }
      await handle(next.value, requestedAt);
      if (signal?.aborted) return 'aborted';
    }
  } finally {
    // Leaving early (abort, a failed write) releases the iterator's request and socket.
    if (!finished) await iterator.return?.();
  }
}
