// The paging rules, driven by a scripted sequence of response bodies (no server needed).
import { describe, expect, it } from 'vitest';
import { BadRequestError, CentralError, NotFoundError } from '../../src/errors.js';
import { AheadSlots, cursorPages, type Fetched, keyPages, numberPages, type PageRequest, peekMember, type Query } from '../../src/central/pages.js';

function scripted(bodies: unknown[]) {
  const queries: Query[] = [];
  const get = async (query: Query) => {
    queries.push(query);
    if (bodies.length === 0) throw new Error('asked for a page past the script');
    return { body: bodies.shift() };
  };
  return { get, queries };
}

async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('keyPages', () => {
  it('follows nextKey until it is absent, sending it back as pageFromKey', async () => {
    const { get, queries } = scripted([
      { items: [{ id: 'a' }], pages: { nextKey: '2000432653939', size: 1, maxSize: 100 } },
      { items: [{ id: 'b' }], pages: { nextKey: 'k 2/+', size: 1 } },
      { items: [{ id: 'c' }], pages: { size: 1 } },
    ]);
    const pages = await all(keyPages(get, { pageSize: '1' }));
    expect(pages.map((p) => p.items.map((i: any) => i.id))).toEqual([['a'], ['b'], ['c']]);
    expect(pages.map((p) => p.nextKey)).toEqual(['2000432653939', 'k 2/+', undefined]);
    expect(queries).toEqual([{ pageSize: '1' }, { pageSize: '1', pageFromKey: '2000432653939' }, { pageSize: '1', pageFromKey: 'k 2/+' }]);
  });
  it('yields one empty page for an empty list', async () => {
    const { get } = scripted([{ items: [], pages: { size: 0 } }]);
    expect(await all(keyPages(get, {}))).toEqual([{ items: [], nextKey: undefined }]);
  });
  it('stops with an error instead of looping when the key repeats', async () => {
    const { get } = scripted([
      { items: [{ id: 'a' }], pages: { nextKey: 'x' } },
      { items: [{ id: 'b' }], pages: { nextKey: 'x' } },
    ]);
    await expect(all(keyPages(get, {}))).rejects.toThrow(/page key x again/);
  });
  it('stops with an error when the keys come round in a cycle', async () => {
    const { get } = scripted([
      { items: [{ id: 'a' }], pages: { nextKey: 'A' } },
      { items: [{ id: 'b' }], pages: { nextKey: 'B' } },
      { items: [{ id: 'c' }], pages: { nextKey: 'A' } },
      { items: [{ id: 'd' }], pages: { nextKey: 'B' } },
    ]);
    await expect(all(keyPages(get, {}))).rejects.toThrow(/page key A again; stopping instead of looping/);
  });
  it('rejects a body without items', async () => {
    const { get } = scripted([{ error: 'weird' }]);
    await expect(all(keyPages(get, {}))).rejects.toBeInstanceOf(CentralError);
  });
  it.each([[1], [null], ['x'], [[{ id: 'a' }]]])('rejects a page with an item that is not an object (%j)', async (item) => {
    const { get } = scripted([{ items: [{ id: 'a' }, item], pages: {} }]);
    await expect(all(keyPages(get, {}))).rejects.toThrow(/^Sophos Central sent a key-paged page with an item that is not a JSON object: /);
    const siem = scripted([{ items: [item], has_more: false, next_cursor: 'c' }]);
    await expect(all(cursorPages(siem.get, {}))).rejects.toBeInstanceOf(CentralError);
  });
});

