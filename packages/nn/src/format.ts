import { ArgumentError, DTypeError, ShapeError, type Shape } from '@chainrule/autograd';
import { locateError } from './locate.js';
import type { AnyModule } from './module.js';

/** `[2,3]`: the form shapes take in messages, as in the engine. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Whether two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Runs an op on behalf of a layer: a ShapeError, DTypeError or ArgumentError it throws comes out
 * of the same class with the layer's description in front (`Conv2d(3, 6, kernelSize=[5, 5]): conv2d: ...`),
 * so the message names the module as well as the op, whose own checks are not repeated here.
 * Any error comes out located (`locateError`), so the containers above name the layer's path.
 */
export function asLayer<T>(layer: AnyModule, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ShapeError || e instanceof DTypeError || e instanceof ArgumentError) {
      const Kind = e.constructor as new (message: string, options?: { cause?: unknown }) => Error;
      throw locateError(layer, new Kind(`${String(layer)}: ${e.message}`, { cause: e }));
    }
    throw locateError(layer, e);
  }
}

/** One integer ≥ min per spatial axis from a number or a list of `rank` of them; `what` names the layer and the argument in the error. */
export function spatialList(what: string, value: number | readonly number[], rank: number, min: number): number[] {
  const list = typeof value === 'number' ? Array<number>(rank).fill(value) : Array.isArray(value) ? [...value] : [];
  if (list.length !== rank || !list.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ArgumentError(`${what} must be ${rank === 1 ? 'an integer' : `an integer or ${rank} integers`} >= ${min}, got ${JSON.stringify(value)}`);
  }
  return list;
}
