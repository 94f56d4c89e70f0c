// The audit trail: one JSON object per line, appended, never rewritten (interfaces.md). Every
// decision of a run gets a line, deletions with the device as it was just before deletion.
import { hostname as machineName, userInfo } from 'node:os';
import { appendJsonLine } from './ledger.js';
import type { Verdict } from './verdict.js';

export type AuditAction = 'none' | 'would_delete' | 'deleted' | 'delete_failed';

/** Who or what ran the clean-up. */
export interface Actor {
  tool: string;
  user?: string;
  host?: string;
  /** The Splunk saved search and job that triggered an alert action. */
  search?: string;
  sid?: string;
}

export interface AuditRecord {
  time: string;
  runId: string;
  endpointId: string;
  hostname: string;
  tenantId: string;
  verdict: Verdict;
  reason: string;
  action: AuditAction;
  dryRun: boolean;
  /** What happened: the API answer, the error, or why nothing was done. */
  result: string;
  lastSeenAt?: string;
  /** The endpoint as the live re-check returned it, just before the delete. */
  device?: Record<string, unknown>;
  actor: Actor;
}

export interface AuditSink {
  write(record: AuditRecord): Promise<void>;
}

export class JsonLinesAudit implements AuditSink {
  constructor(readonly path: string) {}

  write(record: AuditRecord): Promise<void> {
    return appendJsonLine(this.path, record);
  }
}

/** The local user and host, for the `actor` of a CLI run. */
export function localActor(tool: string): Actor {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME;
  }
  return { tool, user, host: machineName() };
}