describe('cursorPages', () => {
  it('starts from from_date, then sends next_cursor only, exposing the cursor per page', async () => {
    const { get, queries } = scripted([
      { items: [{ id: '1' }], has_more: true, next_cursor: 'c1' },
      { items: [{ id: '2' }], has_more: true, next_cursor: 'c2' },
      { items: [], has_more: false, next_cursor: 'c3' },
    ]);
    const pages = await all(cursorPages(get, { limit: '1000', from_date: '1700000000', exclude_types: 'A,B' }));
    expect(pages.map((p) => [p.items.length, p.cursor, p.hasMore])).toEqual([
      [1, 'c1', true],
      [1, 'c2', true],
      [0, 'c3', false],
    ]);
    expect(queries).toEqual([
      { limit: '1000', from_date: '1700000000', exclude_types: 'A,B' },
      { limit: '1000', exclude_types: 'A,B', cursor: 'c1' },
      { limit: '1000', exclude_types: 'A,B', cursor: 'c2' },
    ]);
  });
  it('keeps the sent cursor when the API omits next_cursor on an empty last page', async () => {
    const { get } = scripted([{ items: [], has_more: false }]);
    expect(await all(cursorPages(get, { cursor: 'saved' }))).toEqual([{ items: [], cursor: 'saved', hasMore: false }]);
  });
  it('gives no cursor when the API omits next_cursor after items, so they are not replayed from the sent one', async () => {
    const { get } = scripted([{ items: [{ id: '1' }], has_more: false }]);
    expect(await all(cursorPages(get, { cursor: 'saved' }))).toEqual([{ items: [{ id: '1' }], cursor: '', hasMore: false }]);
  });
  it('ends instead of spinning when has_more repeats the same cursor with no items', async () => {
    const { get, queries } = scripted([
      { items: [], has_more: true, next_cursor: 'same' },
    ]);
    expect(await all(cursorPages(get, { cursor: 'same' }))).toEqual([{ items: [], cursor: 'same', hasMore: true }]);
    expect(queries).toHaveLength(1);
  });
  it('stops with an error, after the page, when has_more gives back the same cursor with items; that page has no cursor', async () => {
    const { get, queries } = scripted([
      { items: [{ id: '1' }], has_more: true, next_cursor: 'same' },
      { items: [{ id: '1' }], has_more: true, next_cursor: 'same' },
    ]);
    const seen: unknown[] = [];
    await expect((async () => {
      for await (const page of cursorPages(get, { cursor: 'same' })) seen.push([page.items, page.cursor]);
    })()).rejects.toThrow(/sent back the cursor it was given after a page of items/);
    // Saved, the cursor would replay the page on every later run: the next run resumes from its position.
    expect(seen).toEqual([[[{ id: '1' }], '']]);
    expect(queries).toHaveLength(1);
  });
  it('an echoed cursor after items on the last page is not kept either', async () => {
    const { get } = scripted([{ items: [{ id: '1' }], has_more: false, next_cursor: 'same' }]);
    expect(await all(cursorPages(get, { cursor: 'same' }))).toEqual([{ items: [{ id: '1' }], cursor: '', hasMore: false }]);
  });
  it('rejects has_more without next_cursor', async () => {
    const { get } = scripted([{ items: [], has_more: true }]);
    await expect(all(cursorPages(get, {}))).rejects.toThrow(/next_cursor/);
  });
});

