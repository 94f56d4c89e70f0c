// Randomized soak of the modular input, one test per data type: `npm run soak` (README, "Soak"). SOAK_DATA
// picks one data type, SOAK_SEED replays a plan, SOAK_ITER sets the iterations per data type and SOAK_WALL_MS
// a wall budget for each; SOAK_AGGR=1 adds day-long outages and long 403 streaks, SOAK_VARIED=1 varies the
// tenant concurrency, the emulator's latency and rate limit; SOAK_PKILL, SOAK_PTERM, SOAK_PFAULT and SOAK_P403 set
// how often a run is killed (kill -9), stopped with SIGTERM (of those not killed), has faults, and a tenant starts
// refusing (403).
import { expect, it } from 'vitest';
import { logPath, runSoak, type SoakData } from './harness.js';

const seed = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const iterations = Number(process.env.SOAK_ITER ?? 110);
const wallBudgetMs = Number(process.env.SOAK_WALL_MS ?? 18 * 60_000);
const types: SoakData[] = process.env.SOAK_DATA === 'alerts' || process.env.SOAK_DATA === 'events' ? [process.env.SOAK_DATA] : ['alerts', 'events'];

it.each(types)(`soak %s (seed ${seed})`, async (data) => {
  const log = logPath(data, seed);
  const report = await runSoak({
    data,
    seed,
    iterations,
    wallBudgetMs,
    log,
    aggressive: process.env.SOAK_AGGR === '1',
    varied: process.env.SOAK_VARIED === '1',
    pKill: Number(process.env.SOAK_PKILL ?? 0.3),
    pTerm: Number(process.env.SOAK_PTERM ?? 0.15),
    pFault: Number(process.env.SOAK_PFAULT ?? 0.4),
    p403: Number(process.env.SOAK_P403 ?? 0.06),
  });
  console.log(JSON.stringify({ ...report, problems: report.problems.length, log }));
  expect(report.problems, `SOAK_DATA=${data} SOAK_SEED=${seed} replays it; its log: ${log}`).toEqual([]);
});
