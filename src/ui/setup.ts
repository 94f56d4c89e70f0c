// The app's setup page: Sophos Central API credentials in storage/passwords (realm sophos_central), the
// proxy and log level in ta_sophos_central_settings.conf, and [install] is_configured. Plain DOM, no
// framework: the page is small and every dependency ships to each admin's browser.
// A secret only ever lives in a password input until it is sent; the page never renders one.
import {
  addCredential, listCredentials, markConfigured, readSettings, removeCredential, saveSettings, updateCredential,
} from './rest.js';
import { LOG_LEVELS, checkClientId, checkClientSecret, checkLogLevel, checkProxyUrl } from './validate.js';

const MOUNT_ID = 'ta-sophos-central-setup';

type Attrs = Record<string, string>;
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function render(root: HTMLElement): void {
  const status = el('div', { id: 'tasc-status', role: 'status', 'aria-live': 'polite', class: 'tasc-status' });
  const show = (kind: 'error' | 'ok' | 'busy', text: string) => {
    status.className = `tasc-status tasc-${kind}`;
    status.textContent = text;
  };
  // Every action goes through here, so a REST error always ends up visible in the status line.
  const run = async (busy: string, action: () => Promise<string | void>) => {
    show('busy', busy);
    try {
      const done = await action();
      show('ok', done ?? 'Done.');
    } catch (e) {
      show('error', e instanceof Error ? e.message : String(e));
    }
  };

  const rows = el('tbody', { id: 'tasc-credential-rows' });
  const empty = el('p', { id: 'tasc-no-credentials', class: 'tasc-hint' }, 'No credential is stored yet.');
  const table = el('table', { class: 'tasc-table', id: 'tasc-credentials' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Client ID'), el('th', {}, 'Client secret'), el('th', {}, ''))), rows);

  const refresh = async () => {
    const ids = await listCredentials();
    rows.replaceChildren(...ids.map(credentialRow));
    empty.hidden = ids.length > 0;
    table.hidden = ids.length === 0;
  };

  function credentialRow(clientId: string): HTMLTableRowElement {
    const actions = el('td', { class: 'tasc-actions' });
    const row = el('tr', { 'data-client-id': clientId }, el('td', { class: 'tasc-id' }, clientId), el('td', {}, 'stored (never shown)'), actions);
    const idle = () => {
      const change = el('button', { type: 'button', class: 'btn' }, 'Change secret');
      const remove = el('button', { type: 'button', class: 'btn' }, 'Remove');
      change.onclick = editing;
      remove.onclick = () => {
        remove.textContent = 'Confirm remove';
        remove.classList.add('btn-danger');
        remove.onclick = () => run(`Removing ${clientId}...`, async () => {
          await removeCredential(clientId);
          await refresh();
          return `Removed the credential for ${clientId}.`;
        });
      };
      actions.replaceChildren(change, ' ', remove);
    };
    const editing = () => {
      const secret = el('input', { type: 'password', autocomplete: 'new-password', 'aria-label': `New client secret for ${clientId}`, class: 'tasc-input' });
      const save = el('button', { type: 'button', class: 'btn btn-primary' }, 'Save secret');
      const cancel = el('button', { type: 'button', class: 'btn' }, 'Cancel');
      cancel.onclick = idle;
      save.onclick = () => {
        const problem = checkClientSecret(secret.value);
        if (problem) return show('error', problem);
        const value = secret.value;
        secret.value = '';
        return run(`Saving the new secret for ${clientId}...`, async () => {
          await updateCredential(clientId, value);
          idle();
          return `Changed the secret for ${clientId}.`;
        });
      };
      actions.replaceChildren(secret, ' ', save, ' ', cancel);
      secret.focus();
    };
    idle();
    return row;
  }

  const newId = el('input', { id: 'tasc-new-client-id', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'tasc-input' });
  const newSecret = el('input', { id: 'tasc-new-client-secret', type: 'password', autocomplete: 'new-password', class: 'tasc-input' });
  const addForm = el('form', { id: 'tasc-add', class: 'tasc-form' },
    el('label', { for: 'tasc-new-client-id' }, 'Client ID'), newId,
    el('label', { for: 'tasc-new-client-secret' }, 'Client secret'), newSecret,
    el('button', { type: 'submit', class: 'btn btn-primary' }, 'Add credential'));
  addForm.onsubmit = (ev) => {
    ev.preventDefault();
    const problem = checkClientId(newId.value) ?? checkClientSecret(newSecret.value);
    if (problem) return show('error', problem);
    const clientId = newId.value.trim();
    const secret = newSecret.value;
    newSecret.value = '';
    return run(`Adding ${clientId}...`, async () => {
      await addCredential(clientId, secret);
      newId.value = '';
      await refresh();
      return `Stored the credential for ${clientId}. Use this client ID in a Sophos Central input; leave its secret empty.`;
    });
  };

  const proxy = el('input', { id: 'tasc-proxy-url', type: 'text', placeholder: 'http://proxy.example.com:3128', class: 'tasc-input' });
  const level = el('select', { id: 'tasc-log-level' }, ...LOG_LEVELS.map((l) => el('option', { value: l }, l)));
  const settingsForm = el('form', { id: 'tasc-settings', class: 'tasc-form' },
    el('label', { for: 'tasc-proxy-url' }, 'HTTP(S) proxy for Sophos Central (empty: none)'), proxy,
    el('label', { for: 'tasc-log-level' }, 'Log level'), level,
    el('button', { type: 'submit', class: 'btn btn-primary' }, 'Save settings and finish setup'));
  settingsForm.onsubmit = (ev) => {
    ev.preventDefault();
    const problem = checkProxyUrl(proxy.value) ?? checkLogLevel(level.value);
    if (problem) return show('error', problem);
    return run('Saving settings...', async () => {
      await saveSettings({ proxyUrl: proxy.value.trim(), logLevel: level.value });
      await markConfigured();
      return 'Settings saved and the app is marked as configured.';
    });
  };

  root.replaceChildren(el('div', { class: 'tasc' },
    el('h1', {}, 'Sophos Central add-on setup'),
    status,
    el('section', {}, el('h2', {}, 'API credentials'),
      el('p', { class: 'tasc-hint' }, 'Create an API credential in Sophos Central (Global Settings > API Credentials Management). Secrets are kept in Splunk\u2019s encrypted credential store and are never displayed.'),
      table, empty, addForm),
    el('section', {}, el('h2', {}, 'Settings'), settingsForm)));

  void run('Loading...', async () => {
    const [, settings] = await Promise.all([refresh(), readSettings()]);
    proxy.value = settings.proxyUrl;
    level.value = checkLogLevel(settings.logLevel) ? 'INFO' : settings.logLevel;
    return 'Ready.';
  });
}

// Splunk renders a dashboard's <html> panel after loading its script, so wait for the mount point.
function whenMounted(cb: (root: HTMLElement) => void): void {
  const found = document.getElementById(MOUNT_ID);
  if (found) return cb(found);
  const observer = new MutationObserver(() => {
    const root = document.getElementById(MOUNT_ID);
    if (root) {
      observer.disconnect();
      cb(root);
    }
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}

whenMounted(render);
