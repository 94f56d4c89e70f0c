// XmlEventWriter hot path: ~1 KB JSON events formatted, escaped and written in batches of 1000.
// Two targets: a Writable that discards (formatting cost alone) and a real pipe to a child that drains it.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import type { OutRecord } from '../src/collect/sink.js';
import { XmlEventWriter } from '../src/splunk/event-writer.js';

const EVENTS = 300_000;
const BATCH = 1000;

function makeBatch(): OutRecord[] {
  const base = {
    id: '5a0a0b0c-1d2e-4f30-8a4b-5c6d7e8f9a0b',
    category: 'malware',
    type: 'Event::Endpoint::Threat::CleanedUp',
    description: 'Malware "Troj/Agent-ABC" detected in C:\\Users\\x\\AppData\\Local\\Temp\\a<b>&c.exe and cleaned up',
    severity: 'high',
    raisedAt: '2024-05-01T10:00:00.000Z',
    allowedActions: ['acknowledge'],
    managedAgent: { id: '0b3c4d5e-1f2a-4b6c-8d9e-0a1b2c3d4e5f', type: 'computer' },
    person: { id: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', name: 'ACME\\jdoe' },
    product: 'endpoint',
    tenant: { id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', name: 'Acme Ltd' },
  };
  const records: OutRecord[] = [];
  for (let i = 0; i < BATCH; i++) {
    const data = JSON.stringify({ ...base, seq: i, pad: 'x'.repeat(1024 - JSON.stringify(base).length - 20) });
    records.push({ time: 1714557600 + i / 1000, sourcetype: 'sophos:central:alerts', data });
  }
  return records;
}

async function run(label: string, out: Writable): Promise<void> {
  const writer = XmlEventWriter.open(out, { stanza: 'sophos_central://bench', index: 'main' });
  const batch = makeBatch();
  const bytes = batch.reduce((n, r) => n + r.data.length, 0) / batch.length;
  const start = process.hrtime.bigint();
  for (let n = 0; n < EVENTS; n += BATCH) await writer.write(batch);
  await writer.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `event-writer ${label}: ${EVENTS} events of ~${Math.round(bytes)} B in ${seconds.toFixed(2)} s = ${Math.round(EVENTS / seconds).toLocaleString('en-US')} events/s`,
  );
}

export default async function bench(): Promise<void> {
  await run('to a discarding Writable', new Writable({ write: (_chunk, _enc, cb) => cb() }));
  const child = spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'ignore', 'inherit'] });
  await run('through a pipe to cat', child.stdin);
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
}
