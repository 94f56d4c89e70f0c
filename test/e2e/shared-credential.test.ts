// Inputs that share one API credential share its stored secret (realm sophos_central, username = client ID):
// a secret typed into one of them must not break the others, and a rotated one must reach them all.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { health, SOURCETYPE, startWorld, type World } from './world.js';

let w: World;
beforeAll(async () => {
  w = await startWorld({ seed: 'shared-credential', tenants: 2, endpointsPerTenant: 1 });
});
afterAll(() => w.stop());

const stored = () => w.splunkd.passwords.get(`sophos_central:${w.emu.clientId}:`)?.password;

/** Runs the input, and how many requests Sophos Central got meanwhile: the typed secret's check among them. */
async function runCounted(...args: Parameters<World['run']>) {
  const before = w.emu.requests.length;
  const run = await w.run(...args);
  return { run, served: w.emu.requests.length - before };
}

describe('two inputs with one client ID', () => {
  it('a mistyped secret typed into one fails that one alone; the stored secret the other reads is kept', async () => {
    const good = w.emu.clientSecret;
    expect((await w.run('first', w.params('tenants'))).exitCode).toBe(0);
    expect(stored()).toBe(good);

    const { run: typo, served: typoServed } = await runCounted('second', { ...w.params('tenants'), client_secret: 'mistyped-secret' });
    expect(typo.exitCode).toBe(1);
    // The refused token request is the run's only one, and its summary counts it.
    expect(typoServed).toBe(1);
    expect(health(typo.records, 'run_summary')[0]).toMatchObject({ requests: 1, errors: 1 });
    expect(typo.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([
      expect.stringMatching(/Sophos Central refuses the client_secret typed into sophos_central:\/\/second, so the different secret stored for client_id .* is kept/),
    ]);
    expect(health(typo.records, 'run_summary')).toEqual([expect.objectContaining({ status: 'error', error_code: 'TA_ERR_CONFIG' })]);
    expect(stored()).toBe(good);
    // Left in clear, so the admin sees what was typed and can correct it.
    expect(w.splunkd.stanzas.get('second')!.params.client_secret).toBe('mistyped-secret');
    expect(typo.stderr.join('\n')).not.toContain(good);

    const again = await w.run('first');
    expect(again.exitCode).toBe(0);
    expect(again.records.filter((r) => r.sourcetype === SOURCETYPE.tenants)).toHaveLength(2);
  });

  it('a rotated secret typed into one replaces the stored one, and the other input runs with it', async () => {
    expect((await w.run('first')).exitCode).toBe(0);
    const rotated = w.emu.rotateSecret();
    // The masked input now holds a secret Sophos Central no longer takes.
    expect((await w.run('first')).exitCode).toBe(1);

    const { run: typed, served } = await runCounted('second', { ...w.params('tenants'), client_secret: rotated });
    expect(typed.exitCode).toBe(0);
    // The check's token and whoami, then the collection's token, whoami and tenant list: all counted.
    expect(served).toBe(5);
    expect(health(typed.records, 'run_summary')[0]).toMatchObject({ requests: served, errors: 0 });
    expect(stored()).toBe(rotated);
    expect(w.splunkd.stanzas.get('second')!.params.client_secret).toBe('********');
    expect((await w.run('first')).exitCode).toBe(0);
  });

  it('a rotated secret Sophos Central could not be asked about is used but not stored, and the run_summary says it is still in clear', async () => {
    const old = stored();
    const rotated = w.emu.rotateSecret();
    // The check's whoami is refused (a 403 is final, not an answer on the secret); the collection's is served.
    w.emu.faults.add({ route: 'whoami', kind: 403, nth: [1] });
    const { run: typed, served } = await runCounted('third', { ...w.params('tenants'), client_secret: rotated });
    w.emu.faults.clear();
    expect(health(typed.records, 'run_summary')[0]).toMatchObject({ requests: served, errors: 1 });
    expect(typed.exitCode).toBe(0);
    expect(typed.records.filter((r) => r.sourcetype === SOURCETYPE.tenants)).toHaveLength(2);
    expect(stored()).toBe(old);
    expect(w.splunkd.stanzas.get('third')!.params.client_secret).toBe(rotated);
    expect(health(typed.records, 'run_summary')).toEqual([expect.objectContaining({ status: 'ok', secrets_in_clear: ['client_secret'] })]);
    expect(typed.stdout).not.toContain(rotated);

    // Asked again next run, it replaces the stored one and is masked: nothing left in clear.
    const again = await w.run('third');
    expect(stored()).toBe(rotated);
    expect(health(again.records, 'run_summary')[0]).not.toHaveProperty('secrets_in_clear');
  });
});

describe('a stanza its app ships in default/inputs.conf, secret included (as a deployment server may)', () => {
  it('is masked in local/, and every run says the clear copy left in default/, in a WARN and secrets_in_clear', async () => {
    const secret = w.emu.clientSecret;
    const dir = join(w.splunkd.splunkHome, 'etc', 'apps', 'TA-sophos-central', 'default');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'inputs.conf');
    writeFileSync(file, `[sophos_central]\ninterval = 300\n\n[sophos_central://deployed]\nclient_id = ${w.emu.clientId}\nclient_secret = ${secret}\ndata = tenants\n`);
    try {
      const first = await w.run('deployed', w.params('tenants'));
      expect(w.splunkd.stanzas.get('deployed')!.params.client_secret).toBe('********');
      for (const run of [first, await w.run('deployed')]) {
        expect(run.exitCode).toBe(0);
        expect(run.stderr.filter((l) => l.startsWith('WARN'))).toEqual([
          expect.stringContaining(`${file} holds a secret of sophos_central://deployed in clear text (client_secret in [sophos_central://deployed]), which masking the input does not change`),
        ]);
        expect(health(run.records, 'run_summary')).toEqual([expect.objectContaining({ status: 'ok', secrets_in_clear: ['client_secret'] })]);
        expect(run.stderr.join('\n')).not.toContain(secret);
      }
    } finally {
      rmSync(file);
    }
    const after = await w.run('deployed');
    expect(after.stderr.filter((l) => l.startsWith('WARN'))).toEqual([]);
    expect(health(after.records, 'run_summary')[0]).not.toHaveProperty('secrets_in_clear');
  });
});

