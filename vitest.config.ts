import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "@chainrule/source" export
// condition, so tests never need a build. Vite replaces its default conditions with any list
// given, so each list repeats Vite's defaults after ours.
const source = '@chainrule/source';

export default defineConfig({
  resolve: { conditions: [source, 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: [source, 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // Two cores: more workers only adds contention.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
