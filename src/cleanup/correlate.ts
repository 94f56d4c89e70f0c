// Indexes that answer "which AD records / how many other Central devices have this host name and
// domain", so that correlating a whole estate stays linear. Pure, in memory.
import { adIdentity, centralIdentity, sameIdentity, type HostIdentity } from './identity.js';
import type { AdRecord, CentralDevice } from './verdict.js';

export class AdIndex {
  private readonly byHost = new Map<string, Array<{ id: HostIdentity; record: AdRecord }>>();

  constructor(records: Iterable<AdRecord>) {
    for (const record of records) {
      const id = adIdentity(record.hostname, record.domain);
      if (!id.host) continue;
      const list = this.byHost.get(id.host) ?? [];
      list.push({ id, record });
      this.byHost.set(id.host, list);
    }
  }

  /** AD records with the device's host name and a matching domain (FQDN vs NetBIOS allowed). */
  matches(device: Pick<CentralDevice, 'hostname' | 'viaLogin'>): AdRecord[] {
    const id = centralIdentity(device.hostname, device.viaLogin);
    return (this.byHost.get(id.host) ?? []).filter((e) => sameIdentity(e.id, id)).map((e) => e.record);
  }
}

/** Every Central device seen (stale or not), to find host name + domain collisions. */
export class PeerIndex {
  private readonly byHost = new Map<string, Array<{ deviceId: string; id: HostIdentity }>>();

  add(device: Pick<CentralDevice, 'id' | 'hostname' | 'viaLogin'>): void {
    const id = centralIdentity(device.hostname, device.viaLogin);
    const list = this.byHost.get(id.host) ?? [];
    if (list.some((e) => e.deviceId === device.id)) return;
    list.push({ deviceId: device.id, id });
    this.byHost.set(id.host, list);
  }

  /** How many other devices share this device's host name and domain. */
  peers(device: Pick<CentralDevice, 'id' | 'hostname' | 'viaLogin'>): number {
    const id = centralIdentity(device.hostname, device.viaLogin);
    return (this.byHost.get(id.host) ?? []).filter((e) => e.deviceId !== device.id && sameIdentity(e.id, id)).length;
  }
}
