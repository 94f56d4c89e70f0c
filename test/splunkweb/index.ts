// A local stand-in for the parts of Splunk Web the setup page uses: the view page (built from the app's
// own view XML, with window.$C and the CSRF cookie), static files from appserver/static, and the splunkd
// REST proxy (/en-US/splunkd/__raw) for storage/passwords, configs/conf-ta_sophos_central_settings and
// apps/local. Like Splunk Web it needs the session cookie and, on every state-changing call, an
// X-Splunk-Form-Key header equal to the splunkweb_csrf_token_<port> cookie. Every REST call is logged with
// secrets redacted.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { ROOT } from '../helpers/paths.js';
import { entityName } from '../splunkd/index.js';

const APP = 'TA-sophos-central';
const SPLUNKD = '/en-US/splunkd/__raw';
const SETTINGS = 'ta_sophos_central_settings';

export interface RestCall {
  method: string;
  path: string; // after /en-US/splunkd/__raw
  query: Record<string, string>;
  form: Record<string, string>; // "password" replaced by <redacted>
  csrf: 'ok' | 'missing' | 'mismatch';
  status: number;
}

export interface StoredPassword { realm: string; username: string; password: string }

export interface SplunkWeb {
  url: string; // the setup view
  port: number;
  csrfToken: string;
  calls: RestCall[];
  passwords: Map<string, StoredPassword>; // key: entity name realm:username:
  settings: Map<string, Record<string, string>>;
  configured: boolean;
  /** The next REST call whose "METHOD path" matches answers status with a splunkd error message. */
  failNext(match: RegExp, status: number, text: string): void;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

/** The view's script, stylesheet and <html> panel, so the page served is the one the app ships. */
function viewParts(view: string) {
  const xml = readFileSync(join(ROOT, 'default', 'data', 'ui', 'views', `${view}.xml`), 'utf8');
  const attr = (name: string) => new RegExp(`<dashboard[^>]*\\s${name}="([^"]+)"`).exec(xml)?.[1];
  const html = /<html>([\s\S]*?)<\/html>/.exec(xml)?.[1] ?? '';
  return { script: attr('script'), stylesheet: attr('stylesheet'), html };
}

export async function startSplunkWeb(opts: { view?: string } = {}): Promise<SplunkWeb> {
  const view = opts.view ?? 'ta_sophos_central_setup';
  const csrfToken = randomBytes(16).toString('hex');
  const session = randomBytes(16).toString('hex');
  const faults: { match: RegExp; status: number; text: string }[] = [];
  const calls: RestCall[] = [];
  const passwords = new Map<string, StoredPassword>();
  const settings = new Map<string, Record<string, string>>([['proxy', { proxy_url: '' }], ['logging', { loglevel: 'INFO' }]]);
  let port = 0;

  const state: SplunkWeb = {
    url: '', port: 0, csrfToken, calls, passwords, settings, configured: false,
    failNext: (match, status, text) => void faults.push({ match, status, text }),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };

  // REST responses to a request that did not ask for JSON; splunkd answers those in Atom XML.
  const atom = new WeakSet<ServerResponse>();
  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    if (atom.has(res) && type === 'application/json') {
      res.writeHead(status, { 'Content-Type': 'text/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>splunkd</title></feed>');
      return status;
    }
    res.writeHead(status, { 'Content-Type': type });
    res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    return status;
  };
  const error = (res: ServerResponse, status: number, text: string) => send(res, status, { messages: [{ type: 'ERROR', text }] });
  const cookies = (req: IncomingMessage) =>
    Object.fromEntries((req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).filter((kv) => kv.length === 2)) as Record<string, string>;

  const page = (res: ServerResponse) => {
    const { script, stylesheet, html } = viewParts(view);
    const $C = { SPLUNKD_PATH: SPLUNKD, MRSPARKLE_PORT_NUMBER: port, MRSPARKLE_ROOT_PATH: '', LOCALE: 'en-US', USERNAME: 'admin', APP_BUILD: 1 };
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Set-Cookie': [`splunkweb_csrf_token_${port}=${csrfToken}; Path=/`, `splunkd_${port}=${session}; Path=/; HttpOnly`],
    });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Setup | Splunk</title>
<script>window.$C = ${JSON.stringify($C)};</script>
${stylesheet ? `<link rel="stylesheet" href="/en-US/static/app/${APP}/${stylesheet}">` : ''}
</head><body><div class="dashboard-body">${html}</div>
${script ? `<script src="/en-US/static/app/${APP}/${script}"></script>` : ''}
</body></html>`);
  };

  const staticFile = (res: ServerResponse, rel: string) => {
    const base = join(ROOT, 'appserver', 'static');
    const file = normalize(join(base, rel));
    if (!file.startsWith(base + sep) || !existsSync(file)) return send(res, 404, 'not found', 'text/plain');
    return send(res, 200, readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream');
  };

  const entry = (name: string, content: Record<string, unknown>) => ({
    name, id: `https://127.0.0.1:8089/servicesNS/nobody/${APP}/${encodeURIComponent(name)}`,
    acl: { app: APP, owner: 'nobody', sharing: 'app' }, content,
  });
  const feed = (entries: unknown[]) => ({ entry: entries, paging: { total: entries.length, offset: 0, perPage: 30 }, messages: [] });
  // Like splunkd, the listing carries the clear secret; the page must never show it.
  const passwordEntry = (p: StoredPassword) =>
    entry(entityName(p.realm, p.username), { realm: p.realm, username: p.username, clear_password: p.password, encr_password: '$7$c2VjcmV0', password: '********' });

  function rest(req: IncomingMessage, res: ServerResponse, path: string, query: Record<string, string>, form: Record<string, string>): number {
    const method = req.method ?? 'GET';
    const route = () => routeRequest(req, res, path, query, form);
    const outputMode = method === 'POST' ? form.output_mode : query.output_mode;
    const fault = faults.findIndex((f) => f.match.test(`${method} ${path}`));
    if (fault >= 0) {
      const [f] = faults.splice(fault, 1);
      return error(res, f!.status, f!.text);
    }
    // splunkd acts the same either way but answers Atom XML unless JSON is asked for.
    if (outputMode !== 'json') atom.add(res);
    return route();
  }

  function routeRequest(req: IncomingMessage, res: ServerResponse, path: string, query: Record<string, string>, form: Record<string, string>): number {
    const method = req.method ?? 'GET';

    const ns = `/servicesNS/nobody/${APP}`;
    if (path === `${ns}/storage/passwords`) {
      if (method === 'GET') {
        const realm = /^realm=(.*)$/.exec(query.search ?? '')?.[1];
        return send(res, 200, feed([...passwords.values()].filter((p) => !realm || p.realm === realm).map(passwordEntry)));
      }
      if (method === 'POST') {
        if (!form.name || !form.password) return error(res, 400, 'Missing argument: name and password are required');
        const key = entityName(form.realm ?? '', form.name);
        if (passwords.has(key)) return error(res, 409, `An object with name=${key} already exists`);
        const p = { realm: form.realm ?? '', username: form.name, password: form.password };
        passwords.set(key, p);
        return send(res, 201, feed([passwordEntry(p)]));
      }
    }
    const one = new RegExp(`^${ns}/storage/passwords/([^/]+)$`).exec(path);
    if (one) {
      const key = decodeURIComponent(one[1]!);
      const p = passwords.get(key);
      if (!p) return error(res, 404, `Could not find object id=${key}`);
      if (method === 'POST') {
        if (!form.password) return error(res, 400, 'Missing argument: password');
        p.password = form.password;
        return send(res, 200, feed([passwordEntry(p)]));
      }
      if (method === 'DELETE') {
        passwords.delete(key);
        return send(res, 200, feed([]));
      }
    }
    if (path === `${ns}/configs/conf-${SETTINGS}` && method === 'GET') {
      return send(res, 200, feed([...settings].map(([name, content]) => entry(name, content))));
    }
    const stanza = new RegExp(`^${ns}/configs/conf-${SETTINGS}/([^/]+)$`).exec(path);
    if (stanza && method === 'POST') {
      const current = settings.get(decodeURIComponent(stanza[1]!));
      if (!current) return error(res, 404, `Could not find object id=${stanza[1]}`);
      for (const [k, v] of Object.entries(form)) if (k !== 'output_mode') current[k] = v;
      return send(res, 200, feed([entry(stanza[1]!, current)]));
    }
    if (path === `/servicesNS/nobody/system/apps/local/${APP}` && method === 'POST') {
      if (form.configured !== 'true') return error(res, 400, 'configured must be true');
      state.configured = true;
      return send(res, 200, feed([entry(APP, { configured: true })]));
    }
    return error(res, 404, `No route for ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === `/en-US/app/${APP}/${view}`) return page(res);
      const stat = new RegExp(`^/en-US/static/app/${APP}/(.+)$`).exec(url.pathname);
      if (stat) return staticFile(res, decodeURIComponent(stat[1]!));
      if (!url.pathname.startsWith(`${SPLUNKD}/`)) return send(res, 404, 'not found', 'text/plain');

      const path = url.pathname.slice(SPLUNKD.length);
      const query = Object.fromEntries(url.searchParams);
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const c = cookies(req);
      const header = req.headers['x-splunk-form-key'];
      const csrf: RestCall['csrf'] = !header ? 'missing' : header === c[`splunkweb_csrf_token_${port}`] && header === csrfToken ? 'ok' : 'mismatch';
      let status: number;
      if (c[`splunkd_${port}`] !== session) status = error(res, 401, 'call not properly authenticated');
      else if (req.method !== 'GET' && csrf !== 'ok') status = error(res, 401, 'Splunk cannot authenticate the request. CSRF validation failed.');
      else status = rest(req, res, path, query, form);
      const logged = { ...form };
      if ('password' in logged) logged.password = '<redacted>';
      calls.push({ method: req.method ?? 'GET', path, query, form: logged, csrf, status });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  state.port = port;
  state.url = `http://127.0.0.1:${port}/en-US/app/${APP}/${view}`;
  return state;
}
