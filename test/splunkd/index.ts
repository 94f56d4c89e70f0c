// A splunkd stand-in for tests and the demo. It plays the parts of splunkd the add-on meets:
// - REST on 127.0.0.1 (HTTP, or HTTPS with a Splunk-like default certificate): storage/passwords list, create
//   (201, 409 on a duplicate), read, update and delete with entity names `realm:user:` (`user:` without a
//   realm), and the data/inputs/sophos_central list (`-` for every app) and
//   data/inputs/sophos_central/<name> edit (which, like splunkd, runs external validation first). Answers JSON
//   with output_mode=json and Atom XML without it; 401 without `Authorization: Splunk <session key>`.
//   configs/conf-ta_sophos_central_settings list and per-stanza edit (the setup page's app-wide settings).
//   Every listing gives 30 entries unless `count` says otherwise, as splunkd does;
// - ExecProcessor: writes the <input> (or <items>) document to the script's stdin, reads its stdout as the XML
//   stream with a strict parser (any invalid byte fails), and keeps events, stderr lines and the exit code.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Agent, fetch as undiciFetch } from 'undici';
import { WRAPPER } from '../helpers/paths.js';
import { generateSplunkCerts } from './certs.js';

export const TA_APP = 'TA-sophos-central';
const SCHEME = 'sophos_central';
const SETTINGS_CONF = 'ta_sophos_central_settings';

export interface StoredPassword {
  app: string;
  realm: string;
  username: string;
  password: string;
}

export interface Stanza {
  app: string;
  params: Record<string, string>;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Form fields with password and client_secret values, and a proxy_url's password, redacted (the mask placeholder is kept). */
  form: Record<string, string>;
  authorized: boolean;
  status: number;
}

export interface StreamEvent {
  stanza?: string;
  unbroken?: string;
  time?: number;
  source?: string;
  sourcetype?: string;
  index?: string;
  host?: string;
  data: string;
  done: boolean;
}

export interface KillPlan {
  signal: 'SIGTERM' | 'SIGKILL';
  /** Kill once this many complete events arrived on stdout. */
  afterEvents?: number;
  /** Kill after this many milliseconds. */
  afterMs?: number;
  /**
   * Stop reading stdout at the kill point and send the signal this many milliseconds later, as a splunkd that
   * is shutting down may; what the child wrote is read once it has exited.
   */
  stopReadingMs?: number;
}

export interface RunOptions {
  /** App whose inputs.conf holds a stanza that runInput creates (default TA-sophos-central). */
  app?: string;
  /** The command splunkd runs; default `bin/sophos_central.sh`, executed directly as splunkd does (its `#!` line and mode count). */
  command?: string[];
  env?: NodeJS.ProcessEnv;
  kill?: KillPlan;
  /** Hard limit for the child (default 60 s), after which it gets SIGKILL and the run fails. */
  timeoutMs?: number;
}

export interface RunResult {
  events: StreamEvent[];
  stdout: string;
  stderr: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the child was killed before it closed </stream> and the stand-in kept the complete events only. */
  truncated: boolean;
  /** Milliseconds from the start to the kill plan's signal, and to the child's exit; the first only when it was sent. */
  signalledMs?: number;
  exitedMs: number;
}

export interface ValidateResult {
  exitCode: number | null;
  stdout: string;
  stderr: string[];
  /** The <error><message> text, when validation failed. */
  message?: string;
}

