// Item generation. Every item is a pure function of (seed, tenant, index) and is rendered straight to
// JSON text from precomputed fragments: the emulator serves millions of items per run in benchmarks,
// and string building is several times faster than JSON.stringify of fresh objects. Value sets and
// shapes follow the real payloads in shared/fixtures/sophos (see the fixture-shape test).
import { hash, hex8, mix32, pick, unit, uuid, uuidOf } from './rng.js';
import { DAY, HOUR, iso } from './time.js';

// Hash streams: one per kind of value, so that adding a field never shifts another.
const S = {
  tenant: 1, endpoint: 2, alert: 3, alertAdded: 4, event: 5, eventAdded: 6, person: 7, user: 8,
  partner: 9, organization: 10, credential: 11, foreign: 12, volume: 13, serial: 14,
} as const;

/** JSON text of a backslash inside a string value. */
const BS = '\\\\';

export interface TenantRecord {
  index: number;
  id: string;
  name: string;
  /** NetBIOS-style domain of the tenant's Windows estate, used in `DOMAIN\user` logins. */
  domain: string;
  dataRegion: string;
  dataGeography: string;
  apiHost: string;
  /** The tenant object as the partner/organization tenant APIs return it. */
  json: string;
  /** `"name"` as JSON text, for alert `tenant.name`. */
  nameJson: string;
}

export type Health = 'good' | 'suspicious' | 'bad' | 'unknown';
export const HEALTH_VALUES: readonly Health[] = ['good', 'suspicious', 'bad', 'unknown'];

/** What alerts and events need to know about the endpoint they happened on. */
export interface EndpointIdentity {
  id: string;
  type: 'computer' | 'server';
  platform: 'windows' | 'linux' | 'macOS';
  hostname: string;
  /** `DOMAIN\user` as JSON string content (backslash escaped). */
  loginJson: string;
  user: string;
  ipv4: string;
  /** The 24-hex SIEM user id. */
  userId: string;
}

export interface EndpointFacts extends EndpointIdentity {
  index: number;
  health: Health;
  lastSeenAt: number;
}

const GEOGRAPHY: Record<string, string> = {
  eu01: 'IE', eu02: 'DE', us01: 'US', us02: 'US', us03: 'US', ca01: 'CA', au01: 'AU', jp01: 'JP', br01: 'BR', in01: 'IN',
};

const COMPANIES = [
  'Acme Logistics', 'Brightwater Health', 'Contoso Retail', 'Dunmore Legal', 'Eastgate Schools', 'Fabrikam Foods',
  'Greenfield Energy', 'Harbour Dental', 'Ironbridge Works', 'Juniper Insurance', 'Kestrel Aviation', 'Lakeside Clinic',
  'Meridian Bank', 'Northwind Traders', 'Oakridge Council', 'Pinewood Studios', 'Quayside Hotels', 'Redwood Pharma',
  'Silverline Freight', 'Tallis Music', 'Umbra Security', 'Vantage Motors', 'Westbrook Farms', 'Yarrow Textiles',
];
const FIRST_NAMES = [
  'alice', 'bob', 'chandra', 'dmitri', 'elena', 'farid', 'grace', 'hiro', 'ines', 'jonas', 'kemal', 'lior', 'maria',
  'nadia', 'omar', 'priya', 'quentin', 'rosa', 'sven', 'tamar', 'ugo', 'vera', 'wei', 'yusuf', 'zoe',
];
const SERVICE_NAMES_WINDOWS = [
  'HitmanPro.Alert service', 'Sophos Anti-Virus', 'Sophos Anti-Virus Status Reporter', 'Sophos AutoUpdate Service',
  'Sophos Clean Service', 'Sophos Device Control Service', 'Sophos EDR Agent', 'Sophos Endpoint Defense',
  'Sophos Endpoint Defense Service', 'Sophos File Scanner', 'Sophos File Scanner Service', 'Sophos MCS Agent',
  'Sophos MCS Client', 'Sophos Network Threat Protection', 'Sophos Safestore Service', 'Sophos System Protection Service',
  'Sophos Web Control Service', 'Sophos Web Intelligence Filter Service', 'Sophos Web Intelligence Service',
];
const SERVICE_NAMES_OTHER = ['Sophos Anti-Virus', 'Sophos AutoUpdate Service', 'Sophos EDR Agent', 'Sophos MCS Agent'];

