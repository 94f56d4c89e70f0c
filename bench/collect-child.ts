// One collection run in a fresh process, so that its peak RSS is the run's own. argv[2] is
// {"emulator": {authUrl, apiUrl, clientId, clientSecret}, "data": "alerts"|"events"}. Prints one JSON
// line: events, requests, wall time, peak RSS, and which sink serialised the events. The bench runs
// it bundled by esbuild with plain node, as the add-on runs.
import { createWriteStream } from 'node:fs';
import { createCentralClient } from '../src/central/client.js';
import { MemoryCheckpointStore } from '../src/checkpoint/memory-store.js';
import { runCollection } from '../src/collect/run.js';
import type { Logger } from '../src/log.js';
import { XmlEventWriter } from '../src/splunk/event-writer.js';

const args = JSON.parse(process.argv[2]!) as {
  emulator: { authUrl: string; apiUrl: string; clientId: string; clientSecret: string };
  data: 'alerts' | 'events';
};
const quiet: Logger = { debug() {}, info() {}, warn: (m) => console.error(m), error: (m) => console.error(m) };

async function main(): Promise<void> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const sink = XmlEventWriter.open(createWriteStream('/dev/null'), { stanza: 'sophos_central://bench' });
  const name = 'XmlEventWriter (src/splunk/event-writer.ts) into /dev/null';
  const client = createCentralClient({ ...args.emulator, logger: quiet });
  const started = performance.now();
  const summary = await runCollection({
    client,
    config: { data: args.data, tenants: [], excludeTenants: [], startDays: 90, excludeTypes: [] },
    stanza: 'bench',
    sink,
    store: new MemoryCheckpointStore(),
    logger: quiet,
  });
  const ms = performance.now() - started;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  await client.close();
  console.log(JSON.stringify({ events: summary.events, pages: summary.pages, requests: summary.requests, status: summary.status, ms, peakRssMb: peakRss / 1048576, sink: name }));
}

void main();
