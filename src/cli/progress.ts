// Progress for long pulls, on stderr and only when stderr is a terminal: tenants done out of those
// listed so far, and items written. Redrawn in place at most a few times a second.
import type { CentralClient, Tenant, TenantFilter } from '../central/types.js';
import { SOURCETYPE } from '../collect/records.js';
import type { OutRecord } from '../collect/sink.js';
import { tenantRunOf, type CliSink } from './outputs.js';

export class Progress {
  private listed = 0;
  private done = 0;
  private items = 0;
  private last = 0;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly what: string,
  ) {}

  /** Counts tenants as the client lists them. */
  wrapClient(client: CentralClient): CentralClient {
    const self = this;
    return {
      whoami: () => client.whoami(),
      forTenant: (t: Tenant) => client.forTenant(t),
      close: () => client.close(),
      get stats() {
        return client.stats;
      },
      get clockSkewMs() {
        return client.clockSkewMs;
      },
      sophosNow: () => client.sophosNow(),
      async *tenants(filter?: TenantFilter, opts?: { pageSize?: number }) {
        for await (const t of client.tenants(filter, opts)) {
          self.listed++;
          yield t;
        }
      },
    };
  }

  wrapSink(sink: CliSink): CliSink {
    return {
      write: async (records: OutRecord[]) => {
        await sink.write(records);
        for (const r of records) {
          if (r.sourcetype !== SOURCETYPE.health) this.items++;
          else if (tenantRunOf(r)) this.done++;
        }
        this.draw();
      },
      close: () => sink.close(),
    };
  }

  private draw(): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    this.shown = true;
    this.out.write(`\r\x1b[2Ktenants ${this.done}/${this.listed}, ${this.items} ${this.what}`);
  }

  /** Clears the line before anything else is written to stderr. */
  clear(): void {
    if (!this.shown) return;
    this.out.write('\r\x1b[2K');
    this.shown = false;
  }
}
