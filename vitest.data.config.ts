import { INSTALLED_DATA_TESTS, testConfig } from './vitest.config.js';

/** `pnpm test:data`: the tests that read datasets installed on the machine (Debian's dataset-fashion-mnist). */
export default testConfig(INSTALLED_DATA_TESTS);
