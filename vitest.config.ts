import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // Two cores: more workers only adds contention.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
