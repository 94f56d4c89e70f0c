// Shapes of what Sophos Central returns (sophos-central-api.md) and the client surface every
// collector, the CLI and the clean-up use. Items stay loosely typed: events carry the API's JSON
// unchanged, so only the fields the add-on reads are named.

export type IdType = 'tenant' | 'organization' | 'partner';

export interface Whoami {
  id: string;
  idType: IdType;
  apiHosts: { global: string; dataRegion?: string };
}

/** A tenant the credential can reach, with the region API host its data lives on. */
export interface Tenant {
  id: string;
  name: string;
  /**
   * Region API host as the API sent it, without a trailing slash. `forTenant` checks it against the
   * host rule of interfaces.md and throws RefusedHostError (sending nothing) when it breaks it.
   */
  apiHost: string;
  dataRegion?: string;
  dataGeography?: string;
  status?: string;
  billingType?: string;
  /** The tenant object exactly as the API sent it (for the `tenants` data type). */
  raw: Record<string, unknown>;
}

export interface TenantFilter {
  /** Tenant IDs or names (case-insensitive names) to keep; empty keeps all. */
  include?: string[];
  exclude?: string[];
  /** 1-based shard index and count: keep tenants whose ID hashes to shard `index` of `count`. */
  shard?: { index: number; count: number };
  /**
   * Told, once a listing has gone through to its end, the `include` entries that named no tenant of the
   * credential (a misspelt name would otherwise leave that tenant uncollected without a word); with the
   * credential's own tenant ID when it is a tenant credential, whose one tenant has no name in the API.
   */
  onUnmatched?: (entries: string[], ownTenantId?: string) => void;
}

export type Item = Record<string, unknown> & { id: string };

export interface Endpoint extends Item {
  hostname?: string;
  lastSeenAt?: string;
  tenant?: { id: string; name?: string };
}

export interface Alert extends Item {
  raisedAt: string;
  tenant?: { id: string; name?: string };
}

export interface SiemItem extends Item {
  when: string;
  created_at?: string;
  customer_id?: string;
}

/** One page of a key-paged list (endpoints, Common alerts). */
export interface KeyPage<T> {
  items: T[];
  /**
   * Each item's JSON text exactly as the API sent it (compacted if it had blanks), parallel to `items`;
   * present when the client kept the response text. Collectors emit it instead of re-serialising items.
   */
  texts?: string[];
  /**
   * Present (with `texts`) when the client scanned the page instead of parsing it: for each item, the
   * top-level members collectors read (`id`, `raisedAt` or `when`/`created_at`, `tenant`) exactly as in
   * `items`, undefined where absent. `items` is then parsed only when read: collectors use heads and texts.
   */
  heads?: Record<string, unknown>[];
  /** The key for the next page; undefined on the last page. */
  nextKey?: string;
  /** Sophos's clock when it sent this page (its Date header, whole seconds), epoch ms; undefined without one. */
  serverTime?: number;
}

/** One page of a SIEM list. `cursor` is `next_cursor`: save it once this page's items are written. */
export interface CursorPage<T> {
  items: T[];
  /** As in KeyPage. */
  texts?: string[];
  /** As in KeyPage. */
  heads?: Record<string, unknown>[];
  /** As in KeyPage. */
  serverTime?: number;
  /**
   * When this page's request was asked for, by the client's clock: it may be before the caller asked the pager
   * for the page (pages.ts asks for the next page ahead).
   */
  askedAt?: number;
  cursor: string;
  /**
   * The API's `has_more`. True on the last page too when the stream stalled (no items and the cursor it was
   * given back): the pages end there, but the stream is not caught up.
   */
  hasMore: boolean;
}

/** What every list's pages take besides its own filters. */
export interface PageQuery {
  /**
   * Cancels the page request on its way (in flight or waiting to retry) when the caller's page loop has ended
   * without it; that request then rejects with AbortedError.
   */
  signal?: AbortSignal;
}

export interface EndpointQuery extends PageQuery {
  view?: 'basic' | 'summary' | 'full';
  /** Date-time or signed ISO-8601 duration, e.g. `-P90D`. */
  lastSeenBefore?: string;
  lastSeenAfter?: string;
  healthStatus?: string[];
  ids?: string[];
  fields?: string[];
  pageSize?: number;
}

export interface AlertQuery extends PageQuery {
  /** Raised on or after (ISO time). */
  from?: string;
  /** Raised before (ISO time). */
  to?: string;
  pageSize?: number;
}

export interface SiemQuery extends PageQuery {
  /** Resume point from a previous page; wins over fromDate. */
  cursor?: string;
  /** Unix seconds, within the last 24 hours. */
  fromDate?: number;
  limit?: number;
  excludeTypes?: string[];
}

/** Counters a collector reports in its health record; kept per tenant by the client. */
export interface RequestStats {
  requests: number;
  retries: number;
  rateLimited: number;
  errors: number;
}

/** The API of one tenant: every call goes to its apiHost with `X-Tenant-ID`. */
export interface TenantApi {
  readonly tenant: Tenant;
  endpointPages(query?: EndpointQuery): AsyncIterable<KeyPage<Endpoint>>;
  alertPages(query?: AlertQuery): AsyncIterable<KeyPage<Alert>>;
  siemEventPages(query?: SiemQuery): AsyncIterable<CursorPage<SiemItem>>;
  /** Live read of one endpoint; undefined when the API answers 404. */
  getEndpoint(id: string, view?: 'basic' | 'summary' | 'full'): Promise<Endpoint | undefined>;
  /** DELETE one endpoint. Never retried automatically (not idempotent in effect). */
  deleteEndpoint(id: string): Promise<{ deleted: boolean }>;
  readonly stats: RequestStats;
}

export interface CentralClient {
  whoami(): Promise<Whoami>;
  /**
   * Every tenant of the credential (a tenant credential yields itself), filtered; a partner's or organization's
   * list read `pageSize` tenants a page (default 100, or 50 once the API refused a larger first page), `onPage`
   * called for each page read.
   */
  tenants(filter?: TenantFilter, opts?: { pageSize?: number; onPage?: () => void }): AsyncIterable<Tenant>;
  /** Throws RefusedHostError, without sending anything, when the tenant's apiHost breaks the host rule. */
  forTenant(tenant: Tenant): TenantApi;
  /** Counters of the requests that belong to no tenant: token, whoami and tenant lists. */
  readonly stats: RequestStats;
  /**
   * How far this host's clock is ahead of Sophos Central's (negative: behind), in ms, from the Date header
   * of the latest answer; undefined before the first.
   */
  readonly clockSkewMs: number | undefined;
  /** Sophos Central's clock now (epoch ms), by the Date of its latest answer and the time since; undefined before one. */
  sophosNow(): number | undefined;
  /** Release sockets; the client is unusable afterwards. */
  close(): Promise<void>;
}