describe('numberPages', () => {
  const o = (n: number) => ({ n });
  it('asks pageTotal on page 1, then pages 2..total', async () => {
    const { get, queries } = scripted([
      { items: [o(1), o(2)], pages: { current: 1, size: 2, total: 3, items: 5 } },
      { items: [o(3), o(4)], pages: { current: 2, size: 2 } },
      { items: [o(5)], pages: { current: 3, size: 2 } },
    ]);
    expect(await all(numberPages(get, {}, 2))).toEqual([[o(1), o(2)], [o(3), o(4)], [o(5)]]);
    expect(queries).toEqual([
      { page: '1', pageSize: '2', pageTotal: 'true' },
      { page: '2', pageSize: '2' },
      { page: '3', pageSize: '2' },
    ]);
  });
  it('makes a single request for a single page, and for none', async () => {
    const one = scripted([{ items: [o(1)], pages: { current: 1, total: 1 } }]);
    expect(await all(numberPages(one.get, {}, 100))).toEqual([[o(1)]]);
    expect(one.queries).toHaveLength(1);
    const none = scripted([{ items: [], pages: { current: 1, total: 0 } }]);
    expect(await all(numberPages(none.get, {}, 100))).toEqual([[]]);
    expect(none.queries).toHaveLength(1);
  });
  it('stops at an empty page before total (the list shrank) and, without total, at a short page', async () => {
    const shrank = scripted([{ items: [o(1), o(2)], pages: { total: 3 } }, { items: [], pages: { current: 2, total: 1 } }]);
    expect(await all(numberPages(shrank.get, {}, 2))).toEqual([[o(1), o(2)]]);
    const noTotal = scripted([{ items: [o(1), o(2)], pages: {} }, { items: [o(3)], pages: {} }]);
    expect(await all(numberPages(noTotal.get, {}, 2))).toEqual([[o(1), o(2)], [o(3)]]);
  });
  it('yields an item once when the list shifts between pages, by id, and reads on past the total while the last page is full', async () => {
    // A tenant added ahead of page 2 while page 1 was read: b comes back as the first item of page 2, and
    // the last one, e, is pushed past the total onto page 4.
    const shifted = scripted([
      { items: [{ id: 'a' }, { id: 'b' }], pages: { total: 3 } },
      { items: [{ id: 'b' }, { id: 'c' }], pages: {} },
      { items: [{ id: 'd' }, {}], pages: {} },
      { items: [{ id: 'e' }], pages: {} },
    ]);
    const pages = await all(numberPages<{ id?: string }>(shifted.get, {}, 2, (t) => t.id));
    expect(pages).toEqual([[{ id: 'a' }, { id: 'b' }], [{ id: 'c' }], [{ id: 'd' }, {}], [{ id: 'e' }]]);
    expect(shifted.queries.map((q) => q.page)).toEqual(['1', '2', '3', '4']);
    // A list that refuses a page past its total (400 or 404) has ended there; before it, a refusal is a failure.
    type GetPage = Parameters<typeof numberPages>[0];
    for (const refusal of [new BadRequestError('page out of range', { status: 400 }), new NotFoundError('no such page', { status: 404 })]) {
      const pastEnd: GetPage = async (q) => {
        if (q.page === '3') throw refusal;
        return { body: { items: [{ id: `p${q.page}a` }, { id: `p${q.page}b` }], pages: q.page === '1' ? { total: 2 } : {} } };
      };
      expect((await all(numberPages<{ id: string }>(pastEnd, {}, 2, (t) => t.id))).flat()).toHaveLength(4);
      const early: GetPage = async (q) => {
        if (q.page === '2') throw refusal;
        return { body: { items: [{ id: 'a' }, { id: 'b' }], pages: { total: 2 } } };
      };
      await expect(all(numberPages(early, {}, 2))).rejects.toBe(refusal);
    }
    // One that answers a page past its end with its last page again (a clamped page number) ends there too.
    let asked = 0;
    const clamped: GetPage = async (q) => {
      asked++;
      const page = Math.min(Number(q.page), 2);
      return { body: { items: [{ id: `p${page}a` }, { id: `p${page}b` }], pages: { current: page, total: 2 } } };
    };
    expect((await all(numberPages<{ id: string }>(clamped, {}, 2, (t) => t.id))).flat().map((t) => t.id)).toEqual(['p1a', 'p1b', 'p2a', 'p2b']);
    expect(asked).toBe(3);
    // ... even when that last page holds an item without an ID, and says nothing of its page number.
    asked = 0;
    const idless: GetPage = async (q) => {
      asked++;
      const page = Math.min(Number(q.page), 2);
      return { body: { items: page === 1 ? [{ id: 'a' }, { id: 'b' }] : [{ id: 'c' }, { name: 'no id' }], pages: { total: 2 } } };
    };
    await all(numberPages<{ id?: string }>(idless, {}, 2, (t) => t.id));
    expect(asked).toBe(3);
    // A last page short of full ends the list at the total.
    const done = scripted([{ items: [{ id: 'a' }, { id: 'b' }], pages: { total: 2 } }, { items: [{ id: 'c' }], pages: {} }]);
    await all(numberPages<{ id: string }>(done.get, {}, 2, (t) => t.id));
    expect(done.queries.map((q) => q.page)).toEqual(['1', '2']);
    // Without a total, the page length (duplicates included) still decides whether another page follows.
    const open = scripted([{ items: [{ id: 'a' }, { id: 'b' }], pages: {} }, { items: [{ id: 'b' }, { id: 'c' }], pages: {} }, { items: [], pages: {} }]);
    expect(await all(numberPages<{ id: string }>(open.get, {}, 2, (t) => t.id))).toEqual([[{ id: 'a' }, { id: 'b' }], [{ id: 'c' }]]);
    expect(open.queries).toHaveLength(3);
  });
});

