// The collectors' public surface, for the modular input entry point and the CLI.

export { collectAlerts } from './alerts.js';
export { collectEvents } from './events.js';
export { collectEndpoints } from './endpoints.js';
export { collectTenants, type TenantsResult } from './tenants.js';
export { runTenant, collectTenantData, type TenantRunHealth, type TenantRunOptions } from './tenant-run.js';
export { runCollection, DEFAULT_TENANT_CONCURRENCY, type CollectConfig, type RunOptions, type RunSummary } from './run.js';
export {
  checkpointKey,
  newCollectResult,
  type AlertCollectOptions,
  type CollectOptions,
  type CollectResult,
  type DataGap,
  type DataType,
  type EventCollectOptions,
  type TenantDataType,
} from './collector.js';
export { SOURCETYPE, ItemSerializer, type TenantRef } from './records.js';
export { ALERT_OVERLAP_MS, QUERY_LAG_MS, ALERT_RETENTION_MS } from './alert-window.js';
export { SIEM_WINDOW_MS, SIEM_SAFE_WINDOW_MS, SIEM_FROM_DATE_WINDOW_MS } from './siem-position.js';
export type { EventSink, OutRecord } from './sink.js';
