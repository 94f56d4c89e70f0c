// The CLI's EventSinks: stdout (one JSON object per line), JSON files (one per tenant, written
// atomically) and Splunk HEC (`splunk`, `splunk_trans`). This is the only code in src/ that writes stdout.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, HecError } from '../errors.js';
import { SOURCETYPE } from '../collect/records.js';
import type { EventSink, OutRecord } from '../collect/sink.js';
import type { HecClient } from './hec.js';

export interface CliSink extends EventSink {
  /** Finishes what is pending (open files); called once after the run. */
  close(): Promise<void>;
}

const isHealth = (r: OutRecord) => r.sourcetype === SOURCETYPE.health;

/** The tenant and status of a collector's `tenant_run` health record (its last record for a tenant), else undefined. */
export function tenantRunOf(r: OutRecord): { tenantId: string; status: unknown } | undefined {
  if (!isHealth(r) || !r.tenantId) return undefined;
  let body: { type?: unknown; status?: unknown };
  try {
    body = JSON.parse(r.data);
  } catch {
    return undefined;
  }
  return body.type === 'tenant_run' ? { tenantId: r.tenantId, status: body.status } : undefined;
}

/** stdout: the data only (health records stay out; the CLI summarises on stderr). */
export class StdoutSink implements CliSink {
  private failed?: Error;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    // EPIPE (the reader went away) must fail the write, not crash the process: the window then stays put.
    out.on('error', (err: Error) => {
      this.failed = err;
    });
  }

  async write(records: OutRecord[]): Promise<void> {
    if (this.failed) throw this.failed;
    let text = '';
    for (const r of records) if (!isHealth(r)) text += `${r.data}\n`;
    if (text === '') return;
    await new Promise<void>((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}

/** `<tenant name>_<tenant id>.json`, with characters no file system takes replaced. */
export function tenantFileName(name: string, id: string): string {
  const safe = name
    .replace(/[\u0000-\u001f<>:"/\\|?*]/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 100);
  return `${safe || 'tenant'}_${id.replace(/[^A-Za-z0-9-]/g, '_')}.json`;
}

interface OpenFile {
  handle: FileHandle;
  tmp: string;
  final: string;
  count: number;
}

/**
 * `json`: one file per tenant holding a JSON array, one item per line. Items go to a temporary file
 * beside the final one, which is renamed into place when the tenant is done, so a reader never sees half a
 * file. The sink learns that a tenant is done from the collector's `tenant_run` health record (its
 * documented last record per tenant). With `merge` (polling), the new items are appended to what the file
 * already holds, so successive polls accumulate; otherwise each run replaces the file.
 * `--get tenants` writes one `tenants.json` instead.
 */
export class JsonFileSink implements CliSink {
  private readonly files = new Map<string, OpenFile>();

  constructor(
    private readonly dir: string,
    private readonly opts: { merge: boolean; tenantsFile: boolean; onTenantDone?: (tenantId: string) => Promise<void> },
  ) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new ConfigError(`--output_dir ${dir}: ${(err as Error).message}`, 'output_dir');
    }
  }

  async write(records: OutRecord[]): Promise<void> {
    const touched = new Set<OpenFile>();
    for (const r of records) {
      if (isHealth(r)) {
        await this.onHealth(r);
        continue;
      }
      const key = this.opts.tenantsFile ? '' : (r.tenantId ?? '');
      const file = this.files.get(key) ?? (await this.openFile(key, r.tenantName ?? ''));
      await file.handle.write(`${file.count === 0 ? '' : ',\n'}${r.data}`);
      file.count++;
      touched.add(file);
    }
    // On disk before the collector moves on (it saves its checkpoint after this resolves).
    for (const f of touched) await f.handle.datasync();
  }

  private async onHealth(r: OutRecord): Promise<void> {
    const run = this.opts.tenantsFile ? undefined : tenantRunOf(r);
    if (!run) return;
    // A failed tenant keeps its previous file in a one-shot run; when polling, what was written is kept
    // (its checkpoint moved with it), so nothing is lost or sent twice.
    if (run.status === 'ok' || this.opts.merge) await this.finish(run.tenantId, r.tenantName ?? '');
    else await this.discard(run.tenantId);
  }

  private finalPath(key: string, name: string): string {
    return join(this.dir, key === '' ? 'tenants.json' : tenantFileName(name, key));
  }

  private async openFile(key: string, name: string): Promise<OpenFile> {
    const final = this.finalPath(key, name);
    const tmp = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(tmp, 'wx', 0o600);
    const file: OpenFile = { handle, tmp, final, count: 0 };
    this.files.set(key, file);
    await handle.write('[\n');
    if (this.opts.merge && existsSync(final)) await this.copyItems(final, file);
    return file;
  }

  /** Copies the items of a file this sink wrote before (one item per line between `[` and `]`). */
  private async copyItems(path: string, file: OpenFile): Promise<void> {
    const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const raw of lines) {
      n++;
      const line = raw.trim();
      if ((n === 1 && line === '[') || line === ']' || line === '') continue;
      if (!line.startsWith('{')) {
        await this.discardFile(file);
        throw new ConfigError(`${path} was not written by sophos-central (line ${n}); move it away or choose another --output_dir`);
      }
      const item = line.endsWith(',') ? line.slice(0, -1) : line;
      await file.handle.write(`${file.count === 0 ? '' : ',\n'}${item}`);
      file.count++;
    }
  }

  private async finish(key: string, name: string): Promise<void> {
    const file = this.files.get(key) ?? (existsSync(this.finalPath(key, name)) && this.opts.merge ? undefined : await this.openFile(key, name));
    if (file) {
      await file.handle.write(file.count === 0 ? ']\n' : '\n]\n');
      await file.handle.sync();
      await file.handle.close();
      await rename(file.tmp, file.final);
      this.files.delete(key);
    }
    if (key !== '') await this.opts.onTenantDone?.(key);
  }

  private async discard(key: string): Promise<void> {
    const file = this.files.get(key);
    if (file) await this.discardFile(file);
    this.files.delete(key);
  }

  private async discardFile(file: OpenFile): Promise<void> {
    await file.handle.close().catch(() => undefined);
    await rm(file.tmp, { force: true });
  }

  async close(): Promise<void> {
    if (this.opts.tenantsFile) {
      await this.finish('', '');
      return;
    }
    // A tenant without its tenant_run record was interrupted: its temporary file goes.
    for (const key of [...this.files.keys()]) await this.discard(key);
  }
}

export interface HecSinkOptions {
  /** splunk_trans: [splunk_transform] host, source and sourcetype prefix. */
  transform?: { host?: string; source?: string; sourcetype?: string };
  /** Called once with the first fatal HEC error, so the run can stop at once. */
  onFatal(err: HecError): void;
}

/** The suffix sophos_central_main.py appended to [splunk_transform] sourcetype, per data type. */
const TRANSFORM_SUFFIX: Record<string, string> = {
  [SOURCETYPE.alerts]: 'alerts',
  [SOURCETYPE.endpoints]: 'inventory',
  [SOURCETYPE.events]: 'events',
  [SOURCETYPE.tenants]: 'tenants',
  [SOURCETYPE.health]: 'health',
};

/** Pure: one HEC event for one record. `data` is already JSON, so it is spliced in, not re-encoded. */
export function hecEvent(r: OutRecord, transform?: HecSinkOptions['transform']): string {
  let head = `{"time":${Math.round(r.time * 1000) / 1000}`;
  if (transform?.host) head += `,"host":${JSON.stringify(transform.host)}`;
  if (transform?.source) head += `,"source":${JSON.stringify(transform.source)}`;
  const sourcetype = transform?.sourcetype ? `${transform.sourcetype}${TRANSFORM_SUFFIX[r.sourcetype] ?? ''}` : r.sourcetype;
  return `${head},"sourcetype":${JSON.stringify(sourcetype)},"event":${r.data}}`;
}

/** `splunk` / `splunk_trans`: HEC, health records included (they are useful in Splunk). */
export class HecSink implements CliSink {
  private fatal?: HecError;

  constructor(
    private readonly hec: HecClient,
    private readonly opts: HecSinkOptions,
  ) {}

  async write(records: OutRecord[]): Promise<void> {
    if (this.fatal) {
      // After a fatal error only the collectors' closing health records still arrive; data must not.
      if (records.every(isHealth)) return;
      throw this.fatal;
    }
    try {
      await this.hec.send(records.map((r) => hecEvent(r, this.opts.transform)));
    } catch (err) {
      if (err instanceof HecError && err.fatal) {
        this.fatal = err;
        this.opts.onFatal(err);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.hec.close();
  }
}
