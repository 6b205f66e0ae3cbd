import type { AnyModule } from './module.js';

/** The module an error was first caught in (the one that threw it), and the message it was thrown with. */
interface Origin {
  module: AnyModule;
  message: string;
}

// NOTE: kept beside the error rather than on it, so the error keeps its class and own fields.
const origins = new WeakMap<Error, Origin>();

/**
 * Names the module an error came from, as seen from `module`: called in the `catch` of a
 * module's forward, `throw locateError(this, e)`. The first module to catch an error (the one
 * whose forward threw it, or `child` when the caller knows which of its children it was
 * running) becomes its origin; every module above rewrites the message in place with the
 * origin's path below itself and its own class, so the outermost one names the full path:
 * `features.3 (in Sequential): Conv2d(6, 16, kernelSize=[5, 5], ...): conv2d: ...`. The error
 * keeps its class, identity, `cause` and stack (whose first line follows the message). Work is
 * done only when an error is thrown: a forward that succeeds pays for a try block, nothing more.
 * Every built-in layer and container does this; a custom container may too, so that errors of
 * its children name their path even when it is the model's root.
 * @returns the same error (a non-Error value is returned untouched).
 * @example
 * forward(x: Tensor) {
 *   try { return this.head.forward(this.body.forward(x)); } catch (e) { throw locateError(this, e); }
 * }
 */
export function locateError(module: AnyModule, error: unknown, child?: AnyModule): unknown {
  if (!(error instanceof Error)) return error;
  let origin = origins.get(error);
  if (origin === undefined) {
    origin = { module: child ?? module, message: error.message };
    origins.set(error, origin);
  }
  if (origin.module === module) return error;
  const from = origin.module;
  const path = module.namedModules().find(([, m]) => m === from)?.[0];
  if (path === undefined) return error;
  const before = error.message;
  // NOTE: V8 formats the stack on first read, from the message of that moment: read it first.
  const stack = error.stack;
  error.message = `${path} (in ${module.constructor.name}): ${origin.message}`;
  // Keep the stack's first line, which repeats the message, in step with it.
  if (typeof stack === 'string') {
    const at = stack.indexOf(before);
    if (at >= 0) error.stack = stack.slice(0, at) + error.message + stack.slice(at + before.length);
  }
  return error;
}
