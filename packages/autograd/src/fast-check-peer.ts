/**
 * fast-check, the optional peer dependency of '@chainrule/autograd/testing', loaded so that a
 * project without it is told what to install rather than shown a bare "Cannot find package".
 * NOTE: the top-level await makes '/testing' an async module, which Node's `require()` of ES
 * modules refuses (ERR_REQUIRE_ASYNC_MODULE): test files import it.
 */
import type * as FastCheck from 'fast-check';

/** What a project without fast-check is told. */
export const MISSING_FAST_CHECK =
  "@chainrule/autograd/testing needs its optional peer dependency 'fast-check', which is not installed: " +
  'run `npm install --save-dev fast-check` (or `pnpm add -D fast-check`, `yarn add -D fast-check`).';

function isMissingFastCheck(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes("'fast-check'");
}

async function loadFastCheck(): Promise<typeof FastCheck> {
  try {
    return await import('fast-check');
  } catch (err: unknown) {
    if (isMissingFastCheck(err)) throw new Error(MISSING_FAST_CHECK, { cause: err });
    throw err;
  }
}

/** The fast-check module (its named exports: `fc.array`, `fc.assert`, ...). */
export const fc: typeof FastCheck = await loadFastCheck();
