/**
 * Global gradient mode. While it is off, ops record no graph: their outputs have no gradFn
 * and do not require grad. Backward turns it off while it runs, unless `createGraph` is set.
 */
let enabled = true;

/** Whether ops record the graph right now (`torch.is_grad_enabled`). @example isGradEnabled() // true outside noGrad */
export function isGradEnabled(): boolean {
  return enabled;
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Runs `fn` with graph recording off and returns its result, as `torch.no_grad()`; the previous
 * mode is restored afterwards, also when `fn` throws.
 * @example const y = noGrad(() => model.forward(x))
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with graph recording on, even inside `noGrad` (`torch.enable_grad()`); the mode is restored afterwards. @example enableGrad(() => x.square().sum()) */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Runs `fn` with graph recording set to `mode` (`torch.set_grad_enabled`); the mode is restored afterwards. @example setGradEnabled(training, () => model.forward(x)) */
export function setGradEnabled<T>(mode: boolean, fn: () => T): T {
  return withGradMode(mode, fn);
}
