import { defineConfig } from 'vitest/config';

// `npm run soak`: the randomized soak (test/soak/), kept out of `npm test` for the minutes it takes.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    // Each soak test runs its input and the emulator flat out: one at a time on the 2-core machine.
    maxWorkers: 1,
    testTimeout: 25 * 60_000,
  },
});