export interface SplunkdStandIn {
  uri: string;
  sessionKey: string;
  splunkHome: string;
  checkpointDir: string;
  /** CA file the client must trust (HTTPS only). */
  caPath?: string;
  passwords: Map<string, StoredPassword>;
  stanzas: Map<string, Stanza>;
  /**
   * What an admin set in the `[sophos_central]` default stanza (local/inputs.conf): every stanza inherits these
   * where it sets none, in its run's <configuration> and in what REST answers for it (believed: splunkd's REST
   * shows an input's effective values). Starts empty; the app's shipped defaults are in STANZA_DEFAULTS.
   */
  defaultStanza: Record<string, string>;
  /** ta_sophos_central_settings.conf of the app, stanza -> fields (starts as default/ shipped it). */
  settings: Map<string, Record<string, string>>;
  requests: RequestRecord[];
  /** A request to this stand-in's REST API (`path` with its query), trusting its CA when it serves HTTPS. */
  fetch(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Response>;
  runInput(name: string, params?: Record<string, string>, opts?: RunOptions): Promise<RunResult>;
  validate(params: Record<string, string>, opts?: RunOptions & { name?: string }): Promise<ValidateResult>;
  stop(): Promise<void>;
}

export interface StandInOptions {
  https?: boolean;
  /** CN of splunkd's HTTPS certificate (default SplunkServerDefaultCert, as Splunk generates it). */
  certCommonName?: string;
  /** The command for runInput/validate and for the validation that an input edit triggers. */
  command?: string[];
  /** Run external validation on data/inputs edits, as splunkd does (default true). */
  validateOnEdit?: boolean;
  /**
   * What the <items> of an edit's validation holds: the fields posted (default), or the stored stanza with
   * them applied. splunk-addon.md §1.6 does not say which splunkd does; the input must pass with either.
   */
  editItems?: 'fields' | 'stanza';
  /** Environment for every child (added to process.env and SPLUNK_HOME). */
  env?: NodeJS.ProcessEnv;
  /**
   * Validation gets the session key of a user without list_storage_passwords, for whom splunkd refuses
   * storage/passwords (403). splunk-addon.md §3 names the input's own key splunk-system-user's, and does not say
   * whose key an edit's validation gets: the editing user's, perhaps, a power user's rather than an admin's.
   */
  validationWithoutListPasswords?: boolean;
}

/** Splunk's defaults for a stanza, as default/inputs.conf and splunkd add them. */
/** Splunk's own keys as splunk-addon.md §1.5 shows them (`$decideOnStartup`: splunkd sets the host), with start_days from default/inputs.conf. */
const STANZA_DEFAULTS: Record<string, string> = { interval: '300', start_days: '1', index: 'default', host: '$decideOnStartup', disabled: '0', 'python.version': 'python3' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** A proxy URL with its password, unless masked, redacted. */
function redactProxyPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)([^@]*)@/i, (all, head: string, password: string) => (/^\*+$/.test(password) ? all : `${head}<redacted>@`));
}

/**
 * `realm:username:`, a colon inside either written `\:`, and `:username:` without a realm: what splunkd names
 * them, as splunk-sdk-python's storage/passwords tests against a real splunkd show (test_create_with_colons,
 * test_create_norealm). splunk-addon.md §3 gives `username:` for no realm, which those tests contradict.
 */
export function entityName(realm: string, username: string): string {
  const part = (s: string) => s.replace(/:/g, '\\:');
  return `${part(realm)}:${part(username)}:`;
}

function paramsXml(params: Record<string, string>, indent: string): string {
  return Object.entries(params)
    .map(([k, v]) => `${indent}<param name="${esc(k)}">${esc(v)}</param>\n`)
    .join('');
}

/** One page of a REST listing: like splunkd, 30 entries from `offset` unless `count` says otherwise (0: all). */
function paged<T>(listed: T[], query: Record<string, string>): T[] {
  const offset = Number(query.offset ?? 0);
  const count = Number(query.count ?? 30);
  return listed.slice(offset, count === 0 ? undefined : offset + count);
}

/** What splunkd tells every script run, in <input> and <items> alike. */
function contextXml(o: { serverUri: string; sessionKey: string; checkpointDir: string }): string {
  return (
    `  <server_host>${esc(hostname())}</server_host>\n` +
    `  <server_uri>${esc(o.serverUri)}</server_uri>\n` +
    `  <session_key>${esc(o.sessionKey)}</session_key>\n` +
    `  <checkpoint_dir>${esc(o.checkpointDir)}</checkpoint_dir>\n`
  );
}

