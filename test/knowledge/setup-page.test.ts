// The setup page in headless Chromium (Debian's chromium, driven by playwright-core) against the Splunk Web
// stand-in: create, list, update and delete a credential, settings and is_configured, the CSRF header on
// every call, REST errors shown, and no secret ever in the page.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { startSplunkWeb, type SplunkWeb } from '../splunkweb/index.js';

const CHROMIUM = '/usr/bin/chromium';
const SECRETS = ['s3cret-Alpha-7f2c9d', 's3cret-Bravo-91ab0e', 's3cret-Charlie-5d33aa'];
const ID1 = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const ID2 = '6fa459ea-ee8a-3ca4-894e-db77e160355e';
const SCREENSHOT = join(ROOT, 'test-output', 'setup-page.png');

let web: SplunkWeb;
let ctx: BrowserContext;
let page: Page;
let profile: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'appserver', 'static', 'build', 'setup.js'))) throw new Error('appserver/static/build/setup.js is missing: run npm run build first');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  web = await startSplunkWeb();
  profile = mkdtempSync(join(tmpdir(), 'tasc-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
});

afterAll(async () => {
  await ctx?.close();
  await web?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const status = () => page.locator('#tasc-status');
const row = (id: string) => page.locator(`tr[data-client-id="${id}"]`);
const callsSince = (n: number) => web.calls.slice(n).map((c) => `${c.method} ${c.path}`);

/** Nothing the browser shows or holds in an input may contain a secret. */
async function expectNoSecretInPage() {
  const html = await page.content();
  const values: string[] = [];
  for (const input of await page.locator('input').all()) values.push(await input.inputValue());
  for (const s of SECRETS) {
    expect(html).not.toContain(s);
    expect(values.join('\n')).not.toContain(s);
  }
}

async function addCredential(id: string, secret: string) {
  await page.fill('#tasc-new-client-id', id);
  await page.fill('#tasc-new-client-secret', secret);
  await page.click('#tasc-add button[type=submit]');
}

describe('setup page in Chromium', () => {
  it('loads, lists nothing yet and reads the settings', async () => {
    await page.goto(web.url);
    await expect.poll(() => status().textContent()).toBe('Ready.');
    expect(await page.locator('#tasc-no-credentials').isVisible()).toBe(true);
    expect(callsSince(0).sort()).toEqual([
      'GET /servicesNS/nobody/TA-sophos-central/configs/conf-ta_sophos_central_settings',
      'GET /servicesNS/nobody/TA-sophos-central/storage/passwords',
    ]);
    expect(web.calls[0]!.query).toMatchObject({ output_mode: 'json' });
    expect(web.calls.find((c) => c.path.endsWith('/storage/passwords'))!.query).toMatchObject({ search: 'realm=sophos_central', count: '0' });
  });

  it('creates a credential in realm sophos_central and lists it without its secret', async () => {
    const n = web.calls.length;
    await addCredential(ID1, SECRETS[0]!);
    await expect.poll(() => status().textContent()).toContain(`Stored the credential for ${ID1}`);
    expect(await row(ID1).count()).toBe(1);
    expect(web.passwords.get(`sophos_central:${ID1}:`)).toEqual({ realm: 'sophos_central', username: ID1, password: SECRETS[0] });
    expect(callsSince(n)).toEqual([
      'POST /servicesNS/nobody/TA-sophos-central/storage/passwords',
      'GET /servicesNS/nobody/TA-sophos-central/storage/passwords',
    ]);
    expect(web.calls[n]!.form).toEqual({ name: ID1, password: '<redacted>', realm: 'sophos_central', output_mode: 'json' });
    await expectNoSecretInPage();
  });

  it('shows a REST error visibly: adding the same client ID again is refused by splunkd (409)', async () => {
    await addCredential(ID1, SECRETS[1]!);
    await expect.poll(() => status().textContent()).toContain('already stored');
    expect(await status().getAttribute('class')).toContain('tasc-error');
    expect(await status().isVisible()).toBe(true);
    expect(web.calls.at(-1)!.status).toBe(409);
    expect(web.passwords.get(`sophos_central:${ID1}:`)!.password).toBe(SECRETS[0]);
  });

  it('shows the server message of any other REST failure', async () => {
    web.failNext(/^POST .*storage\/passwords$/, 500, 'KV Store is initializing. Please try again later.');
    await addCredential(ID2, SECRETS[2]!);
    await expect.poll(() => status().textContent()).toBe('Adding the credential failed (HTTP 500): KV Store is initializing. Please try again later.');
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-output', 'setup-page-error.png'), fullPage: true });
    await expectNoSecretInPage();
  });

  it('validates input in the page before calling Splunk', async () => {
    const n = web.calls.length;
    await addCredential('bad id:with colon', 'x');
    await expect.poll(() => status().textContent()).toContain('client ID may contain only');
    await page.fill('#tasc-proxy-url', 'http://user:pw@proxy.example.com:3128');
    await page.click('#tasc-settings button[type=submit]');
    await expect.poll(() => status().textContent()).toContain('clear text');
    expect(web.calls.length).toBe(n);
  });

  it('adds a second credential, then updates the first one\u2019s secret', async () => {
    await addCredential(ID2, SECRETS[2]!);
    await expect.poll(() => row(ID2).count()).toBe(1);
    const n = web.calls.length;
    await row(ID1).getByRole('button', { name: 'Change secret' }).click();
    await row(ID1).locator('input[type=password]').fill(SECRETS[1]!);
    await row(ID1).getByRole('button', { name: 'Save secret' }).click();
    await expect.poll(() => status().textContent()).toBe(`Changed the secret for ${ID1}.`);
    expect(web.passwords.get(`sophos_central:${ID1}:`)!.password).toBe(SECRETS[1]);
    expect(callsSince(n)).toEqual([`POST /servicesNS/nobody/TA-sophos-central/storage/passwords/${encodeURIComponent(`sophos_central:${ID1}:`)}`]);
    expect(web.calls.at(-1)!.form).toEqual({ password: '<redacted>', output_mode: 'json' });
    expect(await page.locator('#tasc-credential-rows tr').count()).toBe(2);
    await expectNoSecretInPage();
  });

  it('deletes a credential only after confirmation', async () => {
    const n = web.calls.length;
    await row(ID1).getByRole('button', { name: 'Remove' }).click();
    expect(web.calls.length).toBe(n);
    await row(ID1).getByRole('button', { name: 'Confirm remove' }).click();
    await expect.poll(() => row(ID1).count()).toBe(0);
    expect(callsSince(n)).toEqual([
      `DELETE /servicesNS/nobody/TA-sophos-central/storage/passwords/${encodeURIComponent(`sophos_central:${ID1}:`)}`,
      'GET /servicesNS/nobody/TA-sophos-central/storage/passwords',
    ]);
    expect([...web.passwords.keys()]).toEqual([`sophos_central:${ID2}:`]);
  });

  it('saves proxy and log level, then marks the app configured', async () => {
    const n = web.calls.length;
    await page.fill('#tasc-proxy-url', 'http://proxy.example.com:3128');
    await page.selectOption('#tasc-log-level', 'DEBUG');
    await page.click('#tasc-settings button[type=submit]');
    await expect.poll(() => status().textContent()).toBe('Settings saved and the app is marked as configured.');
    expect(callsSince(n)).toEqual([
      'POST /servicesNS/nobody/TA-sophos-central/configs/conf-ta_sophos_central_settings/proxy',
      'POST /servicesNS/nobody/TA-sophos-central/configs/conf-ta_sophos_central_settings/logging',
      'POST /servicesNS/nobody/system/apps/local/TA-sophos-central',
    ]);
    expect(web.settings.get('proxy')!.proxy_url).toBe('http://proxy.example.com:3128');
    expect(web.settings.get('logging')!.loglevel).toBe('DEBUG');
    expect(web.configured).toBe(true);
    await page.reload();
    await expect.poll(() => status().textContent()).toBe('Ready.');
    expect(await page.inputValue('#tasc-proxy-url')).toBe('http://proxy.example.com:3128');
    expect(await page.inputValue('#tasc-log-level')).toBe('DEBUG');
    await expectNoSecretInPage();
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('sent Splunk\u2019s CSRF header with every REST call and never logged a secret', () => {
    expect(web.calls.length).toBeGreaterThanOrEqual(15);
    expect(web.calls.filter((c) => c.csrf !== 'ok')).toEqual([]);
    expect(web.calls.filter((c) => (c.method === 'POST' ? c.form : c.query).output_mode !== 'json')).toEqual([]);
    expect(JSON.stringify(web.calls)).not.toMatch(new RegExp(SECRETS.join('|')));
  });
});

describe('Splunk Web stand-in', () => {
  it('refuses a state-changing call without the CSRF header, as Splunk Web does', async () => {
    const res = await fetch(`http://127.0.0.1:${web.port}/en-US/splunkd/__raw/servicesNS/nobody/TA-sophos-central/storage/passwords`, {
      method: 'POST',
      headers: { Cookie: `splunkd_${web.port}=x`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=a&password=b&output_mode=json',
    });
    expect(res.status).toBe(401);
    expect(web.calls.at(-1)!.csrf).toBe('missing');
  });
});
