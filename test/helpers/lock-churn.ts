// A process that takes the run lock again and again for argv[3] ms, appending `A <pid>` right after taking it
// and `R <pid>` right before releasing it to a shared log (O_APPEND): with a sound lock the log alternates.
import { appendFileSync } from 'node:fs';
import { tryRunLock } from '../../src/checkpoint/run-lock.js';

const [file, ms, log] = [process.argv[2]!, Number(process.argv[3]), process.argv[4]!];
const until = Date.now() + ms;
while (Date.now() < until) {
  const got = tryRunLock(file);
  if ('heldBy' in got) continue;
  appendFileSync(log, `A ${process.pid}\n`);
  // Held a moment, as a run holds it for its collection.
  for (const t = Date.now(); Date.now() - t < 1; );
  appendFileSync(log, `R ${process.pid}\n`);
  got.release();
}