export function inputDocument(o: {
  serverUri: string;
  sessionKey: string;
  checkpointDir: string;
  stanzas: Array<{ name: string; app: string; params: Record<string, string> }>;
}): string {
  return (
    '<input>\n' +
    contextXml(o) +
    '  <configuration>\n' +
    o.stanzas
      .map((s) => `    <stanza name="${esc(`${SCHEME}://${s.name}`)}" app="${esc(s.app)}">\n${paramsXml(s.params, '      ')}    </stanza>\n`)
      .join('') +
    '  </configuration>\n' +
    '</input>\n'
  );
}

export function itemsDocument(o: { serverUri: string; sessionKey: string; checkpointDir: string; name: string; params: Record<string, string> }): string {
  return (
    '<items>\n' +
    contextXml(o) +
    `  <item name="${esc(o.name)}">\n${paramsXml(o.params, '    ')}  </item>\n` +
    '</items>\n'
  );
}

// References are left as written and resolved below (xmlText, xmlAttribute), as XML 1.0 resolves them: the
// parser alone would take undefined entities in stride, and leave character references undecoded.
const streamParser = new XMLParser({
  ignoreAttributes: false,
  // Attributes apart from child elements: `stanza` and `unbroken` are attributes of <event>, the rest elements.
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  isArray: (name) => name === 'event',
});

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&([^;&]*);|&/g;

/** Whether a code point is an XML 1.0 Char (§2.2), which a character reference must denote. */
function xmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Text with its references resolved in one pass; an undefined entity or a reference to a non-Char is an error. */
function resolveReferences(text: string): string {
  return text.replace(REFERENCE, (all, name: string | undefined) => {
    if (name === undefined) throw new Error(`XML stream has a bare & in ${JSON.stringify(text.slice(0, 60))}`);
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name);
    const cp = m ? parseInt(m[1] ?? m[2]!, m[1] ? 16 : 10) : NaN;
    if (!m) throw new Error(`XML stream uses the undefined entity ${all}`);
    if (!xmlChar(cp)) throw new Error(`XML stream has a reference to a character XML 1.0 forbids: ${all}`);
    return String.fromCodePoint(cp);
  });
}

/** An attribute value as XML 1.0 §3.3.3 normalises it: literal tab, LF and CR become spaces, then references resolve. */
function xmlAttribute(raw: string): string {
  return resolveReferences(raw.replace(/[\t\n\r]/g, ' '));
}

/** Element text as XML 1.0 reads it: CR LF and lone CR become LF (§2.11), then references resolve. */
function xmlText(raw: string): string {
  return resolveReferences(raw.replace(/\r\n?/g, '\n'));
}

