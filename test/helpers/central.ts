import { createCentralClient, type CentralClientOptions } from '../../src/central/client.js';
import type { Emulator } from '../emulator/index.js';

/** A Central client pointed at the emulator, with no proxy or other settings taken from this process's environment. */
export function emulatorClient(emu: Emulator, over: Partial<CentralClientOptions> = {}) {
  return createCentralClient({
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    authUrl: emu.authUrl,
    apiUrl: emu.apiUrl,
    env: {},
    ...over,
  });
}
