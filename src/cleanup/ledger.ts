// The ledger: JSON lines that remember what earlier runs did, so a rerun never processes a device
// twice. `deleted` lines are devices this tool deleted; `ticket_opened` lines are devices raised
// for manual action (a delete that failed), skipped until a `ticket_closed` line for the same
// endpoint follows. Appending only: history is never rewritten.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CleanupError } from '../errors.js';
import { readInputFile } from './inputs.js';

export type LedgerKind = 'deleted' | 'ticket_opened' | 'ticket_closed';

export interface LedgerEntry {
  time: string;
  kind: LedgerKind;
  endpointId: string;
  hostname?: string;
  tenantId?: string;
  reason?: string;
}

export class Ledger {
  private readonly deleted = new Map<string, string>();
  private readonly tickets = new Map<string, string>();

  private constructor(readonly path: string | undefined) {}

  /** A ledger without a file: nothing remembered, nothing written (tests, the plan without --ledger). */
  static inMemory(): Ledger {
    return new Ledger(undefined);
  }

  /** Loads `path`; a missing file is an empty ledger (the first run). */
  static async open(path: string): Promise<Ledger> {
    const ledger = new Ledger(path);
    let text = '';
    try {
      text = await readInputFile(path, 'ledger');
    } catch (err) {
      if (!(err instanceof CleanupError) || (err.cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') throw err;
    }
    text.split('\n').forEach((line, idx) => {
      if (line.trim() === '') return;
      let entry: LedgerEntry;
      try {
        entry = JSON.parse(line) as LedgerEntry;
      } catch {
        throw new CleanupError(`ledger ${path}: line ${idx + 1} is not JSON; fix or remove that line (the ledger is append-only JSON lines)`);
      }
      if (typeof entry?.endpointId !== 'string' || typeof entry.kind !== 'string') {
        throw new CleanupError(`ledger ${path}: line ${idx + 1} has no "endpointId" or "kind"`);
      }
      ledger.remember(entry);
    });
    return ledger;
  }

  private remember(entry: LedgerEntry): void {
    if (entry.kind === 'deleted') this.deleted.set(entry.endpointId, entry.time);
    else if (entry.kind === 'ticket_opened') this.tickets.set(entry.endpointId, `${entry.reason ?? 'raised for manual action'} (${entry.time})`);
    else if (entry.kind === 'ticket_closed') this.tickets.delete(entry.endpointId);
  }

  deletedAt(endpointId: string): string | undefined {
    return this.deleted.get(endpointId);
  }

  openTicket(endpointId: string): string | undefined {
    const t = this.tickets.get(endpointId);
    return t === undefined ? undefined : `ledger ticket: ${t}`;
  }

  async append(entry: LedgerEntry): Promise<void> {
    this.remember(entry);
    if (this.path === undefined) return;
    await appendJsonLine(this.path, entry);
  }
}

/** Appends one JSON object as one line, creating the directory on first use. */
export async function appendJsonLine(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(value)}\n`, { encoding: 'utf8', flag: 'a' });
}