/** A start tag, its quoted attribute values taken whole (they may hold `>`). */
const START_TAG = /<[^!?/](?:[^>"']|"[^"]*"|'[^']*')*>/g;

/**
 * CDATA sections written as the escaped text they stand for, so that the references resolved later give their
 * content back exactly (`<![CDATA[&amp;]]>` is the five characters `&amp;`).
 */
function withoutCdata(doc: string): string {
  return doc.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_all, text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/** What fast-xml-parser lets through and an XML 1.0 parser does not. */
function checkStrict(doc: string): void {
  // Character data is what is left without comments, processing instructions and tags.
  const text = doc.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '').replace(START_TAG, '').replace(/<\/[^>]*>/g, '');
  if (text.includes(']]>')) throw new Error('XML stream has ]]> in character data');
  const decl = /<\?xml[\s?]/.exec(doc.slice(1));
  if (decl) throw new Error(`XML stream has an XML declaration that is not at its start, at ${decl.index + 1}`);
  for (const tag of doc.matchAll(START_TAG)) {
    for (const attr of tag[0].matchAll(/=\s*("[^"]*"|'[^']*')/g)) {
      if (attr[1]!.includes('<')) throw new Error(`XML stream has < in an attribute value: ${tag[0].slice(0, 80)}`);
    }
  }
}

/** What a <stream> and an <event> may hold (splunk-addon.md §1.7): these elements and (`@_`) attributes, each once, and blanks. */
const STREAM_CHILDREN = new Set(['event']);
const EVENT_CHILDREN = new Set(['@_stanza', '@_unbroken', 'time', 'source', 'sourcetype', 'index', 'host', 'data', 'done']);

/**
 * Refuses what a reader of the stream would not take as the stream's events: text between or inside events (a
 * stray console.log), an element it does not know (an <event> inside another is not an event), one given twice.
 */
function checkShape(node: Record<string, unknown>, where: string, allowed: Set<string>): void {
  for (const [key, value] of Object.entries(node)) {
    // Processing instructions are not the stream's content, as comments are not.
    if (key.startsWith('?')) continue;
    if (key === '#text') {
      if (typeof value === 'string' && value.trim() !== '') throw new Error(`${where} has text outside its elements: ${value.trim().slice(0, 80)}`);
      continue;
    }
    if (!allowed.has(key)) throw new Error(key.startsWith('@_') ? `${where} has an attribute ${key.slice(2)} it should not` : `${where} has a <${key}> it should not`);
    if (key !== 'event' && Array.isArray(value)) throw new Error(`${where} has <${key}> more than once`);
  }
}

/**
 * The events splunkd indexes from the stream's <event> elements (splunk-addon.md §1.7): those marked
 * unbroken="1" are fragments of one event, their <data> joined, until one carries <done/>; its other fields are
 * the first fragment's. A run of fragments the stream ends without <done/> stays one event with `done` false.
 */
function logicalEvents(elements: StreamEvent[]): StreamEvent[] {
  const events: StreamEvent[] = [];
  let open: StreamEvent | undefined;
  for (const e of elements) {
    const event: StreamEvent = open ? { ...open, data: open.data + e.data, done: e.done } : e;
    open = event.unbroken === '1' && !event.done ? event : undefined;
    if (!open) events.push(event);
  }
  if (open) events.push(open);
  return events;
}

/**
 * Parses the XML stream as splunkd must: strict UTF-8, XML 1.0 characters only, well-formed, <stream> of
 * <event>s each with <data>. `allowTruncation` keeps the complete events of a killed child.
 */
export function parseXmlStream(raw: Buffer, allowTruncation: boolean): { events: StreamEvent[]; truncated: boolean; text: string } {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  if (text === '') return { events: [], truncated: false, text };
  let doc = text;
  let truncated = false;
  if (allowTruncation && !/<\/stream>\s*$/.test(text)) {
    const end = text.lastIndexOf('</event>');
    doc = end < 0 ? '<stream></stream>' : `${text.slice(0, end + '</event>'.length)}</stream>`;
    truncated = true;
  }
  const bad = FORBIDDEN.exec(doc);
  if (bad) throw new Error(`XML stream holds a character XML 1.0 forbids (U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}) at ${bad.index}`);
  const valid = XMLValidator.validate(doc);
  if (valid !== true) throw new Error(`XML stream is not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  doc = withoutCdata(doc);
  checkStrict(doc);
  const parsed = streamParser.parse(doc) as Record<string, unknown>;
  const roots = Object.keys(parsed).filter((k) => !k.startsWith('?'));
  if (roots.length !== 1 || roots[0] !== 'stream') throw new Error(`XML stream root must be <stream>, got ${roots.join(', ')}`);
  const stream = parsed.stream;
  // A <stream> with text only (blanks, when it holds no event) parses to that text.
  const streamNode = typeof stream === 'object' && stream !== null ? (stream as Record<string, unknown>) : { '#text': stream };
  checkShape(streamNode, 'XML stream', STREAM_CHILDREN);
  const nodes = (streamNode.event as Array<Record<string, unknown>> | undefined) ?? [];
  const elements = nodes.map((e, i): StreamEvent => {
    if (typeof e !== 'object' || e === null) throw new Error(`event ${i} has no <data>`);
    checkShape(e, `event ${i}`, EVENT_CHILDREN);
    if (typeof e.data !== 'string') throw new Error(`event ${i} has no <data>`);
    const unbroken = typeof e['@_unbroken'] === 'string' ? xmlAttribute(e['@_unbroken']) : undefined;
    if (unbroken !== undefined && unbroken !== '0' && unbroken !== '1') throw new Error(`event ${i} has unbroken="${unbroken}", not "1" or "0"`);
    const time = typeof e.time === 'string' ? xmlText(e.time) : undefined;
    if (time !== undefined && !/^\d+(\.\d+)?$/.test(time)) throw new Error(`event ${i} has <time>${time}</time>, not epoch seconds`);
    if ('done' in e && e.done !== '') throw new Error(`event ${i} has a <done> that is not empty`);
    const text = (k: string) => (typeof e[k] === 'string' ? xmlText(e[k] as string) : undefined);
    const attribute = (k: string) => (typeof e[`@_${k}`] === 'string' ? xmlAttribute(e[`@_${k}`] as string) : undefined);
    return {
      stanza: attribute('stanza'),
      unbroken: attribute('unbroken'),
      time: text('time') === undefined ? undefined : Number(text('time')),
      source: text('source'),
      sourcetype: text('sourcetype'),
      index: text('index'),
      host: text('host'),
      data: xmlText(e.data),
      done: 'done' in e,
    };
  });
  return { events: logicalEvents(elements), truncated, text };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function atomFeed(entries: Array<{ name: string; content: Record<string, string> }>): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest">\n' +
    entries
      .map(
        (e) =>
          `  <entry><title>${esc(e.name)}</title><content type="text/xml"><s:dict>` +
          Object.entries(e.content)
            .map(([k, v]) => `<s:key name="${esc(k)}">${esc(v)}</s:key>`)
            .join('') +
          '</s:dict></content></entry>\n',
      )
      .join('') +
    '</feed>\n'
  );
}

export async function startSplunkd(options: StandInOptions = {}): Promise<SplunkdStandIn> {
  const splunkHome = mkdtempSync(join(tmpdir(), 'splunkd-standin-'));
  const checkpointDir = join(splunkHome, 'var', 'lib', 'splunk', 'modinputs', SCHEME);
  mkdirSync(checkpointDir, { recursive: true });
  const sessionKey = randomBytes(24).toString('base64url');
  const editorKey = randomBytes(24).toString('base64url');
  const validationKey = options.validationWithoutListPasswords ? editorKey : sessionKey;
  const passwords = new Map<string, StoredPassword>();
  const stanzas = new Map<string, Stanza>();
  const defaultStanza: Record<string, string> = {};
  /** A stanza's parameters with what it inherits: the app's and splunkd's defaults, then the admin's `[sophos_central]`. */
  const effective = (stanza: Stanza): Record<string, string> => ({ ...STANZA_DEFAULTS, ...defaultStanza, ...stanza.params });
  const settings = new Map<string, Record<string, string>>([
    ['proxy', { proxy_url: '' }],
    ['logging', { loglevel: 'INFO' }],
  ]);
  const requests: RequestRecord[] = [];
  const defaultCommand = options.command ?? [WRAPPER];
  const childEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...process.env, ...options.env, ...extra, SPLUNK_HOME: splunkHome });
  let uri = '';

  const passwordContent = (p: StoredPassword) => ({
    realm: p.realm,
    username: p.username,
    clear_password: p.password,
    encr_password: `$7$${Buffer.from(p.password).toString('base64')}`,
    password: '********',
  });

  async function validate(params: Record<string, string>, opts: RunOptions & { name?: string } = {}): Promise<ValidateResult> {
    const doc = itemsDocument({ serverUri: uri, sessionKey: validationKey, checkpointDir, name: opts.name ?? 'validation', params });
    const r = await runChild([...(opts.command ?? defaultCommand), '--validate-arguments'], doc, childEnv(opts.env), opts);
    const stdout = r.stdout.toString('utf8');
    const m = /^<error><message>([\s\S]*)<\/message><\/error>$/.exec(stdout.trim());
    const message = m ? new XMLParser({ processEntities: true }).parse(`<m>${m[1]}</m>`).m : undefined;
    return { exitCode: r.exitCode, stdout, stderr: r.stderr, ...(message === undefined ? {} : { message: String(message) }) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const raw = req.method === 'POST' ? await readBody(req) : '';
    const form = Object.fromEntries(new URLSearchParams(raw));
    const editor = options.validationWithoutListPasswords === true && req.headers.authorization === `Splunk ${editorKey}`;
    const authorized = editor || req.headers.authorization === `Splunk ${sessionKey}`;
    const json = (query.output_mode ?? form.output_mode) === 'json';
    const record: RequestRecord = {
      method: req.method ?? '',
      path: url.pathname,
      query,
      form: Object.fromEntries(
        Object.entries(form).map(([k, v]) => [k, (k === 'password' || k === 'client_secret') && !/^\*+$/.test(v) ? '<redacted>' : k === 'proxy_url' ? redactProxyPassword(v) : v]),
      ),
      authorized,
      status: 0,
    };
    requests.push(record);
    const send = (status: number, entries: Array<{ name: string; content: Record<string, string> }> | undefined, messages: string[] = []) => {
      record.status = status;
      if (json) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            entries === undefined
              ? { messages: messages.map((text) => ({ type: status >= 400 ? 'ERROR' : 'INFO', text })) }
              : {
                  entry: entries.map((e) => ({ name: e.name, acl: { app: TA_APP, owner: 'nobody', sharing: 'app' }, content: e.content })),
                  paging: { total: entries.length, perPage: 30, offset: 0 },
                  messages: [],
                },
          ),
        );
      } else {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(
          entries === undefined
            ? `<?xml version="1.0" encoding="UTF-8"?>\n<response><messages>${messages.map((m) => `<msg type="${status >= 400 ? 'ERROR' : 'INFO'}">${esc(m)}</msg>`).join('')}</messages></response>\n`
            : atomFeed(entries),
        );
      }
    };
    if (!authorized) return send(401, undefined, ['call not properly authenticated']);

    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'servicesNS' || parts.length < 5) return send(404, undefined, [`no handler for ${url.pathname}`]);
    const app = parts[2]!;
    const rest = parts.slice(3);

    if (rest[0] === 'storage' && rest[1] === 'passwords') {
      if (editor) return send(403, undefined, ['You (user=editor) do not have permission to perform this operation (requires capability: list_storage_passwords).']);
      const visible = [...passwords.entries()].filter(([, p]) => p.app === app);
      if (rest.length === 2 && req.method === 'GET') {
        const search = query.search ?? '';
        const m = /^(\w+)=(.*)$/.exec(search);
        const matches = visible.filter(([name, p]) => {
          if (search === '') return true;
          const content = passwordContent(p) as Record<string, string>;
          return m ? (content[m[1]!] ?? '').includes(m[2]!) : name.includes(search);
        });
        return send(200, paged(matches, query).map(([name, p]) => ({ name, content: passwordContent(p) })));
      }
      if (rest.length === 2 && req.method === 'POST') {
        if (!form.name || !form.password) return send(400, undefined, ['name and password are required']);
        const name = entityName(form.realm ?? '', form.name);
        if (passwords.has(name)) return send(409, undefined, [`An object with name=${name} already exists`]);
        const p = { app, realm: form.realm ?? '', username: form.name, password: form.password };
        passwords.set(name, p);
        return send(201, [{ name, content: passwordContent(p) }]);
      }
      if (rest.length === 3) {
        const name = rest[2]!;
        const p = passwords.get(name);
        if (!p || p.app !== app) return send(404, undefined, [`Could not find object id=${name}`]);
        if (req.method === 'GET') return send(200, [{ name, content: passwordContent(p) }]);
        if (req.method === 'POST') {
          if (!form.password) return send(400, undefined, ['password is required']);
          p.password = form.password;
          return send(200, [{ name, content: passwordContent(p) }]);
        }
        if (req.method === 'DELETE') {
          passwords.delete(name);
          return send(200, []);
        }
      }
      return send(405, undefined, ['method not allowed']);
    }

    if (rest[0] === 'configs' && rest[1] === `conf-${SETTINGS_CONF}`) {
      if (app !== TA_APP) return send(404, undefined, [`no ${SETTINGS_CONF}.conf in app ${app}`]);
      if (rest.length === 2 && req.method === 'GET') return send(200, paged([...settings], query).map(([name, content]) => ({ name, content })));
      if (rest.length === 3 && req.method === 'POST') {
        const name = rest[2]!;
        const fields = Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'output_mode'));
        settings.set(name, { ...settings.get(name), ...fields });
        return send(200, [{ name, content: settings.get(name)! }]);
      }
      return send(405, undefined, ['method not allowed']);
    }

    if (rest[0] === 'data' && rest[1] === 'inputs' && rest[2] === SCHEME && rest.length === 3) {
      if (req.method !== 'GET') return send(405, undefined, ['method not allowed']);
      // Every app with `-`.
      const listed = [...stanzas].filter(([, s]) => app === '-' || s.app === app);
      return send(200, paged(listed, query).map(([name, s]) => ({ name, content: effective(s) })));
    }
    if (rest[0] === 'data' && rest[1] === 'inputs' && rest[2] === SCHEME && rest.length === 4) {
      const name = rest[3]!;
      const stanza = stanzas.get(name);
      if (!stanza) return send(404, undefined, [`Could not find object id=${name}`]);
      if (stanza.app !== app) return send(404, undefined, [`Could not find object id=${name} in app ${app}`]);
      if (req.method === 'GET') return send(200, [{ name, content: effective(stanza) }]);
      if (req.method === 'POST') {
        const fields = Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'output_mode'));
        // Whether splunkd's <items> for an edit holds the stored stanza or only the fields sent is not
        // documented (splunk-addon.md §1.6 is silent); the stand-in sends the fields of the request only
        // unless told otherwise (editItems), and the input accepts both.
        if (options.validateOnEdit !== false) {
          const v = await validate(options.editItems === 'stanza' ? { ...effective(stanza), ...fields } : fields, { name });
          if (v.exitCode !== 0) return send(400, undefined, [v.message ?? 'external validation failed']);
        }
        stanza.params = { ...stanza.params, ...fields };
        return send(200, [{ name, content: effective(stanza) }]);
      }
      return send(405, undefined, ['method not allowed']);
    }
    return send(404, undefined, [`no handler for ${url.pathname}`]);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ messages: [{ type: 'ERROR', text: String(err) }] }));
    });
  };
  let server: Server;
  let caPath: string | undefined;
  let dispatcher: Agent | undefined;
  if (options.https) {
    const certs = generateSplunkCerts(splunkHome, options.certCommonName);
    caPath = certs.caPath;
    server = createHttpsServer({ cert: certs.cert, key: certs.key }, onRequest);
    // The default certificate names SplunkServerDefaultCert, not 127.0.0.1: only its chain is checked.
    dispatcher = new Agent({ connect: { ca: certs.ca, checkServerIdentity: () => undefined } });
  } else {
    server = createHttpServer(onRequest);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  uri = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const children = new Set<ReturnType<typeof spawn>>();

  function runChild(command: string[], stdin: string, env: NodeJS.ProcessEnv, opts: RunOptions) {
    return new Promise<{ stdout: Buffer; stderr: string[]; exitCode: number | null; signal: NodeJS.Signals | null; killed: boolean; signalledMs?: number; exitedMs: number }>(
      (resolve, reject) => {
        const started = performance.now();
        let signalledMs: number | undefined;
        const child = spawn(command[0]!, command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
        children.add(child);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let events = 0;
        let killed = false;
        const kill = (signal: NodeJS.Signals) => {
          if (killed || child.exitCode !== null) return;
          killed = true;
          const send = () => {
            signalledMs = performance.now() - started;
            child.kill(signal);
          };
          if (opts.kill?.stopReadingMs === undefined) {
            send();
            return;
          }
          child.stdout.pause();
          child.once('exit', () => child.stdout.resume());
          setTimeout(send, opts.kill.stopReadingMs);
        };
        const plan = opts.kill;
        const killTimer = plan?.afterMs === undefined ? undefined : setTimeout(() => kill(plan.signal), plan.afterMs);
        const hardTimer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${command.join(' ')} did not finish within ${opts.timeoutMs ?? 60_000} ms`));
        }, opts.timeoutMs ?? 60_000);
        child.stdout.on('data', (d: Buffer) => {
          out.push(d);
          if (plan?.afterEvents !== undefined) {
            events += d.toString('latin1').split('</event>').length - 1;
            if (events >= plan.afterEvents) kill(plan.signal);
          }
        });
        child.stderr.on('data', (d: Buffer) => err.push(d));
        child.stdin.on('error', () => undefined); // a child that exits before reading stdin
        child.on('error', reject);
        child.on('close', (exitCode, signal) => {
          children.delete(child);
          clearTimeout(killTimer);
          clearTimeout(hardTimer);
          const stderr = Buffer.concat(err).toString('utf8').split('\n').filter((l) => l !== '');
          resolve({ stdout: Buffer.concat(out), stderr, exitCode, signal, killed, exitedMs: performance.now() - started, ...(signalledMs === undefined ? {} : { signalledMs }) });
        });
        child.stdin.end(stdin);
      },
    );
  }

  return {
    uri,
    sessionKey,
    splunkHome,
    checkpointDir,
    ...(caPath ? { caPath } : {}),
    fetch: (path, init = {}) => undiciFetch(`${uri}${path}`, { ...init, ...(dispatcher ? { dispatcher } : {}) }) as unknown as Promise<Response>,
    passwords,
    stanzas,
    defaultStanza,
    settings,
    requests,
    validate,
    async runInput(name, params, opts = {}) {
      if (params) stanzas.set(name, { app: opts.app ?? stanzas.get(name)?.app ?? TA_APP, params: { ...params } });
      const stanza = stanzas.get(name);
      if (!stanza) throw new Error(`no stanza ${name}`);
      const doc = inputDocument({
        serverUri: uri,
        sessionKey,
        checkpointDir,
        stanzas: [{ name, app: stanza.app, params: effective(stanza) }],
      });
      const r = await runChild(opts.command ?? defaultCommand, doc, childEnv(opts.env), opts);
      const parsed = parseXmlStream(r.stdout, r.killed);
      return {
        events: parsed.events,
        stdout: parsed.text,
        stderr: r.stderr,
        exitCode: r.exitCode,
        signal: r.signal,
        truncated: parsed.truncated,
        exitedMs: r.exitedMs,
        ...(r.signalledMs === undefined ? {} : { signalledMs: r.signalledMs }),
      };
    },
    async stop() {
      for (const c of children) c.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher?.close();
      rmSync(splunkHome, { recursive: true, force: true });
    },
  };
}
