import { BROWSER_TESTS, testConfig } from './vitest.config.js';

/** `pnpm test:browser`: the tests that drive a real browser (Debian's /usr/bin/chromium). */
export default testConfig(BROWSER_TESTS);
