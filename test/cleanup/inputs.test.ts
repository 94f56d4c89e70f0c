import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvRows } from '../../src/cleanup/csv.js';
import { parseAdCsv, parseTickets, parseVipList, readInputFile } from '../../src/cleanup/inputs.js';
import { Ledger } from '../../src/cleanup/ledger.js';
import { CleanupError } from '../../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'ta-cleanup-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('RFC 4180 CSV', () => {
  it.each([
    ['plain', 'a,b\n1,2\n', [['a', 'b'], ['1', '2']]],
    ['CRLF and no final newline', 'a,b\r\n1,2', [['a', 'b'], ['1', '2']]],
    ['quoted comma, quote and CRLF', 'a,b\r\n"x, y","say ""hi""\r\nthere"\r\n', [['a', 'b'], ['x, y', 'say "hi"\r\nthere']]],
    ['empty fields', 'a,,c\n,,\n', [['a', '', 'c'], ['', '', '']]],
    ['blank lines are not rows', 'a\n\n1\n\n', [['a'], ['1']]],
    ['a BOM is dropped', '\uFEFFa,b\n1,2\n', [['a', 'b'], ['1', '2']]],
    ['empty quoted field', '"",x\n', [['', 'x']]],
  ])('%s', (_name, text, rows) => {
    expect(parseCsvRows(text, 't.csv')).toEqual(rows);
  });

  it('refuses an unclosed quote and a stray quote, naming the line', () => {
    expect(() => parseCsvRows('a\n"open\n', 't.csv')).toThrow(/t\.csv: line 3: a quoted field is never closed/);
    expect(() => parseCsvRows('a\nx"y\n', 't.csv')).toThrow(/t\.csv: line 2: a quote inside an unquoted field/);
  });
});

describe('AD CSV', () => {
  it('reads the columns in any order, ignores extras and keeps quoted DNs whole', () => {
    const text = 'os_build,Extra,distinguished_name,hostname,os,domain,owner\r\n' + '19045,zz,"CN=PC01,OU=Disabled,DC=corp",PC01,Windows 10,corp.example.com,Bob\r\n' + ',,,,,,\r\n';
    expect(parseAdCsv(text, 'ad.csv')).toEqual([
      { hostname: 'PC01', domain: 'corp.example.com', distinguishedName: 'CN=PC01,OU=Disabled,DC=corp', os: 'Windows 10', osBuild: '19045', owner: 'Bob' },
    ]);
  });

  it('names the missing column in a CleanupError', () => {
    const err = (() => {
      try {
        parseAdCsv('hostname,domain,os,os_build\nPC,corp,w,1\n', 'ad.csv');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CleanupError);
    expect((err as Error).message).toBe('ad.csv: missing column "distinguished_name"; the header row has hostname,domain,os,os_build');
  });

  it('refuses an empty file', () => {
    expect(() => parseAdCsv('', 'ad.csv')).toThrow(/ad\.csv: the file is empty/);
  });
});

describe('VIP and tickets', () => {
  it('reads one person per line, names and DOMAIN\\user, ignoring blanks and comments', () => {
    expect([...parseVipList('Alice Smith\r\n\n# board\nCORP\\Bob\n')]).toEqual(['alice smith', 'corp\\bob']);
  });

  it('reads tickets by hostname or endpoint_id, and refuses a file with neither', () => {
    const t = parseTickets('ticket,endpoint_id\nINC1,E-1\n', 't.csv');
    expect(t.find({ id: 'e-1', hostname: 'x' })).toBeDefined();
    expect(parseTickets('hostname\npc9.corp\n', 't.csv').find({ id: 'q', hostname: 'PC9' })).toBeDefined();
    expect(() => parseTickets('ticket,host\nINC1,pc\n', 't.csv')).toThrow(/missing column "hostname" or "endpoint_id"/);
  });
});

describe('files', () => {
  it('turns an unreadable file into one clear line', async () => {
    await expect(readInputFile(join(tmp, 'nope.csv'), 'AD CSV')).rejects.toThrow(new CleanupError(`cannot read the AD CSV ${join(tmp, 'nope.csv')}: no such file`));
    await expect(readInputFile(tmp, 'AD CSV')).rejects.toThrow(/it is a directory/);
  });

  it('keeps the ledger across runs: deleted, ticket opened, ticket closed', async () => {
    const path = join(tmp, 'sub', 'ledger.jsonl');
    const first = await Ledger.open(path);
    expect(first.deletedAt('a')).toBeUndefined();
    await first.append({ time: 't1', kind: 'deleted', endpointId: 'a' });
    await first.append({ time: 't2', kind: 'ticket_opened', endpointId: 'b', reason: 'delete_failed: boom' });
    const second = await Ledger.open(path);
    expect(second.deletedAt('a')).toBe('t1');
    expect(second.openTicket('b')).toBe('ledger ticket: delete_failed: boom (t2)');
    appendFileSync(path, JSON.stringify({ time: 't3', kind: 'ticket_closed', endpointId: 'b' }) + '\n');
    expect((await Ledger.open(path)).openTicket('b')).toBeUndefined();
  });

  it('refuses a corrupt ledger line rather than forgetting what was deleted', async () => {
    const path = join(tmp, 'bad-ledger.jsonl');
    writeFileSync(path, '{"time":"t","kind":"deleted","endpointId":"a"}\n{oops\n');
    await expect(Ledger.open(path)).rejects.toThrow(/line 2 is not JSON/);
  });
});
