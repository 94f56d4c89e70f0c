// A small model of Splunk's search-time pipeline, enough to apply the app's shipped props.conf,
// eventtypes.conf and tags.conf to sample events in tests: KV_MODE=json flattening, FIELDALIAS, EVAL
// (the function subset listed at the top of default/props.conf), eventtype searches and tags.
// It follows Splunk's documented order: automatic JSON extraction, then FIELDALIAS, then EVAL (all EVALs
// of a stanza in parallel, each reading the fields as they were before any EVAL), then eventtypes, then tags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';

export type Conf = Map<string, Map<string, string>>;
export type Value = string | string[] | null;
export type Fields = Map<string, string | string[]>;

/** Splunk .conf: `[stanza]`, `key = value`, whole-line `#` comments, `\` line continuation, no inline comments. */
export function parseConf(text: string): Conf {
  const conf: Conf = new Map();
  let current = new Map<string, string>();
  conf.set('default', current);
  const lines = text.replace(/\\\r?\n/g, '').split(/\r?\n/);
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const stanza = /^\[(.*)\]$/.exec(t);
    if (stanza) {
      current = conf.get(stanza[1]!) ?? new Map();
      conf.set(stanza[1]!, current);
      continue;
    }
    const eq = t.indexOf('=');
    if (eq < 0) throw new Error(`not a conf line: ${line}`);
    current.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  return conf;
}

export const readConf = (name: string): Conf => parseConf(readFileSync(join(ROOT, 'default', name), 'utf8'));

// Fields Splunk sets itself; automatic JSON extraction does not replace them (hence json_extract for "source").
const DEFAULT_FIELDS = new Set(['source', 'sourcetype', 'host', 'index']);

/** KV_MODE=json naming: nested keys joined by ".", arrays as "{}", array values become multivalue fields. */
export function flattenJson(obj: unknown): Fields {
  const out = new Map<string, string[]>();
  const add = (key: string, v: string) => {
    const list = out.get(key) ?? [];
    list.push(v);
    out.set(key, list);
  };
  const walk = (v: unknown, key: string) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) for (const item of v) walk(item, `${key}{}`);
    else if (typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(child, key ? `${key}.${k}` : k);
    } else add(key, String(v));
  };
  walk(obj, '');
  const fields: Fields = new Map();
  for (const [k, list] of out) {
    if (DEFAULT_FIELDS.has(k)) continue;
    fields.set(k, list.length === 1 && !k.includes('{}') ? list[0]! : list);
  }
  return fields;
}

