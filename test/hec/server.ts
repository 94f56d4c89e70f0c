// A local Splunk HTTP Event Collector stand-in: /services/collector, /services/collector/event (batched
// bodies of concatenated JSON objects), /services/collector/ack, /services/collector/health, HEC's status
// codes with their HTTP statuses (splunk-addon.md §7), the `Splunk <token>` header, channels, indexer
// acknowledgement, and fault injection. Only events of accepted requests are kept in `events`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type HecFaultKind = 8 | 9 | 18 | 19 | 20 | 'drop' | 'http502';

export interface HecFault {
  kind: HecFaultKind;
  /** 1-based numbers of event requests (counted from when the fault was added) that get the fault. */
  nth?: number[];
  /** Max number of injections (default: unlimited with no nth, else nth.length). */
  times?: number;
}

export interface HecEvent {
  time?: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: unknown;
}

export interface HecRequestRecord {
  path: string;
  status: number;
  code: number;
  events: number;
  bytes: number;
  channel?: string;
  /** Authorization header with the token redacted: "Splunk <redacted>" etc. */
  auth: string;
}

export interface HecStandIn {
  url: string;
  token: string;
  events: HecEvent[];
  requests: HecRequestRecord[];
  faults: { add(f: HecFault): void; clear(): void };
  /** Set the token state: valid, disabled (code 1) or revoked (code 4). */
  setToken(state: 'ok' | 'disabled' | 'invalid'): void;
  /** Ack polls that answer false before an ackId turns true (default 1: the first poll says "not yet"). */
  ackDelayPolls: number;
  stop(): Promise<void>;
}

export interface HecOptions {
  token?: string;
  /** The token has useACK=true: a channel is required and responses carry ackId. */
  ack?: boolean;
  tls?: { key: string; cert: string };
}

const CODES: Record<number, [number, string]> = {
  0: [200, 'Success'],
  1: [403, 'Token disabled'],
  2: [401, 'Token is required'],
  3: [401, 'Invalid authorization'],
  4: [403, 'Invalid token'],
  5: [400, 'No data'],
  6: [400, 'Invalid data format'],
  8: [500, 'Internal server error'],
  9: [503, 'Server is busy'],
  10: [400, 'Data channel is missing'],
  11: [400, 'Invalid data channel'],
  12: [400, 'Event field is required'],
  13: [400, 'Event field cannot be blank'],
  14: [400, 'ACK is disabled'],
  17: [200, 'HEC is healthy'],
  18: [503, 'HEC is unhealthy, queues are full'],
  19: [503, 'HEC is unhealthy, ack service unavailable'],
  20: [503, 'HEC is unhealthy, queues are full, ack service unavailable'],
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Splits concatenated JSON objects (HEC's batch format); undefined at the index of an unparsable one. */
export function splitConcatenatedJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escape = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escape) escape = false;
      else if (c === '\\') escape = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) {
        try {
          out.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          out.push(undefined);
        }
      }
    } else if (depth === 0 && !/\s/.test(c as string)) {
      out.push(undefined);
      return out;
    }
  }
  if (depth !== 0) out.push(undefined);
  return out;
}

export async function startHec(opts: HecOptions = {}): Promise<HecStandIn> {
  const token = opts.token ?? '00000000-1111-4222-8333-444444444444';
  const events: HecEvent[] = [];
  const requests: HecRequestRecord[] = [];
  let faults: Array<HecFault & { seen: number; used: number }> = [];
  let tokenState: 'ok' | 'disabled' | 'invalid' = 'ok';
  const channels = new Map<string, { next: number; polls: Map<number, number> }>();

  const stand: HecStandIn = {
    url: '',
    token,
    events,
    requests,
    ackDelayPolls: 1,
    faults: {
      add: (f) => faults.push({ ...f, seen: 0, used: 0 }),
      clear: () => {
        faults = [];
      },
    },
    setToken: (s) => {
      tokenState = s;
    },
    stop: async () => undefined,
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/\/+$/, '');
      const body = Buffer.concat(chunks).toString('utf8');
      const authRaw = String(req.headers.authorization ?? '');
      const channel = String(req.headers['x-splunk-request-channel'] ?? url.searchParams.get('channel') ?? '') || undefined;
      const record = (status: number, code: number, n = 0) =>
        requests.push({ path, status, code, events: n, bytes: Buffer.byteLength(body), channel, auth: authRaw.replace(/^(\S+)\s.*$/, '$1 <redacted>') });
      const reply = (code: number, extra: Record<string, unknown> = {}, n = 0) => {
        const [status, text] = CODES[code] ?? [400, 'Error'];
        record(status, code, n);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ text, code, ...extra }));
      };

      if (path === '/services/collector/health') return reply(17);
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      if (!authRaw) return reply(2);
      const m = /^Splunk (\S+)$/.exec(authRaw);
      if (!m) return reply(3);
      if (m[1] !== token || tokenState === 'invalid') return reply(4);
      if (tokenState === 'disabled') return reply(1);

      if (path === '/services/collector/ack') {
        if (!opts.ack) return reply(14);
        if (!channel) return reply(10);
        const ch = channels.get(channel);
        let ids: unknown;
        try {
          ids = (JSON.parse(body) as { acks?: unknown }).acks;
        } catch {
          return reply(6);
        }
        if (!Array.isArray(ids)) return reply(6);
        const acks: Record<string, boolean> = {};
        for (const id of ids) {
          const polls = ch?.polls.get(Number(id));
          if (polls === undefined) {
            acks[String(id)] = false;
            continue;
          }
          acks[String(id)] = polls >= stand.ackDelayPolls;
          ch?.polls.set(Number(id), polls + 1);
        }
        record(200, 0);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ acks }));
        return;
      }
      if (path !== '/services/collector' && path !== '/services/collector/event' && path !== '/services/collector/event/1.0') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'The requested URL was not found on this server.', code: 404 }));
        return;
      }
      if (opts.ack) {
        if (!channel) return reply(10);
        if (!GUID.test(channel)) return reply(11);
      }
      for (const f of faults) {
        f.seen++;
        const hit = f.nth ? f.nth.includes(f.seen) : true;
        const limit = f.times ?? (f.nth ? f.nth.length : Infinity);
        if (hit && f.used < limit) {
          f.used++;
          if (f.kind === 'drop') {
            record(0, -1);
            req.socket.destroy();
            return;
          }
          if (f.kind === 'http502') {
            record(502, -1);
            res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
            return;
          }
          return reply(f.kind);
        }
      }
      if (body.trim() === '') return reply(5);
      const parsed = splitConcatenatedJson(body);
      const batch: HecEvent[] = [];
      for (let i = 0; i < parsed.length; i++) {
        const ev = parsed[i] as HecEvent | undefined;
        if (ev === undefined || typeof ev !== 'object') return reply(6, { 'invalid-event-number': i });
        if (!('event' in ev)) return reply(12, { 'invalid-event-number': i });
        if (ev.event === '' || ev.event === null) return reply(13, { 'invalid-event-number': i });
        batch.push(ev);
      }
      events.push(...batch);
      if (opts.ack && channel) {
        const ch = channels.get(channel) ?? { next: 0, polls: new Map<number, number>() };
        channels.set(channel, ch);
        const ackId = ch.next++;
        ch.polls.set(ackId, 0);
        return reply(0, { ackId }, batch.length);
      }
      return reply(0, {}, batch.length);
    });
  };

  const server = opts.tls ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stand.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stand.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stand;
}
