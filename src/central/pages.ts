// One small async iterator per Sophos Central paging style (style.md). Each makes one request per
// page, works out the pointer to the next page, and stops when there is none; callers only see pages.
// A pager holds the page it reads and at most one asked for ahead (Lookahead), so memory stays flat
// however long the list is.

import { BadRequestError, CentralError, NotFoundError } from '../errors.js';
import { itemTexts } from './item-text.js';
import type { ScannedPage } from './page-scan.js';
import type { CursorPage, KeyPage } from './types.js';

export type Query = Record<string, string>;
/**
 * A response: the parsed JSON body, and its text when the caller kept it; or, for a list page the
 * client scanned instead of parsing (page-scan.ts), its text and `scanned`, with `body` undefined.
 */
export interface Fetched {
  body: unknown;
  text?: string;
  scanned?: ScannedPage;
  /** The response's Date header: Sophos's clock when it answered (epoch ms). */
  date?: number;
  /** When the request was asked for, by the client's clock (epoch ms). */
  askedAt?: number;
}
/** What a pager asks of one page's request beyond its query. */
export interface PageRequest {
  /** Told the 2xx body's text as soon as it has arrived; returns whether it sent a request (Transport onText). */
  onText?: (text: string) => boolean;
  /** Cancels this request alone. */
  signal?: AbortSignal;
}
/** Sends one GET with this query. */
type GetPage = (query: Query, request?: PageRequest) => Promise<Fetched>;
/**
 * Pages asked for ahead (Lookahead) that a client's pagers may hold at once, together: each holds about a
 * page of memory more, and with several tenants read at once the thread has other pages to read meanwhile.
 */
export class AheadSlots {
  constructor(private free: number) {}

  take(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  give(): void {
    this.free++;
  }
}

/** What a pager is given besides its requests. */
export interface PagerOptions {
  /** Throws as a request would once the pager's client or call is stopped: no page is handed on after that. */
  live?: () => void;
  /** Default: none, so no page is asked for ahead. */
  ahead?: AheadSlots;
}

interface Body {
  items?: unknown;
  pages?: { nextKey?: unknown; total?: unknown; current?: unknown };
  has_more?: unknown;
  next_cursor?: unknown;
}

function itemsOf<T>(body: unknown, what: string): T[] {
  const items = (body as Body | null)?.items;
  if (!Array.isArray(items)) throw new CentralError(`Sophos Central sent a ${what} page without an items array`);
  // An event is an item's JSON with `tenant` added: anything but an object would be indexed as a broken
  // event (or fail on a null), so the page is refused and the checkpoint stays. A scanned page is
  // objects only by construction.
  for (const item of items) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new CentralError(`Sophos Central sent a ${what} page with an item that is not a JSON object: ${JSON.stringify(item)?.slice(0, 40)}`);
    }
  }
  return items as T[];
}

/** Each item's JSON text, when the response text was kept and its items line up with the parsed ones. */
function textsOf(page: Fetched, items: unknown[]): string[] | undefined {
  if (page.text === undefined) return undefined;
  const texts = itemTexts(page.text);
  return texts?.length === items.length ? texts : undefined;
}

/** The envelope members the pagers read: the parsed body, or the scanned page's envelope. */
function envelopeOf(page: Fetched): Body {
  return (page.scanned ? page.scanned.envelope : page.body) as Body;
}

/**
 * The page's items, texts and heads. From a scanned page, `items` is parsed from the text only when
 * something reads it (collectors read `heads` and `texts`; anything else still gets whole items).
 */
function pageItems<T, P extends object>(page: Fetched, what: string, rest: P): P & Pick<KeyPage<T>, 'items' | 'texts' | 'heads'> {
  const scanned = page.scanned;
  if (!scanned) {
    const items = itemsOf<T>(page.body, what);
    return { ...rest, items, texts: textsOf(page, items) };
  }
  const text = page.text!;
  let items: T[] | undefined;
  return Object.defineProperty({ ...rest, texts: scanned.texts, heads: scanned.heads }, 'items', {
    enumerable: true,
    get: () => (items ??= (JSON.parse(text) as { items: T[] }).items),
  }) as P & Pick<KeyPage<T>, 'items' | 'texts' | 'heads'>;
}

/**
 * The value of the last top-level-looking member `name` in a page's text, read without parsing it: a string
 * without escapes, or true or false; undefined for anything else. A guess that the full read of the page
 * checks (Lookahead): the member may be missing, nested in an item, or written otherwise.
 */
export function peekMember(text: string, name: string): string | boolean | undefined {
  const at = text.lastIndexOf(`"${name}"`);
  if (at < 0) return undefined;
  let i = afterBlanks(text, at + name.length + 2);
  if (text.charCodeAt(i) !== 0x3a) return undefined;
  i = afterBlanks(text, i + 1);
  if (text.startsWith('true', i)) return true;
  if (text.startsWith('false', i)) return false;
  if (text.charCodeAt(i) !== 0x22) return undefined;
  const end = text.indexOf('"', i + 1);
  if (end < 0) return undefined;
  const value = text.slice(i + 1, end);
  return value.includes('\\') ? undefined : value;
}