function services(names: readonly string[], stopped: string | undefined): string {
  return JSON.stringify(names.map((name) => ({ name, status: name === stopped ? 'stopped' : 'running' })));
}
const SERVICES = {
  windows: { ok: services(SERVICE_NAMES_WINDOWS, undefined), bad: services(SERVICE_NAMES_WINDOWS, 'Sophos MCS Agent') },
  other: { ok: services(SERVICE_NAMES_OTHER, undefined), bad: services(SERVICE_NAMES_OTHER, 'Sophos AutoUpdate Service') },
};

interface OsVariant { platform: EndpointIdentity['platform']; json: string }
function os(isServer: boolean, platform: EndpointIdentity['platform'], name: string, major: number, minor: number, build?: number): OsVariant {
  const o: Record<string, unknown> = { isServer, platform, name, majorVersion: major, minorVersion: minor };
  // Linux and macOS items carry no numeric Windows build.
  if (build !== undefined) o.build = build;
  return { platform, json: JSON.stringify(o) };
}
const OS_COMPUTER: OsVariant[] = [
  os(false, 'windows', 'Windows 10 Pro', 10, 0, 18363), os(false, 'windows', 'Windows 10 Pro', 10, 0, 19045),
  os(false, 'windows', 'Windows 10 Enterprise', 10, 0, 19044), os(false, 'windows', 'Windows 10 Enterprise', 10, 0, 19045),
  os(false, 'windows', 'Windows 11 Pro', 10, 0, 22631), os(false, 'windows', 'Windows 11 Enterprise', 10, 0, 22621),
  os(false, 'windows', 'Windows 11 Enterprise', 10, 0, 26100), os(false, 'macOS', 'macOS Sonoma', 14, 4),
];
const OS_SERVER: OsVariant[] = [
  os(true, 'windows', 'Windows Server 2016 Standard', 10, 0, 14393), os(true, 'windows', 'Windows Server 2019 Standard', 10, 0, 17763),
  os(true, 'windows', 'Windows Server 2019 Standard Evaluation', 10, 0, 17763), os(true, 'windows', 'Windows Server 2022 Standard', 10, 0, 20348),
  os(true, 'linux', 'Ubuntu 22.04.4 LTS', 22, 4),
];

function products(list: Array<[string, string]>): string {
  return JSON.stringify(list.map(([code, version]) => ({ code, version, status: 'installed' })));
}
const PRODUCTS_COMPUTER = [
  products([['endpointProtection', '10.8.9.2'], ['deviceEncryption', '2.0.81'], ['interceptX', '2.0.18'], ['coreAgent', '2.10.7']]),
  products([['coreAgent', '2023.2.1.9'], ['endpointProtection', '2023.2.1.9'], ['interceptX', '2023.2.1.9']]),
  products([['coreAgent', '2024.1.0.5'], ['endpointProtection', '2024.1.0.5'], ['interceptX', '2024.1.0.5'], ['xdr', '2024.1.0.5']]),
];
const PRODUCTS_SERVER = [
  products([['coreAgent', '2.10.7'], ['endpointProtection', '10.8.9.2'], ['interceptX', '2.0.17']]),
  products([['coreAgent', '2024.1.0.5'], ['endpointProtection', '2024.1.0.5'], ['interceptX', '2024.1.0.5'], ['mtr', '2024.1.0.5']]),
];
const LOCKDOWN = ['{"status":"notInstalled","updateStatus":"notInstalled"}', '{"status":"locked","updateStatus":"upToDate"}'];

