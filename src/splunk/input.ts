// What splunkd writes on stdin: `<input>` in run mode, `<items>` for --validate-arguments.
// splunkd sends UTF-8 (Splunk docs, "Set up external validation" / "Set up streaming"); nothing else is accepted.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AbortedError, ProtocolError } from '../errors.js';

export type ParamValue = string | string[];
export type Params = Record<string, ParamValue>;

interface SplunkdContext {
  serverHost: string;
  serverUri: string;
  sessionKey: string;
  checkpointDir: string;
}

export interface StanzaDefinition {
  /** Full stanza name, e.g. `sophos_central://prod`. */
  name: string;
  /** The part after `scheme://`, as used by the data/inputs/<scheme>/<name> endpoint. */
  inputName: string;
  /** The app whose inputs.conf holds the stanza. */
  app?: string;
  params: Params;
}

export interface InputDefinition extends SplunkdContext {
  stanzas: StanzaDefinition[];
}

export interface ValidationDefinition extends SplunkdContext {
  /** The input name without `scheme://`. */
  name: string;
  params: Params;
}

export interface ReadStdinOptions {
  /** Give up when no complete document arrived within this time (the JS SDK waited 30.5 s). */
  timeoutMs?: number;
  /** Stop reading once one of these closing tags arrived, even without EOF. */
  endTags?: readonly string[];
  /** Aborted (SIGTERM): give up at once with an AbortedError. */
  signal?: AbortSignal;
}

const DEFAULT_END_TAGS = ['</input>', '</items>'] as const;

/**
 * Reads stdin until EOF or a closing `</input>`/`</items>` tag, whichever comes first, and decodes it as
 * strict UTF-8. Rejects with a ProtocolError on timeout, empty input or invalid UTF-8.
 */