/** The index of the first character at or after `i` that is not JSON whitespace. */
function afterBlanks(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  return i;
}

/** A page asked for before the page that points to it was read; `text` once it came, while not yet taken. */
interface Ahead {
  pointer: string;
  page: Promise<Fetched>;
  cancel: AbortController;
  taken: boolean;
  text?: string;
  query: Query;
}

const noSlots = new AheadSlots(0);

/**
 * Asks for the next page as soon as its pointer can be read from the current page's text (peekMember), before
 * that page is scanned and handed on. A page's pointer is in the page before it, so without this each request
 * waited for the whole of that page to be read, and a collector's pages came no faster than the API's answer
 * time plus the time to read one (measured: the input sat idle a fifth of a run of 100,000 alerts).
 *
 * The guess decides nothing: the pager works out the pointer from the page as before and asks `fetch` for it,
 * which hands over the page asked for ahead only when it is that page, and otherwise cancels it. A pager asks
 * for one page ahead at a time, and only with a slot free (AheadSlots): the pages a client holds ahead are
 * bounded over all its tenants.
 */
class Lookahead {
  private ahead: Ahead | undefined;

  private readonly live: () => void;
  private readonly slots: AheadSlots;

  constructor(
    private readonly get: GetPage,
    options: PagerOptions,
    /** The next page's pointer as `text` shows it, where `query` asked for that text; undefined for none. */
    private readonly peek: (text: string, query: Query) => string | undefined,
    /** The query for the page at `pointer`, following the page `query` asked for. */
    private readonly follow: (query: Query, pointer: string) => Query,
  ) {
    this.live = options.live ?? (() => undefined);
    this.slots = options.ahead ?? noSlots;
  }

  /** The page `query` asks for (at `pointer`; undefined for the first page). */
  fetch(query: Query, pointer: string | undefined): Promise<Fetched> {
    const ahead = this.drop();
    if (ahead !== undefined && ahead.pointer === pointer) {
      // Asked for before a stop, it may have come in full: a stopped pager still hands nothing on.
      this.live();
      ahead.taken = true;
      if (ahead.text !== undefined) this.askAfter(ahead.text, ahead.query);
      return ahead.page;
    }
    ahead?.cancel.abort();
    return this.get(query, { onText: (text) => this.askAfter(text, query) });
  }

  /** Cancels the page asked for ahead, which will not be read. */
  close(): void {
    this.drop()?.cancel.abort();
  }

  /** The page asked for ahead, no longer held here (its slot given back). */
  private drop(): Ahead | undefined {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead !== undefined) this.slots.give();
    return ahead;
  }

  private askAfter(text: string, asked: Query): boolean {
    // One asked for by an earlier answer to the same page (retried: its body was unreadable) gives way to this one.
    this.drop()?.cancel.abort();
    const pointer = this.peek(text, asked);
    if (pointer === undefined || !this.slots.take()) return false;
    const query = this.follow(asked, pointer);
    const cancel = new AbortController();
    const ahead: Ahead = {
      pointer,
      query,
      cancel,
      taken: false,
      page: this.get(query, {
        signal: cancel.signal,
        // Its own next page is asked for only once it is taken: one page ahead at a time.
        onText: (next) => {
          if (ahead.taken) return this.askAfter(next, query);
          ahead.text = next;
          return false;
        },
      }),
    };
    // Awaited once taken; dropped (and cancelled) otherwise. Never an unhandled rejection meanwhile.
    ahead.page.catch(() => undefined);
    this.ahead = ahead;
    return true;
  }
}

/** `pageFromKey` / `pages.nextKey` paging (endpoints, Common alerts). */
export async function* keyPages<T>(get: GetPage, query: Query, options: PagerOptions = {}): AsyncGenerator<KeyPage<T>> {
  let key: string | undefined;
  // Every key of the list, so that a cycle (A, B, A) ends as surely as a key given twice in a row: a few bytes a page.
  const keys = new Set<string>();
  const peek = (text: string): string | undefined => {
    const next = peekMember(text, 'nextKey');
    return typeof next === 'string' && next !== '' && !keys.has(next) ? next : undefined;
  };
  const follow = (asked: Query, next: string): Query => ({ ...asked, pageFromKey: next });
  const lookahead = new Lookahead(get, options, peek, follow);
  try {
    for (;;) {
      const page = await lookahead.fetch(key === undefined ? query : follow(query, key), key);
      const body = envelopeOf(page);
      const next = body.pages?.nextKey;
      const nextKey = typeof next === 'string' && next !== '' ? next : typeof next === 'number' ? String(next) : undefined;
      if (nextKey !== undefined && keys.has(nextKey)) {
        throw new CentralError(`Sophos Central returned the page key ${nextKey} again; stopping instead of looping`);
      }
      if (nextKey !== undefined) keys.add(nextKey);
      yield pageItems<T, Pick<KeyPage<T>, 'nextKey' | 'serverTime'>>(page, 'key-paged', { nextKey, serverTime: page.date });
      if (nextKey === undefined) return;
      key = nextKey;
    }
  } finally {
    lookahead.close();
  }
}

