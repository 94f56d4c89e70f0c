// The introspection scheme splunkd asks for with --scheme. README/inputs.conf.spec lists the same
// parameters (a test keeps the two in step).
import { escapeXml } from './xml.js';

export interface SchemeParam {
  name: string;
  title: string;
  description: string;
  dataType: 'string' | 'number' | 'boolean';
  requiredOnCreate: boolean;
  requiredOnEdit: boolean;
}

export const SCHEME_PARAMS: readonly SchemeParam[] = [
  {
    name: 'client_id',
    title: 'Client ID',
    description: 'Sophos Central API client ID (Global Settings > API Credentials Management).',
    dataType: 'string',
    requiredOnCreate: true,
    requiredOnEdit: false,
  },
  {
    name: 'client_secret',
    title: 'Client secret',
    description:
      'Sophos Central API client secret. On the first run it is moved to Splunk storage/passwords and replaced here by ********. Leave empty if the secret is already stored for this client ID.',
    dataType: 'string',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'data',
    title: 'Data',
    description: 'What to collect: alerts (Common API alerts), events (SIEM events), endpoints (inventory snapshot) or tenants.',
    dataType: 'string',
    requiredOnCreate: true,
    requiredOnEdit: false,
  },
  {
    name: 'tenants',
    title: 'Tenants',
    description: 'Comma-separated tenant IDs or names to collect. Empty collects every tenant the credential can see.',
    dataType: 'string',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'exclude_tenants',
    title: 'Excluded tenants',
    description: 'Comma-separated tenant IDs or names to skip.',
    dataType: 'string',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'start_days',
    title: 'Start days',
    description: 'How far back the first run of alerts starts, 1 to 90 days (default 1). SIEM events reach back at most 24 hours.',
    dataType: 'number',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'overlap_minutes',
    title: 'Overlap minutes',
    description:
      'alerts only: how far back from where the last run ended each run looks again, 1 to 1440 minutes (default 15), for alerts that reach Sophos Central late. Alerts seen again inside the overlap are not indexed twice.',
    dataType: 'number',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'exclude_types',
    title: 'Excluded event types',
    description: 'events only: comma-separated SIEM event types to leave out, for example Event::Endpoint::UpdateSuccess.',
    dataType: 'string',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'page_size',
    title: 'Page size',
    description: "Override of the API page size. Default: the API's maximum.",
    dataType: 'number',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'shard',
    title: 'Shard',
    description: 'i/n, for example 2/4: collect only the tenants whose ID hashes to shard i of n, so n inputs split a large estate.',
    dataType: 'string',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'tenant_concurrency',
    title: 'Tenants at once',
    description:
      'How many tenants are collected at the same time, 1 to 32 (default 4). Raise it for a partner with thousands of small tenants whose runs outlast the interval; each tenant in progress can hold about 10 MB.',
    dataType: 'number',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
  {
    name: 'proxy_url',
    title: 'Proxy URL',
    description:
      'http(s)://host:port of an HTTP proxy for all Sophos Central traffic, or http(s)://user:password@host:port for one that asks for a password; on the first run the password is moved to Splunk storage/passwords and replaced here by ********.',
    dataType: 'string',
    requiredOnCreate: false,
    requiredOnEdit: false,
  },
];

/** The full scheme, every element explicit: Splunk's defaults for omitted elements differ from the SDKs'. */
export function renderScheme(): string {
  const args = SCHEME_PARAMS.map(
    (p) =>
      `      <arg name="${escapeXml(p.name)}">\n` +
      `        <title>${escapeXml(p.title)}</title>\n` +
      `        <description>${escapeXml(p.description)}</description>\n` +
      `        <data_type>${p.dataType}</data_type>\n` +
      `        <required_on_edit>${p.requiredOnEdit}</required_on_edit>\n` +
      `        <required_on_create>${p.requiredOnCreate}</required_on_create>\n` +
      `      </arg>\n`,
  ).join('');
  return (
    '<scheme>\n' +
    '  <title>Sophos Central</title>\n' +
    '  <description>Collects Sophos Central alerts, SIEM events, endpoint inventory and tenants for every tenant of a partner, organization or tenant credential.</description>\n' +
    '  <use_external_validation>true</use_external_validation>\n' +
    '  <use_single_instance>false</use_single_instance>\n' +
    '  <streaming_mode>xml</streaming_mode>\n' +
    '  <endpoint>\n' +
    '    <args>\n' +
    args +
    '    </args>\n' +
    '  </endpoint>\n' +
    '</scheme>\n'
  );
}
