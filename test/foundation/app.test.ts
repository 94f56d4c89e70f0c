import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseIni } from 'ini';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { SCHEME_PARAMS, renderScheme } from '../../src/splunk/scheme.js';
import { ROOT } from '../helpers/paths.js';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('app files', () => {
  it('keeps one version in package.json, app.conf and app.manifest', () => {
    const pkg = JSON.parse(read('package.json')).version;
    const app = parseIni(read('default/app.conf'));
    const manifest = JSON.parse(read('app.manifest'));
    expect(pkg).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(app.id.version).toBe(pkg);
    expect(app.launcher.version).toBe(pkg);
    expect(manifest.info.id.version).toBe(pkg);
    expect(manifest.schemaVersion).toBe('2.0.0');
  });

  it('uses the fixed app id everywhere', () => {
    const app = parseIni(read('default/app.conf'));
    expect(app.package.id).toBe('TA-sophos-central');
    expect(app.id.name).toBe('TA-sophos-central');
    expect(JSON.parse(read('app.manifest')).info.id.name).toBe('TA-sophos-central');
    expect(app.install).toHaveProperty('is_configured');
  });

  it('ships a disabled sophos_central default stanza with an interval', () => {
    const inputs = parseIni(read('default/inputs.conf'));
    expect(inputs.sophos_central.disabled).toBe('1');
    expect(Number(inputs.sophos_central.interval)).toBeGreaterThanOrEqual(60);
  });

  it('lists the same parameters in the scheme and in README/inputs.conf.spec', () => {
    const spec = read('README/inputs.conf.spec');
    expect(spec.split('\n')[0]).toBe('[sophos_central://<name>]');
    const specParams = spec
      .split('\n')
      .map((l) => /^([A-Za-z0-9][A-Za-z0-9_-]*)\s*=/.exec(l)?.[1])
      .filter((x): x is string => Boolean(x));
    const scheme = new XMLParser({ ignoreAttributes: false }).parse(renderScheme());
    const schemeArgs = scheme.scheme.endpoint.args.arg.map((a: Record<string, string>) => a['@_name']);
    expect(specParams).toEqual(SCHEME_PARAMS.map((p) => p.name));
    expect(schemeArgs).toEqual(specParams);
    expect(schemeArgs).toEqual(
      expect.arrayContaining(['client_id', 'client_secret', 'data', 'tenants', 'exclude_tenants', 'start_days', 'exclude_types', 'page_size', 'shard', 'proxy_url']),
    );
  });

  it('writes every scheme element explicitly', () => {
    const scheme = new XMLParser().parse(renderScheme()).scheme;
    expect(scheme.use_external_validation).toBe(true);
    expect(scheme.use_single_instance).toBe(false);
    expect(scheme.streaming_mode).toBe('xml');
    for (const arg of scheme.endpoint.args.arg) {
      expect(Object.keys(arg).sort()).toEqual(['data_type', 'description', 'required_on_create', 'required_on_edit', 'title']);
    }
  });

  it('keeps every .sh wrapper executable with LF endings and every .cmd with CRLF, in pairs', () => {
    const wrappers = readdirSync(join(ROOT, 'bin')).filter((f) => /\.(sh|cmd)$/.test(f));
    const sh = wrappers.filter((f) => f.endsWith('.sh'));
    expect(sh).toContain('sophos_central.sh');
    expect(wrappers.filter((f) => f.endsWith('.cmd')).sort()).toEqual(sh.map((f) => f.replace(/\.sh$/, '.cmd')).sort());
    for (const f of sh) {
      expect(statSync(join(ROOT, 'bin', f)).mode & 0o777).toBe(0o755);
      expect(read(`bin/${f}`)).not.toContain('\r');
      expect(read(`bin/${f.replace(/\.sh$/, '.cmd')}`).split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true);
    }
  });
});
