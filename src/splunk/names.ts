// The Splunk names of the add-on (interfaces.md), shared by the modular input, the alert action and the
// setup page. No imports, so the browser bundle of the setup page can take it as is.

/** App id: folder name, app.conf [package] id, the app of storage/passwords entries. */
export const APP = 'TA-sophos-central';
/** Modular input scheme (`[sophos_central://<name>]`), also the checkpoint directory under modinputs/. */
export const SCHEME = 'sophos_central';
/** storage/passwords realm of the client secrets (username = client ID). */
export const REALM = 'sophos_central';
/** storage/passwords realm of proxy passwords moved out of an input's proxy_url (username = `<user>@<host>:<port>`). */
export const PROXY_REALM = 'sophos_central_proxy';
/** The setup page's app-wide settings file (README/ta_sophos_central_settings.conf.spec). */
export const SETTINGS_CONF = 'ta_sophos_central_settings';