// ---------------------------------------------------------------- eval expressions
type Tok = { t: 'str' | 'num' | 'field' | 'id' | 'op'; v: string };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      // Eval string literals: \\ is a backslash and \" a quote; any other backslash is kept as written.
      let s = '';
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\' && (src[i + 1] === '\\' || src[i + 1] === '"')) { s += src[i + 1]; i += 2; }
        else s += src[i++];
      }
      if (src[i] !== '"') throw new Error(`unterminated string in: ${src}`);
      i++;
      toks.push({ t: 'str', v: s });
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated field name in: ${src}`);
      toks.push({ t: 'field', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '!=') { toks.push({ t: 'op', v: two }); i += 2; continue; }
    if ('(),.='.includes(c)) { toks.push({ t: 'op', v: c === '=' ? '==' : c }); i++; continue; }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (num) { toks.push({ t: 'num', v: num[0] }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) { toks.push({ t: 'id', v: id[0] }); i += id[0].length; continue; }
    throw new Error(`unexpected "${c}" in eval: ${src}`);
  }
  return toks;
}

type Node =
  | { k: 'lit'; v: Value }
  | { k: 'field'; name: string }
  | { k: 'call'; fn: string; args: Node[] }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'not'; a: Node };

/** Eval functions the shipped props may use; anything else is an error, so props stay inside the tested subset. */
export const EVAL_FUNCTIONS = ['case', 'coalesce', 'if', 'lower', 'match', 'replace', 'mvindex', 'mvfind', 'isnotnull', 'null', 'true', 'json_extract'];

export function parseEval(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => peek()?.t === 'op' && peek()!.v === v;
  const isWord = (v: string) => peek()?.t === 'id' && peek()!.v.toUpperCase() === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new Error(`expected "${v}" in eval: ${src}`);
    p++;
  };
  const or = (): Node => {
    let a = and();
    while (isWord('OR')) { p++; a = { k: 'bin', op: 'OR', a, b: and() }; }
    return a;
  };
  const and = (): Node => {
    let a = not();
    while (isWord('AND')) { p++; a = { k: 'bin', op: 'AND', a, b: not() }; }
    return a;
  };
  const not = (): Node => {
    if (isWord('NOT')) { p++; return { k: 'not', a: not() }; }
    return cmp();
  };
  const cmp = (): Node => {
    const a = concat();
    if (isOp('==') || isOp('!=')) { const op = toks[p++]!.v; return { k: 'bin', op, a, b: concat() }; }
    return a;
  };
  const concat = (): Node => {
    let a = primary();
    while (isOp('.')) { p++; a = { k: 'bin', op: '.', a, b: primary() }; }
    return a;
  };
  const primary = (): Node => {
    const tok = toks[p++];
    if (!tok) throw new Error(`unexpected end of eval: ${src}`);
    if (tok.t === 'str') return { k: 'lit', v: tok.v };
    if (tok.t === 'num') return { k: 'lit', v: tok.v };
    if (tok.t === 'field') return { k: 'field', name: tok.v };
    if (tok.t === 'op' && tok.v === '(') { const e = or(); expect(')'); return e; }
    if (tok.t === 'id') {
      if (!isOp('(')) return { k: 'field', name: tok.v };
      p++;
      if (!EVAL_FUNCTIONS.includes(tok.v)) throw new Error(`eval function ${tok.v}() is outside the tested subset: ${src}`);
      const args: Node[] = [];
      if (!isOp(')')) {
        args.push(or());
        while (isOp(',')) { p++; args.push(or()); }
      }
      expect(')');
      return { k: 'call', fn: tok.v, args };
    }
    throw new Error(`unexpected "${tok.v}" in eval: ${src}`);
  };
  const node = or();
  if (p !== toks.length) throw new Error(`trailing tokens in eval: ${src}`);
  return node;
}

const TRUE = '\u0000true';
const first = (v: Value): string | null => (v === null ? null : Array.isArray(v) ? (v[0] ?? null) : v);
const truthy = (v: Value) => v === TRUE;
const bool = (b: boolean | null): Value => (b === null ? null : b ? TRUE : '\u0000false');
// Splunk regexes are PCRE; the ones props uses are also valid JavaScript once a leading (?i) becomes a flag.
const regex = (pattern: string) => (pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'i') : new RegExp(pattern));

function evaluate(n: Node, f: Fields, raw: string): Value {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'field':
      return f.get(n.name) ?? null;
    case 'not':
      return bool(!truthy(evaluate(n.a, f, raw)));
    case 'bin': {
      if (n.op === 'OR') return bool(truthy(evaluate(n.a, f, raw)) || truthy(evaluate(n.b, f, raw)));
      if (n.op === 'AND') return bool(truthy(evaluate(n.a, f, raw)) && truthy(evaluate(n.b, f, raw)));
      const a = first(evaluate(n.a, f, raw));
      const b = first(evaluate(n.b, f, raw));
      if (a === null || b === null) return null;
      if (n.op === '.') return a + b;
      return bool(n.op === '==' ? a === b : a !== b);
    }
    case 'call': {
      const args = n.args.map((a) => () => evaluate(a, f, raw));
      const arg = (i: number) => args[i]?.() ?? null;
      switch (n.fn) {
        case 'true': return TRUE;
        case 'null': return null;
        case 'isnotnull': return bool(arg(0) !== null);
        case 'if': return truthy(arg(0)) ? arg(1) : arg(2);
        case 'case':
          for (let i = 0; i + 1 < args.length; i += 2) if (truthy(arg(i))) return arg(i + 1);
          return null;
        case 'coalesce':
          for (const a of args) { const v = a(); if (v !== null && v !== '') return v; }
          return null;
        case 'lower': { const v = first(arg(0)); return v === null ? null : v.toLowerCase(); }
        case 'match': {
          const v = first(arg(0)); const re = first(arg(1));
          return v === null || re === null ? null : bool(regex(re).test(v));
        }
        case 'replace': {
          const v = first(arg(0)); const re = first(arg(1)); const to = first(arg(2));
          if (v === null || re === null || to === null) return null;
          const r = regex(re);
          return v.replace(new RegExp(r.source, r.flags + 'g'), to.replace(/\\(\d)/g, '$$$1'));
        }
        case 'mvindex': {
          const v = arg(0); const i = first(arg(1));
          if (v === null || i === null) return null;
          const list = Array.isArray(v) ? v : [v];
          const idx = Number(i) < 0 ? list.length + Number(i) : Number(i);
          return list[idx] ?? null;
        }
        case 'mvfind': {
          const v = arg(0); const re = first(arg(1));
          if (v === null || re === null) return null;
          const idx = (Array.isArray(v) ? v : [v]).findIndex((x) => regex(re).test(x));
          return idx < 0 ? null : String(idx);
        }
        case 'json_extract': {
          const src = first(arg(0)); const path = first(arg(1));
          if (src === null || path === null) return null;
          let cur: unknown = JSON.parse(src);
          for (const key of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
          return cur === undefined || cur === null ? null : typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
        }
      }
      throw new Error(`eval function ${n.fn} not implemented`);
    }
  }
}

// ---------------------------------------------------------------- eventtype searches
type Term = { k: 'and'; items: Term[] } | { k: 'or'; items: Term[] } | { k: 'not'; a: Term } | { k: 'cmp'; field: string; op: '=' | '!='; values: string[] };

/** The subset of search syntax eventtypes use: field=value (wildcards), !=, IN (...), NOT, OR, implicit AND, parentheses. */
export function parseSearch(src: string): Term {
  const toks = src.match(/"[^"]*"|\(|\)|,|!=|=|[^\s()=!,]+/g) ?? [];
  let p = 0;
  const unq = (s: string) => s.replace(/^"(.*)"$/, '$1');
  const or = (): Term => {
    const items = [and()];
    while (toks[p] === 'OR') { p++; items.push(and()); }
    return items.length === 1 ? items[0]! : { k: 'or', items };
  };
  const and = (): Term => {
    const items: Term[] = [];
    while (p < toks.length && toks[p] !== ')' && toks[p] !== 'OR') items.push(unary());
    return items.length === 1 ? items[0]! : { k: 'and', items };
  };
  const unary = (): Term => {
    const tok = toks[p++]!;
    if (tok === 'NOT') return { k: 'not', a: unary() };
    if (tok === '(') { const t = or(); if (toks[p++] !== ')') throw new Error(`missing ) in: ${src}`); return t; }
    const field = unq(tok);
    const op = toks[p];
    if (op === '=' || op === '!=') { p++; return { k: 'cmp', field, op, values: [unq(toks[p++] ?? '')] }; }
    if (op === 'IN' && toks[p + 1] === '(') {
      p += 2;
      const values: string[] = [];
      while (toks[p] !== ')') { if (toks[p] !== ',') values.push(unq(toks[p]!)); p++; }
      p++;
      return { k: 'cmp', field, op: '=', values };
    }
    throw new Error(`free-text term "${tok}" is not supported in an eventtype: ${src}`);
  };
  const t = or();
  if (p !== toks.length) throw new Error(`cannot parse eventtype search: ${src}`);
  return t;
}

const wildcard = (pattern: string) =>
  new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');

export function matchSearch(t: Term, f: Fields): boolean {
  if (t.k === 'and') return t.items.every((i) => matchSearch(i, f));
  if (t.k === 'or') return t.items.some((i) => matchSearch(i, f));
  if (t.k === 'not') return !matchSearch(t.a, f);
  const v = f.get(t.field);
  const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
  const hit = values.some((x) => t.values.some((p) => wildcard(p).test(x)));
  return t.op === '=' ? hit : values.length > 0 && !hit;
}

// ---------------------------------------------------------------- the pipeline
export interface Knowledge { props: Conf; eventtypes: Conf; tags: Conf }

export const loadKnowledge = (): Knowledge => ({
  props: readConf('props.conf'),
  eventtypes: readConf('eventtypes.conf'),
  tags: readConf('tags.conf'),
});

export interface Processed { fields: Fields; eventtypes: string[]; tags: string[] }

/** Applies the app's knowledge to one event (the JSON object the input writes) of one sourcetype. */
export function applyKnowledge(k: Knowledge, sourcetype: string, event: object): Processed {
  const raw = JSON.stringify(event);
  const fields = flattenJson(event);
  fields.set('sourcetype', sourcetype);
  fields.set('_raw', raw);
  const stanza = k.props.get(sourcetype) ?? new Map<string, string>();

  const aliases = new Map<string, string | string[]>();
  for (const [key, value] of stanza) {
    if (!key.startsWith('FIELDALIAS-')) continue;
    const parts = value.split(/\s+/);
    if (parts.length % 3 !== 0) throw new Error(`${key}: expected "src AS dst" pairs`);
    for (let i = 0; i < parts.length; i += 3) {
      if (parts[i + 1]!.toUpperCase() !== 'AS') throw new Error(`${key}: expected "src AS dst" pairs`);
      const v = fields.get(parts[i]!);
      if (v !== undefined) aliases.set(parts[i + 2]!, v);
    }
  }
  for (const [name, v] of aliases) fields.set(name, v);

  const before = new Map(fields);
  for (const [key, value] of stanza) {
    if (!key.startsWith('EVAL-')) continue;
    const name = key.slice(5);
    const v = evaluate(parseEval(value), before, raw);
    if (v === null || v === TRUE || v === '\u0000false') fields.delete(name);
    else fields.set(name, v);
  }

  const eventtypes: string[] = [];
  for (const [name, et] of k.eventtypes) {
    const search = et.get('search');
    if (name !== 'default' && search && matchSearch(parseSearch(search), fields)) eventtypes.push(name);
  }
  const tags = new Set<string>();
  for (const et of eventtypes) {
    for (const [tag, state] of k.tags.get(`eventtype=${et}`) ?? []) if (state === 'enabled') tags.add(tag);
  }
  if (eventtypes.length) fields.set('eventtype', eventtypes);
  if (tags.size) fields.set('tag', [...tags]);
  return { fields, eventtypes, tags: [...tags] };
}