describe('item texts', () => {
  it('hands on each item as the response text spelled it, when the text was kept', async () => {
    const text = '{"items":[{"id":"\\u0061","n":1.0},{"id":"b"}],"has_more":false,"next_cursor":"c"}';
    const get = async () => ({ body: JSON.parse(text) as unknown, text });
    const [siem] = await all(cursorPages(get, {}));
    expect(siem!.texts).toEqual(['{"id":"\\u0061","n":1.0}', '{"id":"b"}']);
    const [key] = await all(keyPages(async () => ({ body: JSON.parse(text) as unknown, text }), {}));
    expect(key!.texts).toEqual(siem!.texts);
  });
  it('leaves texts out when the text does not line up with the parsed items', async () => {
    const get = async () => ({ body: { items: [{ id: 'a' }, { id: 'b' }], pages: {} }, text: '{"items":[{"id":"a"}],"pages":{}}' });
    const [page] = await all(keyPages(get, {}));
    expect(page!.texts).toBeUndefined();
    expect(page!.items).toHaveLength(2);
  });
});

describe('peekMember', () => {
  it.each([
    ['{"items":[],"pages":{"nextKey":"2000432653939","size":3}}', 'nextKey', '2000432653939'],
    ['{"items": [], "pages": {"nextKey" :\n "k2"}}', 'nextKey', 'k2'],
    ['{"has_more": true,"items":[],"next_cursor":"VjJ8"}', 'has_more', true],
    ['{"items":[],"has_more":false}', 'has_more', false],
    // Left to the full read of the page: absent, escaped, a number, or a member name inside a string.
    ['{"items":[],"pages":{}}', 'nextKey', undefined],
    ['{"pages":{"nextKey":"a\\"b"}}', 'nextKey', undefined],
    ['{"pages":{"nextKey":12}}', 'nextKey', undefined],
    ['{"items":[{"note":"\\"nextKey\\""}]}', 'nextKey', undefined],
  ])('%s: %s is %j', (text, name, value) => {
    expect(peekMember(text, name)).toBe(value);
  });
});

/**
 * A `get` whose pages are answered by the test: `answer` tells the pager the page's text (as the transport does
 * the moment it arrives) and then resolves it.
 */
function answeredByHand() {
  const asked: Array<{ query: Query; signal?: AbortSignal; answer: (body: object) => void }> = [];
  const get = (query: Query, request?: PageRequest) =>
    new Promise<Fetched>((resolve) => {
      asked.push({
        query,
        signal: request?.signal,
        answer: (body) => {
          const text = JSON.stringify(body);
          request?.onText?.(text);
          resolve({ body, text });
        },
      });
    });
  return { get, asked };
}

