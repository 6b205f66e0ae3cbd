import { ArgumentError } from '../errors.js';

/**
 * Global gradient mode. While it is off, ops record no graph: their outputs have no gradFn
 * and do not require grad. Backward turns it off while it runs, unless `createGraph` is set.
 */
let enabled = true;

/** Whether ops record the graph right now (`torch.is_grad_enabled`). @example isGradEnabled() // true outside noGrad */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` with a global mode set, restoring it afterwards. Refuses an async function (or any
 * function returning a promise): the mode would apply only up to its first `await`, and the rest
 * would run with whatever mode is current then. Silent leakage either way, so it is an error.
 * NOTE: scoping a mode across awaits needs AsyncLocalStorage, which only Node has.
 */
export function runScoped<T>(op: string, fn: () => T, enter: () => () => void): T {
  if (typeof fn !== 'function') throw new ArgumentError(`${op}: expected a function to run, got ${fn === null ? 'null' : typeof fn}`);
  if (isAsyncFunction(fn)) throw asyncError(op);
  const exit = enter();
  let result: T;
  try {
    result = fn();
  } finally {
    exit();
  }
  if (isThenable(result)) {
    // The caller gets the error below; the orphaned promise's own rejection would only repeat it.
    if (result instanceof Promise) result.catch(() => undefined);
    throw asyncError(op);
  }
  return result;
}

function isAsyncFunction(fn: object): boolean {
  const name = fn.constructor?.name;
  return name === 'AsyncFunction' || name === 'AsyncGeneratorFunction';
}

function isThenable(x: unknown): boolean {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

function asyncError(op: string): ArgumentError {
  return new ArgumentError(
    `${op}: the function is async (or returns a promise); the mode would apply only up to its first await and silently not after. ` +
      `Wrap each synchronous stretch instead: const y = ${op}(() => model.forward(x)); then await outside`,
  );
}

function withGradMode<T>(op: string, mode: boolean, fn: () => T): T {
  return runScoped(op, fn, () => {
    const previous = enabled;
    enabled = mode;
    return () => {
      enabled = previous;
    };
  });
}

/**
 * Runs `fn` with graph recording off and returns its result, as `torch.no_grad()`; the previous
 * mode is restored afterwards, also when `fn` throws. `fn` must be synchronous: an async
 * function, or one returning a promise, is refused (the mode would end at its first `await`).
 * @throws ArgumentError when `fn` is async or returns a promise.
 * @example const y = noGrad(() => model.forward(x))
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode('noGrad', false, fn);
}

/** Runs `fn` with graph recording on, even inside `noGrad` (`torch.enable_grad()`); the mode is restored afterwards. `fn` must be synchronous, as for `noGrad`. @example enableGrad(() => x.square().sum()) */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode('enableGrad', true, fn);
}

/** Runs `fn` with graph recording set to `mode` (`torch.set_grad_enabled`); the mode is restored afterwards. `fn` must be synchronous, as for `noGrad`. @example setGradEnabled(training, () => model.forward(x)) */
export function setGradEnabled<T>(mode: boolean, fn: () => T): T {
  return withGradMode('setGradEnabled', mode, fn);
}
