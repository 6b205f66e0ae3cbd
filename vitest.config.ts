import { configDefaults, defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Tests that need more than a clone and `pnpm install`, each run by its own command (and by
 * .ci/run, which installs what they need), so that `pnpm test` passes on any machine:
 * `pnpm test:browser` drives the playground in Debian's Chromium; `pnpm test:data` reads
 * datasets installed from Debian packages (Fashion-MNIST). `pnpm notebooks` runs Jupyter.
 */
export const BROWSER_TESTS = ['examples/test/**/*.e2e.test.ts'];
export const INSTALLED_DATA_TESTS = ['packages/*/test/**/*.data.test.ts', 'examples/test/**/*.data.test.ts'];

// Workspace packages resolve to their TypeScript sources through the "@chainrule/source" export
// condition, so tests never need a build. Vite replaces its default conditions with any list
// given, so each list repeats Vite's defaults after ours.
const SOURCE = '@chainrule/source';

/** The settings every test command shares, over the given test files. */
export function testConfig(include: string[], exclude: string[] = []): ViteUserConfig {
  return defineConfig({
    resolve: { conditions: [SOURCE, 'module', 'browser', 'development|production'] },
    ssr: { resolve: { conditions: [SOURCE, 'module', 'node', 'development|production'] } },
    test: {
      include,
      exclude: [...configDefaults.exclude, ...exclude],
      // Two cores: more workers only adds contention.
      maxWorkers: 2,
      testTimeout: 60_000,
      // Several suites train or load a dataset in beforeAll; on a busy machine that can take more
      // than vitest's default 10 s, and a timed-out hook reports its suite's tests as skipped.
      hookTimeout: 120_000,
    },
  });
}

/** `pnpm test`: everything that needs only the clone. */
export default testConfig(
  ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/test/**/*.test.ts'],
  [...BROWSER_TESTS, ...INSTALLED_DATA_TESTS],
);
