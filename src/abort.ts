// Abort signals: the process's stop (SIGTERM), and joining two, shared by the client (a request's own signal and
// the client's stop) and the page loop.

/**
 * A signal aborted once either of two is, and `dispose` to stop listening: AbortSignal.any would do, but it
 * needs Node 20.3, and the wrapper runs any Node 20.
 */
export function linkedSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const link = new AbortController();
  const abort = (): void => link.abort();
  if (a.aborted || b.aborted) link.abort();
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return {
    signal: link.signal,
    dispose() {
      a.removeEventListener('abort', abort);
      b.removeEventListener('abort', abort);
    },
  };
}

/** Aborted when the process gets SIGTERM (splunkd stopping it) or SIGINT, from now on. */
export function stopOnSignals(): AbortController {
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop.abort());
  return stop;
}