interface AlertKind {
  type: string; category: string; severity: string; actions: string; groupKey: string; siemGroup: string; threat: string;
  describe(user: string, hostname: string, n: number): string;
}
function alertKind(type: string, category: string, severity: string, actions: string[], threat: string, siemGroup: string,
  describe: AlertKind['describe']): AlertKind {
  return {
    type, category, severity, actions: JSON.stringify(actions), siemGroup, threat, describe,
    // The real groupKey is base64 of "1,<type>,16,<threat>" (decoded from the fixture).
    groupKey: Buffer.from(`1,${type},16,${threat}`).toString('base64'),
  };
}
/** Weighted: each kind appears as many times as its weight. */
const ALERT_KINDS: AlertKind[] = [
  ...Array<AlertKind>(3).fill(alertKind('Event::Endpoint::Threat::CleanupFailed', 'malware', 'high', ['clearThreat'], 'EICAR-AV-Test', 'MALWARE',
    (u, _h, n) => `Manual cleanup required: 'EICAR-AV-Test' at 'C:${BS}Users${BS}${u}${BS}Downloads${BS}eicarcom2 (${n}).zip'`)),
  ...Array<AlertKind>(4).fill(alertKind('Event::Endpoint::OutOfDate', 'updating', 'medium', ['acknowledge'], 'OutOfDate', 'UPDATING',
    (_u, h) => `Failed to update ${h}: the computer is out of date`)),
  ...Array<AlertKind>(2).fill(alertKind('Event::Endpoint::PUADetected', 'pua', 'medium', ['cleanPua', 'authPua', 'acknowledge'], 'PsExec', 'PUA',
    (u) => `PUA detected: 'PsExec' at 'C:${BS}Users${BS}${u}${BS}Tools${BS}PsExec.exe'`)),
  alertKind('Event::Endpoint::Threat::CommandAndControlDetected', 'runtimeDetections', 'high', ['acknowledge'], 'C2/Generic-A', 'RUNTIME_DETECTIONS',
    (_u, h) => `Malicious network traffic detected on ${h}: 'C2/Generic-A'`),
];

interface EventKind {
  type: string; group: string; severity: string; origin: string; threat: string;
  /** Optional blocks, as JSON text starting with a comma. */
  extra: string;
  describe(loginJson: string, hostname: string, n: number): string;
}
const SHA = 'appSha256' as const;
const APP_EXTRA = `,"${SHA}":"18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4","appCerts":[{"signer":"Sophos Ltd","thumbprint":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}]`;
const IPS_EXTRA = `,"ips_threat_data":{"localPort":"445","executableVersion":"10.0.19041","executablePid":"4","techSupportId":"2019052901.77863414.5","detectionType":0,"executableName":"System","rawData":"Message       OS-WINDOWS Microsoft Windows SMB remote code execution attempt\\nReference     CVE-2017-0146","remoteIp":"203.0.113.7","executablePath":"C:${BS}Windows${BS}System32${BS}ntoskrnl.exe","remotePort":"49721"}`;
const AMSI_EXTRA = `,"amsi_threat_data":{"processId":"4120","processName":"powershell.exe","processPath":"C:${BS}Windows${BS}System32${BS}WindowsPowerShell${BS}v1.0${BS}powershell.exe","parentProcessId":"3312","parentProcessPath":"C:${BS}Windows${BS}explorer.exe"}`;
const REMEDY_EXTRA = `,"core_remedy_items":{"items":[{"type":"file","result":"SUCCESS","suspendResult":"NOT_APPLICABLE","descriptor":"C:${BS}Users${BS}Public${BS}payload.dll","processPath":"","sophosPid":""}],"totalItems":1}`;

