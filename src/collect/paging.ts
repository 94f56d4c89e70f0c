// The page loop every collector shares: hand each page to a handler that writes it and saves the
// checkpoint, and stop at a page boundary once the run is asked to stop (SIGTERM).

import { linkedSignal } from '../abort.js';
import { letRequestsOut } from '../central/transport.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { AbortedError } from '../errors.js';
import type { EventSink, OutRecord } from './sink.js';

export type PageLoopEnd = 'complete' | 'aborted' | 'paused';

/** When a page loop may stop early (a tenant's time budget), and how it tells it could have stopped anyway. */
interface PagePause<P> {
  /** Epoch ms, by the loop's `now`: from then on no further page is asked for, once `allowed` agrees. */
  at: number;
  /** Whether `page` was the list's last anyway: then the loop ends 'complete', not 'paused'. */
  isLast?: (page: P) => boolean;
  /** Whether the loop may pause yet (default: always); asked when a page arrives past `at`. */
  allowed?: () => boolean;
}

/**
 * Calls `handle` for each page, in order, with the time the page was asked for. A page that has arrived
 * is finished (written, checkpoint saved) before the loop looks at `signal`; a request cut short by the
 * abort ends the loop as 'aborted', leaving the checkpoint at the last page written. From `pause.at` on no
 * further page is asked for, once `pause.allowed` agrees: the page in hand is the last, and the loop ends
 * 'paused', or 'complete' when `pause.isLast` says that page was the list's last anyway.
 *
 * The next page is requested while the current one is written: without that the collector sat idle for
 * every round trip (a fifth of a collection run when measured). At most two pages are held, and a
 * prefetched page that is never handled is simply dropped: its checkpoint was never saved. `pages` is given
 * the loop's own signal, which cancels that request when the loop ends without it.
 */
export async function eachPage<P>(
  pages: (signal: AbortSignal) => AsyncIterable<P>,
  now: () => number,
  signal: AbortSignal | undefined,
  handle: (page: P, requestedAt: number) => Promise<void>,
  pause?: PagePause<P>,
): Promise<PageLoopEnd> {
  if (signal?.aborted) return 'aborted';
  const cancel = new AbortController();
  const iterator = pages(cancel.signal)[Symbol.asyncIterator]();
  const request = (): { requestedAt: number; result: Promise<IteratorResult<P>> } => {
    const requestedAt = now();
    const result = iterator.next();
    // Awaited below, or dropped on the way out; never an unhandled rejection.
    result.catch(() => undefined);
    return { requestedAt, result };
  };
  let finished = false;
  try {
    let pending = request();
    for (;;) {
      let next: IteratorResult<P>;
      try {
        next = await pending.result;
      } catch (err) {
        finished = true;
        if (signal?.aborted) return 'aborted';
        throw err;
      }
      if (next.done) {
        finished = true;
        return 'complete';
      }
      const requestedAt = pending.requestedAt;
      const last = pause !== undefined && now() >= pause.at && (pause.allowed?.() ?? true);
      if (!signal?.aborted && !last) {
        pending = request();
        // Let the request reach the socket before handling the page, which holds the thread while it builds
        // and encodes the whole batch: without this the prefetch left only after the page had been handled,
        // and the collector sat idle for most of every round trip.
        await letRequestsOut();
      }
      await handle(next.value, requestedAt);
      if (signal?.aborted) return 'aborted';
      if (last) return pause.isLast?.(next.value) ? 'complete' : 'paused';
    }
  } finally {
    if (!finished) {
      // Leaving early ends the iterator, which waits for a page asked for ahead: cancelled, it settles at once,
      // where a failing API would otherwise hold the tenant here through that request's retries.
      cancel.abort();
      await iterator.return?.();
    }
  }
}

/**
 * One key's checkpoint saves in a page loop, each left running while the next page is prepared.
 *
 * A save (a temp file, two fsyncs, a rename) takes milliseconds, and the collector would sit idle through
 * each. Here a page's records are encoded while the previous page's checkpoint is saved, but handed over
 * only once that save has succeeded: a crash still repeats at most one page, and
 * a failed save stops the loop before anything more is written. Saves run one after another, in order;
 * `settled` must be awaited before the loop's caller returns or saves anything itself.
 */
export class PageCommits {
  private last: Promise<void> = Promise.resolve();
  private readonly failure = new AbortController();

  constructor(
    private readonly store: CheckpointStore,
    private readonly key: string,
  ) {}

  /** Writes `records` to `sink` once the previous save has succeeded, encoding them meanwhile when the sink can. */
  async write(sink: EventSink, records: OutRecord[]): Promise<void> {
    const send = sink.prepare ? sink.prepare(records) : () => sink.write(records);
    await this.last;
    await send();
  }

  /** Starts saving `value` (a snapshot: the caller must not change it) after the previous save. */
  save(value: unknown): void {
    // The next save waits for this one's directory fsync before its rename, and settled() for the last one's:
    // waiting for it here kept every page's write waiting for one more trip to the thread pool (3-5% of a run).
    this.last = this.last.then(() => this.store.save(this.key, value, { dirSync: 'later' }));
    // Reported by the next write or by settled(); never an unhandled rejection meanwhile. `failed` tells the
    // page loop at once, so it stops waiting for a page it could not commit.
    this.last.catch(() => this.failure.abort());
  }

  /** Aborted once a save has failed. */
  get failed(): AbortSignal {
    return this.failure.signal;
  }

  /** Resolves once every save has finished and is durable; rejects with the first failure. */
  settled(): Promise<void> {
    return this.last.then(() => this.store.flush?.());
  }
}

/**
 * eachPage with a PageCommits: a failed save also cancels the page asked for ahead, and every way out waits
 * for the last save. The loop's own failure is reported first, unless it is that cancel: then the save's.
 */
export async function eachCommittedPage<P>(
  commits: PageCommits,
  ...[pages, ...rest]: Parameters<typeof eachPage<P>>
): Promise<PageLoopEnd> {
  let joined: ReturnType<typeof linkedSignal> | undefined;
  // Without this the loop heard of the failure only once that page had come, through all its retries, and
  // reported their failure (a server error, held against a healthy host) in place of the checkpoint's.
  const cancellable = (cancel: AbortSignal): AsyncIterable<P> => {
    joined = linkedSignal(cancel, commits.failed);
    return pages(joined.signal);
  };
  let end: PageLoopEnd;
  try {
    end = await eachPage(cancellable, ...rest);
  } catch (err) {
    const saveFailure = await commits.settled().then(
      () => undefined,
      (failure: unknown) => ({ failure }),
    );
    if (saveFailure && err instanceof AbortedError) throw saveFailure.failure;
    throw err;
  } finally {
    joined?.dispose();
  }
  await commits.settled();
  return end;
}
