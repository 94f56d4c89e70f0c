// Host identities for correlating Sophos Central devices with Active Directory: a short host name
// plus a domain, both lower case. Central gives `PC01.corp.example.com` or `PC01` with a
// `CORP\alice` login; AD gives `PC01` + `corp.example.com`. Pure functions only.

export interface HostIdentity {
  /** First label of the host name, lower case. */
  host: string;
  /** DNS domain (`corp.example.com`) or NetBIOS name (`corp`), lower case; undefined when unknown. */
  domain?: string;
}

/** `PC01.Corp.Example.com` -> host `pc01`, domain `corp.example.com`; `PC01` -> host `pc01` only. */
export function splitHostname(hostname: string): HostIdentity {
  const name = hostname.trim().toLowerCase().replace(/\.$/, '');
  const dot = name.indexOf('.');
  if (dot <= 0) return { host: name };
  return { host: name.slice(0, dot), domain: name.slice(dot + 1) };
}

/** The domain part of a login: `CORP\alice` -> `corp`, `alice@corp.example.com` -> `corp.example.com`. */
export function loginDomain(login: string | undefined): string | undefined {
  if (!login) return undefined;
  const slash = login.indexOf('\\');
  if (slash > 0) return login.slice(0, slash).trim().toLowerCase() || undefined;
  const at = login.lastIndexOf('@');
  if (at > 0 && at < login.length - 1) return login.slice(at + 1).trim().toLowerCase();
  return undefined;
}

/**
 * Central's view: the domain comes from the FQDN, else from the `DOMAIN\\user` (or UPN) of viaLogin.
 * A login whose "domain" is the machine's own name (`THUNDERBOX\\Lior`) is a local account: no domain.
 */
export function centralIdentity(hostname: string, viaLogin?: string): HostIdentity {
  const id = splitHostname(hostname);
  if (id.domain) return id;
  const domain = loginDomain(viaLogin);
  return { host: id.host, domain: domain === id.host ? undefined : domain };
}

/** AD's view: the domain column, else the domain of an FQDN in the hostname column. */
export function adIdentity(hostname: string, domain: string): HostIdentity {
  const id = splitHostname(hostname);
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  return { host: id.host, domain: d || id.domain };
}

/**
 * Same domain, allowing for one side giving the NetBIOS name: `corp` matches `corp.example.com`
 * (a NetBIOS name is by default the first label of the DNS name). Unknown never matches.
 */
export function domainsMatch(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  if (a === b) return true;
  const aShort = !a.includes('.');
  const bShort = !b.includes('.');
  if (aShort === bShort) return false;
  const [short, long] = aShort ? [a, b] : [b, a];
  return long.slice(0, long.indexOf('.')) === short;
}

export function sameIdentity(a: HostIdentity, b: HostIdentity): boolean {
  return a.host === b.host && domainsMatch(a.domain, b.domain);
}

/** Splits a distinguished name into normalised RDNs (`ou=disabled`), honouring `\,` escapes. */
export function dnComponents(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[i + 1];
      i++;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts
    .map((p) => p.trim().toLowerCase().replace(/\s*=\s*/, '='))
    .filter((p) => p.length > 0);
}

/**
 * True when the configured OU (`OU=Disabled` or `OU=Disabled,OU=Computers`) appears in the DN as
 * whole RDNs, in order. Whole components, so `OU=Disabled` does not match `OU=Disabled Printers`.
 */
export function dnWithin(dn: string, ou: string): boolean {
  const hay = dnComponents(dn);
  const needle = dnComponents(ou);
  if (needle.length === 0) return false;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (needle.every((n, j) => hay[i + j] === n)) return true;
  }
  return false;
}