function eventKind(weight: number, type: string, group: string, severity: string, origin: string, threat: string, extra: string,
  describe: EventKind['describe']): EventKind[] {
  return Array<EventKind>(weight).fill({ type, group, severity, origin, threat, extra, describe });
}
const EVENT_KINDS: EventKind[] = [
  ...eventKind(25, 'Event::Endpoint::UpdateSuccess', 'UPDATING', 'low', '', '', '', () => 'Update succeeded'),
  ...eventKind(10, 'Event::Endpoint::WebControlViolation', 'WEB', 'low', '', '', '', (_l, h) => `'gambling.example' blocked on ${h} due to category 'Gambling'`),
  ...eventKind(8, 'Event::Endpoint::WebFilteringBlocked', 'WEB', 'low', '', '', '', (_l, h, n) => `Access was blocked to 'http://malware${n % 10}.example/' on ${h}`),
  ...eventKind(10, 'Event::Endpoint::SavScanComplete', 'PROTECTION', 'low', '', '', '', () => "Scan 'Sophos Cloud Scheduled Scan' completed"),
  ...eventKind(6, 'Event::Endpoint::Application::Allowed', 'APPLICATION_CONTROL', 'low', '', '', APP_EXTRA, () => "Allowed application 'TeamViewer'"),
  ...eventKind(4, 'Event::Endpoint::Device::AlertedOnly', 'PERIPHERALS', 'low', '', '', '', () => "Peripheral allowed: 'USB Mass Storage'"),
  ...eventKind(5, 'Event::Endpoint::Compliant', 'POLICY', 'low', '', '', '', (_l, h) => `${h} is compliant with its policy`),
  ...eventKind(3, 'Event::Endpoint::NonCompliant', 'POLICY', 'medium', '', '', '', (_l, h) => `${h} is not compliant with its policy`),
  ...eventKind(3, 'Event::Endpoint::UpdateFailure', 'UPDATING', 'medium', '', '', '', () => 'Update failed'),
  ...eventKind(6, 'Event::Endpoint::UserAutoCreated', 'PROTECTION', 'low', '', '', '', (l) => `New user added automatically: ${l}`),
  ...eventKind(8, 'Event::Endpoint::Threat::Detected', 'MALWARE', 'high', 'ML', 'Troj/Agent-BDKX', APP_EXTRA,
    (l, _h, n) => `Malware detected: 'Troj/Agent-BDKX' at 'C:${BS}Users${BS}${l.slice(l.lastIndexOf('\\') + 1)}${BS}Downloads${BS}setup${n % 50}.exe'`),
  ...eventKind(3, 'Event::Endpoint::Threat::CleanupFailed', 'MALWARE', 'high', 'BLOCKLISTED', 'EICAR-AV-Test', '', () => "Manual cleanup required: 'EICAR-AV-Test'"),
  ...eventKind(4, 'Event::Endpoint::Threat::HmpaBehaviorPrevented', 'RUNTIME_DETECTIONS', 'high', 'HMPA', 'CredGuard', APP_EXTRA + REMEDY_EXTRA,
    (_l, h) => `Credential theft attempt prevented on ${h}`),
  ...eventKind(3, 'Event::Endpoint::Threat::IpsInboundDetection', 'PROTECTION', 'medium', 'IPS', 'Unknown Threat', IPS_EXTRA, () => 'Network attack blocked'),
  ...eventKind(2, 'Event::Endpoint::Threat::AmsiDetected', 'MALWARE', 'high', 'AMSI', 'AMSI/Obfuscated-A', AMSI_EXTRA, () => "Malicious script blocked: 'AMSI/Obfuscated-A'"),
];

export interface GeneratorOptions {
  seed: number;
  /** The initial emulator clock: generated times are relative to it. */
  now0: number;
  endpointsPerTenant: number;
  alertsPerTenant: number;
  eventsPerTenant: number;
}

const ALERT_SPAN = 90 * DAY;
const SCRAMBLE = 0x9e3779b1;
/** The multiplicative inverse of SCRAMBLE modulo 2^32 (Newton's iteration). */
const UNSCRAMBLE = ((): number => {
  let inv = SCRAMBLE;
  for (let n = 0; n < 5; n++) inv = Math.imul(inv, 2 - Math.imul(SCRAMBLE, inv));
  return inv >>> 0;
})();
const EVENT_SPAN = 24 * HOUR;

export class Generator {
  readonly seed: number;
  readonly now0: number;
  readonly endpoints: number;
  readonly alerts: number;
  readonly events: number;
  private readonly maskT: number;
  private readonly maskJ: number;

