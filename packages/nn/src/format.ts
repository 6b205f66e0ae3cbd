import type { Shape } from '@chainrule/autograd';

/** `[2,3]`: the form shapes take in messages, as in the engine. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Whether two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