describe('a secret an app ships in the [sophos_central] default stanza of its default/inputs.conf, which every input inherits', () => {
  it('is named, with the stanza that holds it', async () => {
    const dir = join(w.splunkd.splunkHome, 'etc', 'apps', 'TA-sophos-central', 'default');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'inputs.conf');
    writeFileSync(file, `[sophos_central]\ninterval = 300\nclient_secret = ${w.emu.clientSecret}\n`);
    try {
      const run = await w.run('inherits', w.params('tenants'));
      expect(run.exitCode).toBe(0);
      expect(run.stderr.filter((l) => l.startsWith('WARN'))).toEqual([expect.stringContaining(`${file} holds a secret of sophos_central://inherits in clear text (client_secret in [sophos_central])`)]);
      expect(health(run.records, 'run_summary')).toEqual([expect.objectContaining({ secrets_in_clear: ['client_secret'] })]);
      expect(run.stderr.join('\n')).not.toContain(w.emu.clientSecret);
    } finally {
      rmSync(file);
    }
  });
});

describe('a secret an admin sets once in the [sophos_central] default stanza of local/inputs.conf, for every input to inherit', () => {
  it('is stored and the input masked, and every run names the clear copy the masking edit does not reach', async () => {
    const secret = w.emu.clientSecret;
    for (const dir of [join(w.splunkd.splunkHome, 'etc', 'apps', 'TA-sophos-central', 'local'), join(w.splunkd.splunkHome, 'etc', 'system', 'local')]) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'inputs.conf');
      writeFileSync(file, `[sophos_central]\nclient_id = ${w.emu.clientId}\nclient_secret = ${secret}\n`);
      Object.assign(w.splunkd.defaultStanza, { client_id: w.emu.clientId, client_secret: secret });
      const name = `shared_${dir.includes('system') ? 'system' : 'app'}`;
      try {
        const run = await w.run(name, { data: 'tenants' });
        expect(run.exitCode).toBe(0);
        expect(w.splunkd.stanzas.get(name)!.params.client_secret).toBe('********');
        expect(run.stderr.filter((l) => l.startsWith('WARN'))).toEqual([expect.stringContaining(`${file} holds a secret of sophos_central://${name} in clear text (client_secret in [sophos_central]), which masking the input does not change`)]);
        expect(health(run.records, 'run_summary')).toEqual([expect.objectContaining({ status: 'ok', secrets_in_clear: ['client_secret'] })]);
        expect(run.stdout + run.stderr.join('\n')).not.toContain(secret);
      } finally {
        rmSync(file);
        delete w.splunkd.defaultStanza.client_id;
        delete w.splunkd.defaultStanza.client_secret;
      }
    }
  });
});