  constructor(o: GeneratorOptions) {
    this.seed = o.seed;
    this.now0 = o.now0;
    this.endpoints = o.endpointsPerTenant;
    this.alerts = o.alertsPerTenant;
    this.events = o.eventsPerTenant;
    this.maskT = hash(o.seed, S.endpoint, 0xfffff) & 0xffff;
    this.maskJ = hash(o.seed, S.endpoint, 0xffffe);
  }

  // ---- identities and tenants ----

  credential(): { clientId: string; clientSecret: string } {
    return { clientId: uuidOf(this.seed, S.credential, 1), clientSecret: hex8(hash(this.seed, S.credential, 2)) + hex8(hash(this.seed, S.credential, 3)) + hex8(hash(this.seed, S.credential, 4)) + hex8(hash(this.seed, S.credential, 5)) };
  }

  /** Partner and organization ids are upper-case, as in the real whoami bodies; tenant ids are lower-case. */
  partnerId(): string {
    return uuidOf(this.seed, S.partner, 1).toUpperCase();
  }

  organizationId(): string {
    return uuidOf(this.seed, S.organization, 1).toUpperCase();
  }

  tenant(index: number, dataRegion: string, apiHost: string, foreign = false): TenantRecord {
    const h = hash(this.seed, foreign ? S.foreign : S.tenant, index);
    const id = uuidOf(this.seed, foreign ? S.foreign : S.tenant, index);
    const base = COMPANIES[index % COMPANIES.length]!;
    const round = Math.floor(index / COMPANIES.length);
    const name = foreign ? 'Another Partner Customer' : round === 0 ? base : `${base} ${round + 1}`;
    const domain = (base.split(' ')[0]!.toUpperCase().slice(0, 10) + (round === 0 ? '' : String(round + 1))).slice(0, 15);
    const billing = h % 10 < 7 ? 'term' : h % 10 < 9 ? 'trial' : 'usage';
    const dataGeography = GEOGRAPHY[dataRegion] ?? 'US';
    const json = JSON.stringify({
      id, name, dataGeography, dataRegion, billingType: billing,
      partner: { id: foreign ? uuidOf(this.seed, S.foreign, 99).toUpperCase() : this.partnerId() },
      organization: { id: this.organizationId() }, apiHost, status: 'active',
    });
    return { index, id, name, domain, dataRegion, dataGeography, apiHost, json, nameJson: JSON.stringify(name) };
  }

  // ---- endpoints ----

  /** Endpoint ids carry (tenant, index) in their last 12 hex digits, masked, so that a lookup needs no table. */
  endpointId(t: number, j: number): string {
    const h = hash(this.seed, S.endpoint, t, j);
    // An odd multiplier is a bijection on 32 bits: the index looks random yet decodes exactly.
    const w3 = Math.imul((j ^ this.maskJ) >>> 0, SCRAMBLE) >>> 0;
    const w2 = (mix32(h ^ 2) & 0xffff0000) | ((t ^ this.maskT ^ (w3 >>> 16)) & 0xffff);
    return uuid(h, mix32(h ^ 1), w2, w3);
  }

  /** The (tenant, index) an endpoint id belongs to, or undefined if this emulator never issued it. */
  parseEndpointId(id: string): { t: number; j: number } | undefined {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined;
    const w3 = parseInt(id.slice(28), 16);
    const t = (parseInt(id.slice(24, 28), 16) ^ this.maskT ^ (w3 >>> 16)) & 0xffff;
    const j = (Math.imul(w3, UNSCRAMBLE) ^ this.maskJ) >>> 0;
    if (j >= this.endpoints || this.endpointId(t, j) !== id) return undefined;
    return { t, j };
  }

  /** Alerts and events look up their endpoint's identity over and over: keep a bounded cache. */
  private readonly identities = new Map<number, EndpointIdentity>();

  identity(tenant: TenantRecord, j: number): EndpointIdentity {
    const key = tenant.index * 4294967296 + j;
    let id = this.identities.get(key);
    if (id === undefined) {
      if (this.identities.size >= 20_000) this.identities.clear();
      id = this.makeIdentity(tenant, j);
      this.identities.set(key, id);
    }
    return id;
  }

