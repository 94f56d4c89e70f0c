import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCheckpointStore, checkpointFileName, storeFailure } from '../../src/checkpoint/file-store.js';
import { isCheckpointNameOf } from '../../src/checkpoint/keys.js';
import { CheckpointError, CorruptCheckpointError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
  dirs.push(dir);
  return { dir: join(dir, 'modinputs', 'sophos_central'), store: new FileCheckpointStore(join(dir, 'modinputs', 'sophos_central')) };
}

describe('FileCheckpointStore', () => {
  it('saves, loads and overwrites values per key', async () => {
    const { store } = setup();
    expect(await store.load('sophos_central://prod/alerts/t1')).toBeUndefined();
    await store.save('sophos_central://prod/alerts/t1', { highWater: 1, ids: ['a'] });
    await store.save('sophos_central://prod/alerts/t2', { highWater: 2 });
    await store.save('sophos_central://prod/alerts/t1', { highWater: 3, ids: [] });
    expect(await store.load('sophos_central://prod/alerts/t1')).toEqual({ highWater: 3, ids: [] });
    expect(await store.load('sophos_central://prod/alerts/t2')).toEqual({ highWater: 2 });
  });

  it('removes orphaned checkpoints written before the cut-off, and nothing else', async () => {
    const { dir, store } = setup();
    await store.save('sophos_central://gone|alerts|t1', { hwm: 1 });
    await store.save('sophos_central://gone|events|t1', { position: 1 });
    await store.save('sophos_central://kept|alerts|t1', { hwm: 2 });
    await store.save('sophos_central://gone-later|alerts|t1', { hwm: 3 });
    const later = join(dir, checkpointFileName('sophos_central://gone-later|alerts|t1'));
    // Written after the cut-off: whoever wrote it may be newer than the list of what exists.
    const cutOff = Date.now() + 60_000;
    utimesSync(later, new Date(cutOff + 1000), new Date(cutOff + 1000));
    writeFileSync(join(dir, 'not-a-checkpoint.json'), '{ broken');
    writeFileSync(join(dir, 'copied.json'), JSON.stringify({ key: 'sophos_central://gone|alerts|t9', value: {} }));
    // Damaged copies set aside by load() go with their checkpoint; the kept one's stay.
    const gone = checkpointFileName('sophos_central://gone|alerts|t1');
    const kept = checkpointFileName('sophos_central://kept|alerts|t1');
    writeFileSync(join(dir, `${gone}.corrupt-2026-01-01T00-00-00-000Z`), '{oops');
    writeFileSync(join(dir, `${kept}.corrupt-2026-01-01T00-00-00-000Z`), '{oops');
    // Set aside with no checkpoint saved since: gone by the key it opens with, when that can still be read.
    const alone = checkpointFileName('sophos_central://gone|endpoints|t2');
    writeFileSync(join(dir, `${alone}.corrupt-2026-01-01T00-00-00-000Z`), '{"key":"sophos_central://gone|endpoints|t2","savedAt":"2026-01-01T00:00:0');
    const unreadable = checkpointFileName('sophos_central://gone|endpoints|t3');
    writeFileSync(join(dir, `${unreadable}.corrupt-2026-01-01T00-00-00-000Z`), '\u0000\u0000');
    // Set aside after the cut-off: by a run of an input newer than the list of what exists.
    const asideLater = `${checkpointFileName('sophos_central://gone|endpoints|t4')}.corrupt-2026-01-01T00-00-00-000Z`;
    writeFileSync(join(dir, asideLater), '{"key":"sophos_central://gone|endpoints|t4","savedAt":"2026-01-01T00:00:0');
    utimesSync(join(dir, asideLater), new Date(cutOff + 1000), new Date(cutOff + 1000));

    const removed = await store.removeOrphans((key) => key.startsWith('sophos_central://gone'), cutOff);

    expect(removed.sort()).toEqual(['sophos_central://gone|alerts|t1', 'sophos_central://gone|events|t1']);
    expect(await store.load('sophos_central://gone|alerts|t1')).toBeUndefined();
    expect(await store.load('sophos_central://kept|alerts|t1')).toEqual({ hwm: 2 });
    expect(await store.load('sophos_central://gone-later|alerts|t1')).toEqual({ hwm: 3 });
    // A file that is not the store's own for its key (renamed or copied by hand) is not the store's to delete.
    expect(readdirSync(dir).sort()).toEqual(
      [
        checkpointFileName('sophos_central://gone-later|alerts|t1'),
        kept,
        `${kept}.corrupt-2026-01-01T00-00-00-000Z`,
        `${unreadable}.corrupt-2026-01-01T00-00-00-000Z`,
        asideLater,
        'copied.json',
        'not-a-checkpoint.json',
      ].sort(),
    );
    expect(await setup().store.removeOrphans(() => true, cutOff)).toEqual([]);
  });

  it('does not read the files a live input owns by name, and still removes a deleted input whose name starts like it', async () => {
    const { store } = setup();
    const t1 = '6c2c3e3c-3a34-4e4b-b0a6-111111111111';
    await store.save(`sophos_central://acme|alerts|${t1}`, { hwm: 1 });
    await store.save(`sophos_central://acme_eu|alerts|${t1}`, { hwm: 2 });
    await store.save(`sophos_central://Acme|events|${t1}`, { position: 3 });
    const live = isCheckpointNameOf(['sophos_central://acme']);
    expect(live(checkpointFileName(`sophos_central://acme|alerts|${t1}`))).toBe(true);
    expect(live(checkpointFileName(`sophos_central://acme_eu|alerts|${t1}`))).toBe(false);
    expect(live(checkpointFileName(`sophos_central://Acme|events|${t1}`))).toBe(false);
    // Everything counts as orphaned here, so only the name test can keep a file.
    const removed = await store.removeOrphans(() => true, Date.now() + 60_000, live);
    expect(removed.sort()).toEqual([`sophos_central://Acme|events|${t1}`, `sophos_central://acme_eu|alerts|${t1}`]);
    expect(await store.load(`sophos_central://acme|alerts|${t1}`)).toEqual({ hwm: 1 });
  });

  it('tells long input names apart by the key a file opens with, where the file name is cut short', async () => {
    const { store } = setup();
    const t1 = '6c2c3e3c-3a34-4e4b-b0a6-111111111111';
    const liveStanza = `sophos_central://${'customer_partner_'.repeat(3)}alerts`;
    const goneStanza = `sophos_central://${'customer_partner_'.repeat(3)}alerts_old`;
    await store.save(`${liveStanza}|alerts|${t1}`, { hwm: 1 });
    await store.save(`${goneStanza}|alerts|${t1}`, { hwm: 2 });
    // The names share their first 80 readable characters, so the name alone cannot say whose a file is.
    expect(isCheckpointNameOf([liveStanza])(checkpointFileName(`${liveStanza}|alerts|${t1}`))).toBe(false);
    const removed = await store.removeOrphans((key) => key.startsWith(`${goneStanza}|`), Date.now() + 60_000, isCheckpointNameOf([liveStanza]));
    expect(removed).toEqual([`${goneStanza}|alerts|${t1}`]);
    expect(await store.load(`${liveStanza}|alerts|${t1}`)).toEqual({ hwm: 1 });
  });

  it('maps keys to safe, unambiguous, bounded file names', () => {
    const names = ['sophos_central://Prod', 'sophos_central://prod', 'a/b', 'a_b', 'a:b', '../../etc/passwd', 'x'.repeat(5000), '', 'é'];
    const files = names.map(checkpointFileName);
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(names.length);
    for (const f of files) {
      expect(f).toMatch(/^[a-z0-9][a-z0-9._-]*\.[0-9a-f]{16}\.json$/);
      expect(f.length).toBeLessThanOrEqual(120);
    }
    expect(checkpointFileName('sophos_central://prod/alerts/t1')).toMatch(/^sophos_central_prod_alerts_t1\./);
  });

  it('leaves no temp file behind and only finished files in the directory', async () => {
    const { store, dir } = setup();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(`k${i % 3}`, { i })));
    expect(readdirSync(dir).every((f) => f.endsWith('.json'))).toBe(true);
    expect(readdirSync(dir)).toHaveLength(3);
  });

  it('keeps the previous value when a crash left only a partial temp file, and cleans old temp files up', async () => {
    const { store, dir } = setup();
    await store.save('cursor', { c: 'old' });
    const file = join(dir, checkpointFileName('cursor'));
    // What a kill -9 between write and rename leaves: a half-written temp file next to the intact old one.
    const temp = `${file}.tmp-99999-deadbeef`;
    writeFileSync(temp, '{"key":"cursor","value":{"c":"ne');
    expect(await store.load('cursor')).toEqual({ c: 'old' });
    utimesSync(temp, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    // One another input process is writing right now is left alone.
    const theirs = `${join(dir, checkpointFileName('theirs'))}.tmp-424242-abcd0123`;
    writeFileSync(theirs, '{"key":"theirs"');
    await new FileCheckpointStore(dir).save('other', 1);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([basename(theirs)]);
  });

  it.each([
    ['truncated JSON', '{"key":"cursor","savedAt":"x","value":{"c":'],
    ['empty file', ''],
    ['another key (renamed file)', JSON.stringify({ key: 'other', savedAt: 'x', value: 1 })],
    ['not an envelope', '[1,2,3]'],
  ])('sets a corrupt checkpoint (%s) aside, then reports it with the path it was set aside as', async (_name, content) => {
    const { store, dir } = setup();
    await store.save('cursor', { c: 1 });
    const file = join(dir, checkpointFileName('cursor'));
    writeFileSync(file, content);
    const err = await store.load('cursor').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptCheckpointError);
    expect((err as CorruptCheckpointError).message).toMatch(/^checkpoint for "cursor" was unreadable and was set aside as .*\.corrupt-/);
    const aside = readdirSync(dir).filter((f) => f.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect((err as CorruptCheckpointError).message).toBe(`checkpoint for "cursor" was unreadable and was set aside as ${join(dir, aside[0]!)}`);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe(content);
    // Not a crash loop: the next load is a clean miss, and a save works again.
    expect(await store.load('cursor')).toBeUndefined();
    await store.save('cursor', { c: 2 });
    expect(await store.load('cursor')).toEqual({ c: 2 });
  });

  it('reports a directory it cannot write as a CheckpointError naming the directory and the errno', async () => {
    const { dir } = setup();
    mkdirSync(dirname(dir), { recursive: true });
    writeFileSync(dir, 'a file where the directory should be');
    const err = await new FileCheckpointStore(join(dir, 'sub')).save('k', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe('TA_ERR_CHECKPOINT');
    expect((err as Error).message).toBe(`cannot save the checkpoint in ${join(dir, 'sub')}: ENOTDIR; a file stands where a directory of ${join(dir, 'sub')} should be`);
  });

  it('reports checkpoint_dir itself being a file (EEXIST from mkdir) as the directory\'s problem, with the fix', async () => {
    const { dir } = setup();
    mkdirSync(dirname(dir), { recursive: true });
    writeFileSync(dir, 'a file where the directory should be');
    for (const attempt of [() => new FileCheckpointStore(dir).probe(), () => new FileCheckpointStore(dir).save('k', 1)]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      expect(err).toMatchObject({
        scope: 'directory',
        message: `cannot save the checkpoint in ${dir}: EEXIST; a file stands where the directory ${dir} should be`,
      });
    }
  });

  it('probe: saves can succeed, it creates the directory, and it leaves no file behind', async () => {
    const { dir } = setup();
    const store = new FileCheckpointStore(join(dir, 'new'));
    await store.probe();
    expect(readdirSync(join(dir, 'new'))).toEqual([]);
  });

  it('probe: fails as a save would, with the same CheckpointError, and changes no checkpoint', async () => {
    const { dir } = setup();
    mkdirSync(dirname(dir), { recursive: true });
    writeFileSync(dir, 'a file where the directory should be');
    const store = new FileCheckpointStore(join(dir, 'sub'));
    const probed = await store.probe().catch((e: unknown) => e);
    const saved = await store.save('k', 1).catch((e: unknown) => e);
    expect(probed).toBeInstanceOf(CheckpointError);
    expect(probed).toMatchObject({ message: (saved as Error).message, scope: 'directory' });
  });

  it('removes its temp file when the write fails half-way', async () => {
    const { store, dir } = setup();
    await store.save('k', 1);
    // A directory where the checkpoint file should be: the rename over it fails after the temp is written.
    const file = join(dir, checkpointFileName('k'));
    rmSync(file);
    mkdirSync(join(file, 'occupied'), { recursive: true });
    await expect(store.save('k', 2)).rejects.toBeInstanceOf(CheckpointError);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it.each([
    ['EACCES', 'the user this runs as must be able to read and write there'],
    ['EPERM', 'the user this runs as must be able to read and write there'],
    ['ENOSPC', 'the disk is full'],
    ['EROFS', 'the file system is read-only'],
    ['ENOTDIR', 'a file stands where a directory of /opt/splunk/var/lib/splunk/modinputs/sophos_central should be'],
    ['EISDIR', 'a directory stands where the checkpoint file should be: remove it'],
    ['EBUSY', 'another program (antivirus, backup) may hold the file open, or the user this runs as cannot write there'],
  ])('says what usually fixes %s', (code, hint) => {
    const dir = '/opt/splunk/var/lib/splunk/modinputs/sophos_central';
    const err = storeFailure('save the checkpoint in', dir, Object.assign(new Error('x'), { code }), dir);
    expect(err.message).toBe(`cannot save the checkpoint in ${dir}: ${code}; ${hint}`);
  });

  it.each([
    ['ENOSPC', 'usable', 'directory'],
    ['ENOTDIR', 'usable', 'directory'],
    ['EACCES', 'missing', 'directory'],
    ['EACCES', 'usable', 'file'],
    ['EBUSY', 'usable', 'file'],
    ['EISDIR', 'usable', 'file'],
  ])('%s with a %s directory is a failure of the %s', (code, state, scope) => {
    const { dir } = setup();
    mkdirSync(dir, { recursive: true });
    const at = state === 'usable' ? dir : join(dir, 'missing');
    expect(storeFailure('read', join(at, 'x.json'), Object.assign(new Error('x'), { code }), at).scope).toBe(scope);
  });

  it('a stale temp file it cannot remove does not fail the save', async () => {
    const { store, dir } = setup();
    await store.save('k', 1);
    // A directory with a temp file's name: fs.rm without recursive refuses it, as Windows refuses a file held open.
    const stale = join(dir, `${checkpointFileName('k')}.tmp-123-abcd0123`);
    mkdirSync(join(stale, 'held'), { recursive: true });
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, old, old);
    const fresh = new FileCheckpointStore(dir);
    await fresh.save('k', 2);
    expect(await fresh.load('k')).toBe(2);
    expect(readdirSync(dir)).toContain(`${checkpointFileName('k')}.tmp-123-abcd0123`);
  });

  it('writes files only its owner can read', async () => {
    const { store, dir } = setup();
    await store.save('k', 1);
    expect(statSync(join(dir, checkpointFileName('k'))).mode & 0o077).toBe(0);
  });
});
