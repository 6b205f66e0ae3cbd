import { describe, expect, test } from 'vitest';
import * as lib from '@chainrule/autograd';
import { Tensor, tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { activeInterpreters, primitiveOf, splitArguments, withInterpreter, type Interpreter, type Primitive } from '../src/engine/dispatch.js';

// Public functions that are not ops: creation, transforms, utilities, classes.
const NOT_OPS = new Set([
  'tensor', 'zeros', 'ones', 'full', 'zerosLike', 'onesLike', 'arange', 'linspace', 'eye', 'vmap', 'grad',
]);

/** A tracer: records each primitive call (its tensor inputs, static parameters and outputs) and runs it. */
class Recorder implements Interpreter {
  readonly calls: { prim: Primitive; inputs: Tensor[]; rebuild: (ts: readonly Tensor[]) => unknown[]; output: unknown }[] = [];
  constructor(readonly level: number) {}
  process(prim: Primitive, args: unknown[]): unknown {
    const { tensors, rebuild } = splitArguments(args);
    const output: unknown = prim.bind(...args);
    this.calls.push({ prim, inputs: tensors, rebuild, output });
    return output;
  }
}

describe('primitive dispatch', () => {
  test('every op function of the ops modules is a primitive with its own name', () => {
    const opNames = ['add', 'exp', 'sum', 'reshape', 'matmul', 'einsum', 'conv2d', 'sort', 'where', 'gather', 'cholesky', 'dropout', 'median', 'maxPool2d', 'crossEntropy', 'softmax', 'cumsum', 'linear'];
    for (const name of opNames) {
      const f = (lib as Record<string, unknown>)[name];
      expect(typeof f, name).toBe('function');
      expect(primitiveOf(f as (...a: unknown[]) => unknown)?.name, name).toBe(name);
    }
    for (const name of NOT_OPS) expect(primitiveOf((lib as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!)).toBeUndefined();
  });

  test('elementwise kinds are told apart from the rest', () => {
    expect(primitiveOf(lib.exp)!.spec.kind).toBe('unary');
    expect(primitiveOf(lib.mul)!.spec.kind).toBe('binary');
    expect(primitiveOf(lib.where)!.spec.kind).toBe('elementwise');
    expect(primitiveOf(lib.sum)!.spec).toEqual({ kind: 'reduction', axisArg: 1, absent: 'all' });
    expect(primitiveOf(lib.matmul)!.spec.kind).toBe('contraction');
  });

  test('an interpreter sees every op call, Tensor methods included, and the calls replay with other tensors', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64' });
    const f = (t: Tensor): Tensor => t.mul(2).add(1).exp().sum(0);
    const { y, rec } = withInterpreter((level) => new Recorder(level), (rec) => ({ y: f(x), rec }));
    expect(activeInterpreters()).toHaveLength(0);
    expect(rec.calls.map((c) => c.prim.name)).toEqual(['mul', 'add', 'exp', 'sum']);
    expect(rec.calls[0]!.rebuild([x]).slice(1)).toEqual([2]);
    expect(rec.calls[3]!.rebuild([x]).slice(1)).toEqual([0, false]); // the method passes keepdims
    assertClose(y, f(x));
    // Replay the program on other data: each call's tensors replaced by the replayed values.
    const z = tensor([0, -1, 5], { dtype: 'float64' });
    const values = new Map<Tensor, Tensor>([[x, z]]);
    let last: Tensor = z;
    for (const c of rec.calls) {
      last = c.prim.impl(...c.rebuild(c.inputs.map((t) => values.get(t) ?? t))) as Tensor;
      values.set(c.output as Tensor, last);
    }
    assertClose(last, f(z));
  });

  test('op calls made while an interpreter processes a call go to the next one out', () => {
    const seen: string[] = [];
    class Outer extends Recorder {
      override process(prim: Primitive, args: unknown[]): unknown {
        seen.push(`outer:${prim.name}`);
        return super.process(prim, args);
      }
    }
    class Inner implements Interpreter {
      constructor(readonly level: number) {}
      process(prim: Primitive, args: unknown[]): unknown {
        seen.push(`inner:${prim.name}`);
        // A rule computing with other ops: those go to the outer interpreter, not back here.
        return prim.name === 'square' ? lib.mul(args[0] as Tensor, args[0] as Tensor) : prim.bind(...args);
      }
    }
    const x = tensor([1, 2], { dtype: 'float64' });
    const y = withInterpreter((l) => new Outer(l), () => withInterpreter((l) => new Inner(l), () => x.square().neg()));
    assertClose(y, tensor([-1, -4], { dtype: 'float64' }));
    expect(seen).toEqual(['inner:square', 'outer:mul', 'inner:neg', 'outer:neg']);
  });

  test('an error inside a transform leaves no interpreter behind', () => {
    expect(() => withInterpreter((l) => new Recorder(l), () => tensor([1, 2]).add(tensor([1, 2, 3])))).toThrow(/add/);
    expect(activeInterpreters()).toHaveLength(0);
    expect(tensor([1]).add(1).item()).toBe(2);
  });
});