  private makeIdentity(tenant: TenantRecord, j: number): EndpointIdentity {
    const t = tenant.index;
    const h = hash(this.seed, S.endpoint, t, j);
    // Every 97th device is a re-imaged copy of the one before it: same machine and hostname, a second record.
    const base = this.machineIndex(j);
    const hb = base === j ? h : hash(this.seed, S.endpoint, t, base);
    const server = hb % 100 < 18;
    const variant = this.osVariant(hb);
    const num = String(base + 1).padStart(5, '0');
    const hostname = variant.platform === 'linux' ? `srv-lnx-${num}`
      : variant.platform === 'macOS' ? `${tenant.domain.slice(0, 6)}-MAC-${num}`
        : `${tenant.domain.slice(0, 6)}-${server ? 'SRV' : 'WS'}-${num}`;
    const user = `${pick(FIRST_NAMES, mix32(h ^ 7))}.${(mix32(h ^ 8) % 900) + 100}`;
    // Most Windows machines are domain joined; the rest log in with a local account, like the fixture's THUNDERBOX\Lior.
    const domain = variant.platform === 'windows' && mix32(h ^ 9) % 100 < 85 ? tenant.domain : hostname.toUpperCase();
    const loginJson = `${domain}${BS}${server ? 'Administrator' : user}`;
    const ipv4 = `10.${t & 255}.${(j >>> 8) & 255}.${j & 255}`;
    return {
      id: this.endpointId(t, j), type: server ? 'server' : 'computer', platform: variant.platform, hostname, loginJson, user, ipv4,
      userId: this.userId(t, user),
    };
  }

  private machineIndex(j: number): number {
    return j % 97 === 96 ? j - 1 : j;
  }

  private osVariant(h: number): OsVariant {
    return h % 100 < 18 ? pick(OS_SERVER, mix32(h ^ 5)) : pick(OS_COMPUTER, mix32(h ^ 5));
  }

  endpointFacts(tenant: TenantRecord, j: number, lastSeenOverride: number | undefined): EndpointFacts {
    const id = this.identity(tenant, j);
    const h = mix32(hash(this.seed, S.endpoint, tenant.index, j) ^ 11);
    const r = h % 100;
    const health: Health = r < 78 ? 'good' : r < 88 ? 'suspicious' : r < 96 ? 'bad' : 'unknown';
    return { ...id, index: j, health, lastSeenAt: lastSeenOverride ?? this.lastSeen(tenant.index, j) };
  }

  /** Most devices were seen in the last 3 days, some 3-30 days ago, some stale for 30-200 days. */
  private lastSeen(t: number, j: number): number {
    const h = mix32(hash(this.seed, S.endpoint, t, j) ^ 13);
    const u = unit(mix32(h ^ 1));
    const r = h % 100;
    // The older record of a re-imaged pair is always stale.
    const ago = (j + 1) % 97 === 96 || r >= 88 ? 30 * DAY + u * 170 * DAY : r >= 80 ? 3 * DAY + u * 27 * DAY : u * 3 * DAY;
    return this.now0 - Math.floor(ago);
  }