describe('asking for the next page ahead', () => {
  const keyPage = (id: string, nextKey?: string) => ({ items: [{ id }], pages: nextKey === undefined ? {} : { nextKey } });

  it('asks for the next page as soon as the page pointing to it arrives, one page ahead at a time, and no further than the last', async () => {
    const { get, asked } = answeredByHand();
    const pages = keyPages<{ id: string }>(get, { pageSize: '1' }, { ahead: new AheadSlots(1) })[Symbol.asyncIterator]();
    const first = pages.next();
    await Promise.resolve();
    asked[0]!.answer(keyPage('a', 'k2'));
    // Asked for before page 1 is even handed on.
    expect(asked.map((a) => a.query)).toEqual([{ pageSize: '1' }, { pageSize: '1', pageFromKey: 'k2' }]);
    expect((await first).value!.items).toEqual([{ id: 'a' }]);
    // Page 2 comes before the caller asks for it: page 3 waits until it does.
    asked[1]!.answer(keyPage('b', 'k3'));
    expect(asked).toHaveLength(2);
    expect((await pages.next()).value!.items).toEqual([{ id: 'b' }]);
    expect(asked.map((a) => a.query.pageFromKey)).toEqual([undefined, 'k2', 'k3']);
    const third = pages.next();
    asked[2]!.answer(keyPage('c'));
    expect((await third).value!.items).toEqual([{ id: 'c' }]);
    expect((await pages.next()).done).toBe(true);
    expect(asked).toHaveLength(3);
  });

  it('asks for no page ahead without a slot: pagers of one client share theirs, and a page taken gives its slot back', async () => {
    const { get, asked } = answeredByHand();
    const slots = new AheadSlots(1);
    const one = keyPages<{ id: string }>(get, { tenant: '1' }, { ahead: slots })[Symbol.asyncIterator]();
    const two = keyPages<{ id: string }>(get, { tenant: '2' }, { ahead: slots })[Symbol.asyncIterator]();
    const first = [one.next(), two.next()];
    await Promise.resolve();
    asked[0]!.answer(keyPage('a', 'k2'));
    asked[1]!.answer(keyPage('b', 'k2'));
    await Promise.all(first);
    // Tenant 1 holds the one slot: tenant 2's page 2 waits to be asked for.
    expect(asked.map((a) => `${a.query.tenant}:${a.query.pageFromKey}`)).toEqual(['1:undefined', '2:undefined', '1:k2']);
    const next = [one.next(), two.next()];
    await Promise.resolve();
    expect(asked.map((a) => `${a.query.tenant}:${a.query.pageFromKey}`)).toEqual(['1:undefined', '2:undefined', '1:k2', '2:k2']);
    asked[2]!.answer(keyPage('c', 'k3'));
    asked[3]!.answer(keyPage('d'));
    await Promise.all(next);
    // Page 2 of tenant 1, taken, gave the slot back to ask for its page 3.
    expect(asked.map((a) => `${a.query.tenant}:${a.query.pageFromKey}`).slice(4)).toEqual(['1:k3']);
    await one.return(undefined);
    await two.return(undefined);
    const three = keyPages<{ id: string }>(get, { tenant: '3' })[Symbol.asyncIterator]();
    const alone = three.next();
    await Promise.resolve();
    asked[5]!.answer(keyPage('e', 'k2'));
    await alone;
    expect(asked).toHaveLength(6);
    await three.return(undefined);
  });

  it('cancels a page asked for by a wrong guess and asks for the one the page names', async () => {
    const { get, asked } = answeredByHand();
    const pages = keyPages<{ id: string }>(get, {}, { ahead: new AheadSlots(1) })[Symbol.asyncIterator]();
    const first = pages.next();
    await Promise.resolve();
    // The envelope comes first here, and an item holds a nextKey member of its own: the last one in the text.
    asked[0]!.answer({ pages: { nextKey: 'real' }, items: [{ id: 'a', nested: { nextKey: 'guess' } }] });
    await first;
    const second = pages.next();
    await Promise.resolve();
    expect(asked.map((a) => a.query.pageFromKey)).toEqual([undefined, 'guess', 'real']);
    expect(asked[1]!.signal!.aborted).toBe(true);
    asked[2]!.answer(keyPage('b'));
    expect((await second).value!.items).toEqual([{ id: 'b' }]);
  });

  it('a page whose answer is told twice (the first retried, its body unreadable) keeps one page ahead, asked for by the last', async () => {
    const slots = new AheadSlots(1);
    const asked: Array<{ query: Query; signal?: AbortSignal }> = [];
    let retried: ((body: object) => void) | undefined;
    const get = (query: Query, request?: PageRequest) =>
      new Promise<Fetched>((resolve) => {
        asked.push({ query, signal: request?.signal });
        if (asked.length > 1) return;
        // The first answer's text is told, then found unreadable and asked again: its retry is told too.
        request?.onText?.('{"items":[{"id":"a"}],"pages":{"nextKey":"k2"');
        retried = (body) => {
          const text = JSON.stringify(body);
          request?.onText?.(text);
          resolve({ body, text });
        };
      });
    const pages = keyPages<{ id: string }>(get, {}, { ahead: slots })[Symbol.asyncIterator]();
    const first = pages.next();
    await Promise.resolve();
    retried!(keyPage('a', 'k2'));
    await first;
    expect(asked.map((a) => a.query.pageFromKey)).toEqual([undefined, 'k2', 'k2']);
    expect([asked[1]!.signal!.aborted, asked[2]!.signal!.aborted]).toEqual([true, false]);
    // One slot in use, given back once the pager is left.
    expect(slots.take()).toBe(false);
    await pages.return(undefined);
    expect(slots.take()).toBe(true);
  });

  it('cancels the page asked for ahead when the caller stops reading', async () => {
    const { get, asked } = answeredByHand();
    const pages = keyPages<{ id: string }>(get, {}, { ahead: new AheadSlots(1) })[Symbol.asyncIterator]();
    const first = pages.next();
    await Promise.resolve();
    asked[0]!.answer(keyPage('a', 'k2'));
    await first;
    expect(asked[1]!.signal!.aborted).toBe(false);
    await pages.return(undefined);
    expect(asked[1]!.signal!.aborted).toBe(true);
  });

  it.each([
    ['more to come', { items: [{ id: '1' }], has_more: true, next_cursor: 'c2' }, [{ limit: '1', cursor: 'c2' }]],
    ['caught up', { items: [{ id: '1' }], has_more: false, next_cursor: 'c2' }, []],
    ['the cursor it was asked with, given back', { items: [], has_more: true, next_cursor: 'c1' }, []],
  ])('SIEM events, %s: asks ahead only for a page the pager will read', async (_what, body, ahead) => {
    const { get, asked } = answeredByHand();
    const pages = cursorPages(get, { limit: '1', cursor: 'c1' }, { ahead: new AheadSlots(1) })[Symbol.asyncIterator]();
    const first = pages.next();
    await Promise.resolve();
    asked[0]!.answer(body);
    await first;
    expect(asked.slice(1).map((a) => a.query)).toEqual(ahead);
    await pages.return(undefined);
  });

  it('SIEM events: the page after a from_date is asked for by cursor alone', async () => {
    const { get, asked } = answeredByHand();
    const pages = cursorPages(get, { limit: '1', from_date: '1700000000' }, { ahead: new AheadSlots(1) })[Symbol.asyncIterator]();
    const first = pages.next();
    await Promise.resolve();
    asked[0]!.answer({ has_more: true, items: [{ id: '1' }], next_cursor: 'c2' });
    await first;
    expect(asked.map((a) => a.query)).toEqual([{ limit: '1', from_date: '1700000000' }, { limit: '1', cursor: 'c2' }]);
    await pages.return(undefined);
  });
});