export function readStdin(stream: NodeJS.ReadableStream = process.stdin, options: ReadStdinOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const endTags = options.endTags ?? DEFAULT_END_TAGS;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  return new Promise<string>((resolve, reject) => {
    const finish = (err?: Error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
      if (err) reject(err);
      else resolve(text);
    };
    const decode = (chunk?: Buffer): boolean => {
      try {
        text += chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
        return true;
      } catch {
        finish(new ProtocolError('stdin is not valid UTF-8; splunkd writes the input definition as UTF-8'));
        return false;
      }
    };
    const onData = (chunk: Buffer | string) => {
      const from = Math.max(0, text.length - 16);
      if (!decode(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) return;
      if (endTags.some((tag) => text.includes(tag, from)) && !inOpenSection(text)) finish();
    };
    const onEnd = () => {
      if (!decode()) return;
      if (text.trim() === '') finish(new ProtocolError('stdin was empty; expected the <input> or <items> document from splunkd'));
      else finish();
    };
    const onError = (err: Error) => finish(new ProtocolError(`could not read stdin: ${err.message}`));
    const onAbort = () => finish(new AbortedError('stopped before splunkd had sent the whole input definition'));
    const timer = setTimeout(
      () => finish(new ProtocolError(`no complete document on stdin after ${Math.round(timeoutMs / 1000)} s; expected the <input> or <items> document from splunkd`)),
      timeoutMs,
    );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}

/**
 * Whether `text` ends inside a CDATA section or a comment: a closing tag there is a value's text, not the
 * document's end. splunkd escapes values rather than wrapping them in CDATA, but a document that does is
 * still XML, and stopping inside one would report it as malformed.
 */
function inOpenSection(text: string): boolean {
  return text.lastIndexOf('<![CDATA[') > text.lastIndexOf(']]>') || text.lastIndexOf('<!--') > text.lastIndexOf('-->');
}

const ARRAY_TAGS = new Set(['stanza', 'param', 'param_list', 'value', 'item']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Besides the five named entities, an XML parser must decode character references (&#39;, &#x41;);
  // fast-xml-parser does that only with its HTML entity set, which also takes a few HTML names in stride.
  htmlEntities: true,
  isArray: (name) => ARRAY_TAGS.has(name),
});

type XmlNode = Record<string, unknown>;

function parseDocument(xml: string, root: 'input' | 'items'): XmlNode {
  const body = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  const valid = XMLValidator.validate(body);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    // The validator reports a truncated document as "Invalid '[\"input\",\"server_host\"]' found.": say it plainly.
    const unclosed = /^Invalid '(\[[\s\S]*\])' found/.exec(msg);
    if (unclosed) {
      const tags = (JSON.parse(unclosed[1]!) as string[]).map((t) => `<${t}>`).join(', ');
      throw new ProtocolError(`incomplete <${root}> document on stdin: ${tags} never closed`);
    }
    throw new ProtocolError(`malformed <${root}> document on stdin: ${msg} (line ${line}, column ${col})`);
  }
  const doc = parser.parse(body) as XmlNode;
  const top = doc[root];
  if (top === undefined) {
    const found = Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('#')) ?? 'nothing';
    throw new ProtocolError(`expected an <${root}> document on stdin, got <${found}>`);
  }
  return typeof top === 'object' && top !== null ? (top as XmlNode) : {};
}

function text(node: XmlNode, tag: string, root: string): string {
  const value = node[tag];
  if (value === undefined) throw new ProtocolError(`the <${root}> document on stdin has no <${tag}>`);
  return textOf(value);
}

/** Element text whether the parser produced a string (plain element) or an object (element with attributes). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as XmlNode)['#text'] === 'string') return (value as XmlNode)['#text'] as string;
  return '';
}

function context(node: XmlNode, root: string): SplunkdContext {
  return {
    serverHost: text(node, 'server_host', root),
    serverUri: text(node, 'server_uri', root),
    sessionKey: text(node, 'session_key', root),
    checkpointDir: text(node, 'checkpoint_dir', root),
  };
}

function paramsOf(node: XmlNode, where: string): Params {
  const params: Params = {};
  for (const p of (node.param as XmlNode[] | undefined) ?? []) {
    const name = p['@_name'];
    if (typeof name !== 'string' || name === '') throw new ProtocolError(`a <param> in ${where} has no name attribute`);
    params[name] = textOf(p);
  }
  for (const p of (node.param_list as XmlNode[] | undefined) ?? []) {
    const name = p['@_name'];
    if (typeof name !== 'string' || name === '') throw new ProtocolError(`a <param_list> in ${where} has no name attribute`);
    params[name] = ((p.value as unknown[] | undefined) ?? []).map(textOf);
  }
  return params;
}

/** Parses the run-mode `<input>` document. */
export function parseInputDefinition(xml: string): InputDefinition {
  const input = parseDocument(xml, 'input');
  const configuration = input.configuration;
  const stanzaNodes =
    configuration && typeof configuration === 'object' ? (((configuration as XmlNode).stanza as XmlNode[] | undefined) ?? []) : [];
  const stanzas = stanzaNodes.map((s): StanzaDefinition => {
    const name = s['@_name'];
    if (typeof name !== 'string' || name === '') throw new ProtocolError('a <stanza> in the <input> document has no name attribute');
    const app = s['@_app'];
    const sep = name.indexOf('://');
    return {
      name,
      inputName: sep >= 0 ? name.slice(sep + 3) : name,
      ...(typeof app === 'string' && app !== '' ? { app } : {}),
      params: paramsOf(s, `stanza ${name}`),
    };
  });
  return { ...context(input, 'input'), stanzas };
}

/** Parses the `<items>` document of --validate-arguments (exactly one `<item>`). */
export function parseValidationDefinition(xml: string): ValidationDefinition {
  const items = parseDocument(xml, 'items');
  const itemNodes = (items.item as XmlNode[] | undefined) ?? [];
  if (itemNodes.length !== 1) throw new ProtocolError(`the <items> document must hold exactly one <item>, got ${itemNodes.length}`);
  const item = itemNodes[0]!;
  const name = item['@_name'];
  if (typeof name !== 'string' || name === '') throw new ProtocolError('the <item> in the <items> document has no name attribute');
  return { ...context(items, 'items'), name, params: paramsOf(item, `item ${name}`) };
}