  /** `now`: the emulator's clock, which `online` is judged by. */
  renderEndpoint(tenant: TenantRecord, f: EndpointFacts, full: boolean, now: number): string {
    const h = hash(this.seed, S.endpoint, tenant.index, f.index);
    const server = f.type === 'server';
    const variant = this.osVariant(hash(this.seed, S.endpoint, tenant.index, this.machineIndex(f.index)));
    const svc = variant.platform === 'windows' ? SERVICES.windows : SERVICES.other;
    const threats = f.health === 'suspicious' ? 'suspicious' : f.health === 'unknown' ? 'unknown' : 'good';
    const servicesStatus = f.health === 'bad' ? 'bad' : f.health === 'unknown' ? 'unknown' : 'good';
    const m = mix32(h ^ 17);
    const mac = `${hex8(m).slice(0, 2)}:${hex8(m).slice(2, 4)}:${hex8(m).slice(4, 6)}:${hex8(m).slice(6, 8)}`.toUpperCase();
    const v6 = hex8(mix32(h ^ 19));
    let s = `{"id":"${f.id}","type":"${f.type}","tenant":{"id":"${tenant.id}"},"hostname":"${f.hostname}",`
      + `"health":{"overall":"${f.health}","threats":{"status":"${threats}"},"services":{"status":"${servicesStatus}","serviceDetails":${servicesStatus === 'bad' ? svc.bad : svc.ok}}},`
      + `"os":${variant.json},"ipv4Addresses":["${f.ipv4}"],"ipv6Addresses":["fe80::${v6.slice(0, 4)}:${v6.slice(4)}:${hex8(m).slice(0, 4)}:${f.index.toString(16)}"],`
      + `"macAddresses":["00:50:${mac}"],"associatedPerson":{"viaLogin":"${f.loginJson}"},`
      + `"tamperProtectionEnabled":${mix32(h ^ 21) % 100 < 85},"assignedProducts":${server ? pick(PRODUCTS_SERVER, mix32(h ^ 23)) : pick(PRODUCTS_COMPUTER, mix32(h ^ 23))},`
      + `"lastSeenAt":"${iso(f.lastSeenAt)}"`;
    // As in the real data, blocks that do not apply are left out: servers have no encryption, computers no lockdown.
    if (variant.platform === 'windows') {
      s += server
        ? `,"lockdown":${pick(LOCKDOWN, mix32(h ^ 25))}`
        : `,"encryption":{"volumes":[{"volumeId":"${BS}${BS}?${BS}Volume{${uuidOf(this.seed, S.volume, tenant.index, f.index)}}${BS}","status":"${mix32(h ^ 27) % 100 < 80 ? 'encrypted' : 'notEncrypted'}"}]}`;
    }
    if (full) {
      const online = now - f.lastSeenAt < HOUR;
      s += `,"tamperProtectionSupported":true,"online":${online},"serialNumber":"${hex8(hash(this.seed, S.serial, tenant.index, f.index)).toUpperCase()}",`
        + `"isolation":{"status":"notIsolated","adminIsolated":false,"selfIsolated":false}`;
    }
    return `${s}}`;
  }

  // ---- alerts ----

  /** raisedAt of generated alert k: strictly increasing over the 90 days before the initial clock. */
  alertTime(t: number, k: number): number {
    const u = unit(hash(this.seed, S.alert, t + 0x10000, k));
    return this.now0 - ALERT_SPAN + Math.floor(((k + 0.9 * u) * ALERT_SPAN) / this.alerts);
  }

  /** `stream` tells generated (0) from added (1) alerts, which have their own index space. */
  renderAlert(tenant: TenantRecord, stream: 0 | 1, k: number, raisedAt: number, siem: boolean): string {
    const h = hash(this.seed, stream === 0 ? S.alert : S.alertAdded, tenant.index, k);
    const kind = pick(ALERT_KINDS, h);
    const id = uuid(h, mix32(h ^ 1), mix32(h ^ 2), mix32(h ^ 3));
    const ep = this.endpoints > 0 ? this.identity(tenant, mix32(h ^ 4) % this.endpoints) : this.orphan(h);
    const description = kind.describe(ep.user, ep.hostname, mix32(h ^ 5) % 40);
    const at = iso(raisedAt);
    if (!siem) {
      return `{"id":"${id}","allowedActions":${kind.actions},"category":"${kind.category}","description":"${description}","groupKey":"${kind.groupKey}",`
        + `"managedAgent":{"id":"${ep.id}","type":"${ep.type}"},"person":{"id":"${uuidOf(this.seed, S.person, tenant.index, mix32(h ^ 4) % 1000)}"},`
        + `"product":"${ep.type === 'server' ? 'server' : 'endpoint'}","raisedAt":"${at}","severity":"${kind.severity}",`
        + `"tenant":{"id":"${tenant.id}","name":${tenant.nameJson}},"type":"${kind.type}"}`;
    }
    // SIEM alert items: the event keys plus description, event_service_event_id, threat_cleanable and data (ELASTIC's sample).
    return `{"id":"${id}","type":"${kind.type}","name":"${description}","description":"${description}","severity":"${kind.severity}","group":"${kind.siemGroup}",`
      + `"when":"${at}","created_at":"${at}","customer_id":"${tenant.id}","endpoint_id":"${ep.id}","endpoint_type":"${ep.type}",`
      + `"location":"${ep.hostname}","source":"${ep.loginJson}","source_info":{"ip":"${ep.ipv4}"},"user_id":"${ep.userId}",`
      + `"origin":null,"threat":"${kind.threat}","event_service_event_id":"${id}","threat_cleanable":${kind.category === 'malware'},`
      + `"data":{"created_at":${raisedAt},"endpoint_id":"${ep.id}","endpoint_java_id":"${ep.id}","endpoint_platform":"${ep.platform}",`
      + `"endpoint_type":"${ep.type}","inserted_at":${raisedAt},"source_info":{"ip":"${ep.ipv4}"}}}`;
  }