/**
 * SIEM `cursor` / `next_cursor` / `has_more` paging. The first request carries `cursor` when
 * resuming, else `from_date`; later ones carry the previous `next_cursor`. Each page exposes its
 * `next_cursor` so that the caller can checkpoint once the page is written.
 */
export async function* cursorPages<T>(get: GetPage, query: Query, options: PagerOptions = {}): AsyncGenerator<CursorPage<T>> {
  let current = query;
  // Only a page with more to come and a cursor other than the one it was asked with is followed (see below).
  const peek = (text: string, asked: Query): string | undefined => {
    const next = peekMember(text, 'next_cursor');
    return peekMember(text, 'has_more') === true && typeof next === 'string' && next !== '' && next !== asked.cursor ? next : undefined;
  };
  const lookahead = new Lookahead(get, options, peek, following);
  try {
    for (;;) {
      const sent = current.cursor;
      const page = await lookahead.fetch(current, sent);
      const body = envelopeOf(page);
      const result = pageItems<T, object>(page, 'SIEM', {});
      const count = page.scanned ? page.scanned.texts.length : result.items.length;
      const hasMore = body.has_more === true;
      const next = typeof body.next_cursor === 'string' && body.next_cursor !== '' ? body.next_cursor : undefined;
      if (hasMore && next === undefined) {
        throw new CentralError('Sophos Central sent has_more without a next_cursor');
      }
      // An unchanged cursor with nothing new is no progress: end here and resume from it next run. The page
      // still says has_more, as the API did: the stream is not caught up, only stalled.
      const stalled = hasMore && next === sent && count === 0;
      // Given back after items, the sent cursor would give those items again, page after page and run after
      // run: the page has no cursor, the caller resumes from its own position, and paging stops below.
      const echoed = next !== undefined && next === sent && count > 0;
      // Without a next_cursor, the sent cursor still stands for an empty page; after items it would replay
      // them on every later run, so the page has no cursor and the caller resumes from its own position.
      const cursor = echoed ? '' : (next ?? (count === 0 ? (sent ?? '') : ''));
      yield Object.assign(result, { cursor, hasMore, serverTime: page.date, askedAt: page.askedAt });
      if (!hasMore || stalled) return;
      if (echoed) throw new CentralError('Sophos Central sent back the cursor it was given after a page of items; stopping instead of reading that page again');
      current = following(current, next as string);
    }
  } finally {
    lookahead.close();
  }
}

/** The SIEM query for the page at `cursor`, after the page `asked` asked for: the cursor in place of from_date. */
function following(asked: Query, cursor: string): Query {
  const query: Query = { ...asked, cursor };
  delete query.from_date;
  return query;
}

/**
 * Page-number paging (partner and organization tenant lists): page 1 with `pageTotal=true`, then
 * pages 2..`pages.total`, and on past it while the last page was full. Without a total it goes on until a
 * short or empty page.
 *
 * A page number is a position in a list that may change while it is read (a tenant added ahead of the
 * current page pushes the last item of one page onto the next), so with `idOf` an item whose id was
 * already yielded is left out: a tenant listed twice would otherwise be collected twice at once. And the
 * item pushed past the total page is read from the page after it: a page past the end is empty (§3), so
 * this costs one request when the list fills its last page exactly.
 */
export async function* numberPages<T>(get: GetPage, query: Query, pageSize: number, idOf?: (item: T) => unknown): AsyncGenerator<T[]> {
  const seen = new Set<unknown>();
  const unseen = (items: T[]): T[] =>
    idOf === undefined
      ? items
      : items.filter((item) => {
          const id = idOf(item);
          if (id === undefined) return true;
          if (seen.has(id)) return false;
          seen.add(id);
          return true;
        });
  const size = String(pageSize);
  const first = (await get({ ...query, page: '1', pageSize: size, pageTotal: 'true' })).body as Body;
  let items = itemsOf<T>(first, 'tenant list');
  const total = typeof first.pages?.total === 'number' ? first.pages.total : undefined;
  yield unseen(items);
  for (let page = 2; (total !== undefined && page <= total) || items.length >= pageSize; page++) {
    // Past the total the page is only looked at, for an item pushed there; without IDs that cannot be told.
    const past = total !== undefined && page > total;
    if (past && idOf === undefined) return;
    let body: Body;
    try {
      body = (await get({ ...query, page: String(page), pageSize: size })).body as Body;
    } catch (err) {
      // A tenant list that refuses a page beyond its end (the docs show an empty one for another list only)
      // has ended there.
      if (past && (err instanceof BadRequestError || err instanceof NotFoundError)) return;
      throw err;
    }
    items = itemsOf<T>(body, 'tenant list');
    if (items.length === 0) return;
    const fresh = unseen(items);
    // One that answers a page number past its end with its last page again brings no new ID (an item without
    // one is new every time), or says it is another page: the end too.
    if (past && !fresh.some((item) => idOf!(item) !== undefined)) return;
    yield fresh;
    if (past && typeof body.pages?.current === 'number' && body.pages.current !== page) return;
  }
}
