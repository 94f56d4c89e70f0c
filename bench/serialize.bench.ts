// The hot path of every collector: one API item to one line of JSON with `tenant` added. Compares the
// splice ItemSerializer does with the obvious copy-then-stringify, on the real SIEM event fixture.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ItemSerializer } from '../src/collect/records.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fixtures', 'sophos', 'siem-event-item.json');
const items = Array.from({ length: 200_000 }, (_, i) => ({ ...(JSON.parse(readFileSync(fixture, 'utf8')) as object), id: `id-${i}` }));
const tenant = { id: '11f104c5-cc4a-4a9f-bb9c-632c936dfb9f', name: 'Qnasters' };

function time(label: string, fn: (item: Record<string, unknown>) => string): void {
  let bytes = 0;
  const start = performance.now();
  for (const item of items) bytes += fn(item).length;
  const ms = performance.now() - start;
  console.log(`${label.padEnd(34)} ${Math.round(items.length / (ms / 1000)).toLocaleString('en')} items/s (${bytes} bytes)`);
}

export default async function run(): Promise<void> {
  console.log('\n## serialize.bench.ts: one SIEM event to one line with tenant added');
  const serializer = new ItemSerializer(tenant);
  for (let round = 0; round < 2; round++) {
    time('splice (ItemSerializer)', (item) => serializer.serialize(item));
    time('copy + JSON.stringify', (item) => JSON.stringify({ ...item, tenant }));
  }
}