  // ---- SIEM events ----

  /** created_at of generated event k: non-decreasing over the 24 h before the initial clock. */
  eventTime(t: number, k: number): number {
    const u = unit(hash(this.seed, S.event, t + 0x10000, k));
    return this.now0 - EVENT_SPAN + Math.floor(((k + 0.9 * u) * EVENT_SPAN) / this.events);
  }

  eventType(tenant: TenantRecord, stream: 0 | 1, k: number): string {
    return pick(EVENT_KINDS, hash(this.seed, stream === 0 ? S.event : S.eventAdded, tenant.index, k)).type;
  }

  renderEvent(tenant: TenantRecord, stream: 0 | 1, k: number, createdAt: number, when?: number): string {
    const h = hash(this.seed, stream === 0 ? S.event : S.eventAdded, tenant.index, k);
    const kind = pick(EVENT_KINDS, h);
    const ep = this.endpoints > 0 ? this.identity(tenant, mix32(h ^ 4) % this.endpoints) : this.orphan(h);
    const whenMs = when ?? createdAt - (mix32(h ^ 6) % 30_000);
    return `{"id":"${uuid(h, mix32(h ^ 1), mix32(h ^ 2), mix32(h ^ 3))}","type":"${kind.type}","name":"${kind.describe(ep.loginJson, ep.hostname, mix32(h ^ 5))}",`
      + `"severity":"${kind.severity}","group":"${kind.group}","when":"${iso(whenMs)}","created_at":"${iso(createdAt)}",`
      + `"customer_id":"${tenant.id}","endpoint_id":"${ep.id}","endpoint_type":"${ep.type}","location":"${ep.hostname}",`
      + `"source":"${ep.loginJson}","source_info":{"ip":"${ep.ipv4}"},"user_id":"${ep.userId}",`
      + `"origin":${kind.origin ? `"${kind.origin}"` : 'null'},"threat":${kind.threat ? `"${kind.threat}"` : 'null'}${kind.extra}}`;
  }

  /** A 24-hex user id (as in the SIEM data), stable per tenant and user. */
  private userId(t: number, user: string): string {
    let x = t;
    for (let i = 0; i < user.length; i++) x = Math.imul(x ^ user.charCodeAt(i), 0x01000193);
    const h = hash(this.seed, S.user, x);
    return hex8(h) + hex8(mix32(h ^ 1)) + hex8(mix32(h ^ 2));
  }

  /** For a tenant without endpoints: an alert or event from a device that has since gone. */
  private orphan(h: number): EndpointIdentity {
    return { id: uuidOf(this.seed, S.endpoint, 0xffff, h), type: 'computer', platform: 'windows', hostname: 'RETIRED-PC', loginJson: `RETIRED-PC${BS}user`, user: 'user', ipv4: '10.255.255.1', userId: hex8(h) + hex8(mix32(h ^ 1)) + hex8(mix32(h ^ 2)) };
  }
}
