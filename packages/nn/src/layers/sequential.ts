import { ArgumentError, type Tensor } from '@chainrule/autograd';
import { Module } from '../module.js';
import { locateError } from '../locate.js';
import { Linear } from './linear.js';
import { ReLU } from './activations.js';
import { MaxPool2d } from './pooling.js';
import { Conv2d } from './conv.js';

/**
 * Runs modules one after another, each fed the previous one's output. Children are named
 * '0', '1', ..., so parameters read `0.weight`, `2.bias`, as in PyTorch.
 * @example const net = new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 1));
 */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  /** @throws ArgumentError if an item is not a Module. */
  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /**
   * Adds a module at the end, named by its index.
   * @throws ArgumentError if `module` is not a Module.
   * @example net.append(new ReLU())
   */
  append(module: Module): this {
    if (!(module instanceof Module)) throw new ArgumentError(`Sequential: item ${this.layers.length} is not a Module`);
    this.registerModule(String(this.layers.length), module);
    this.layers.push(module);
    return this;
  }

  /** Number of modules. */
  get length(): number {
    return this.layers.length;
  }

  /**
   * The module at `index` (negative counts from the end), as PyTorch's `net[index]`.
   * @throws ArgumentError if `index` is out of range.
   * @example net.at(-1)
   */
  at(index: number): Module {
    const m = this.layers.at(index);
    if (m === undefined) throw new ArgumentError(`Sequential: index ${index} is out of range for ${this.layers.length} module(s)`);
    return m;
  }

  /** The modules in order. @example for (const layer of net) console.log(String(layer)) */
  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  /**
   * Feeds `x` through every module in turn (the identity when empty). An error is the layer's
   * own, its message led by the layer's path (`3 (in Sequential): Conv2d(...): ...`; see `locateError`).
   */
  forward(x: Tensor): Tensor {
    let y = x;
    const layers = this.layers;
    let i = 0;
    try {
      for (; i < layers.length; i++) {
        const m = layers[i]!;
        // A Linear then a ReLU run as one fused op; the same maths, one pass fewer each way.
        // NOTE: exact classes only: a subclass may override forward, which fusing would skip.
        const pooled = isExactly(m, Conv2d) ? convThenPool(layers, i) : 0;
        if (pooled > 0) {
          // A Conv2d (then a ReLU) then a MaxPool2d: the convolution and the pooling as one fused
          // op, whose output the ReLU, moved past the pooling as below, then takes. Should it
          // fail, the layers run one by one to throw the failing layer's own error.
          const conv = m as Conv2d, pool = layers[i + pooled] as MaxPool2d;
          let z: Tensor;
          try {
            z = conv.forwardPooled(y, pool);
          } catch (fused) {
            const start = i;
            for (let v = y; i <= start + pooled; i++) v = layers[i]!.forward(v);
            i = start;
            throw fused;
          }
          y = pooled === 2 ? layers[i + 1]!.forward(z) : z;
          i += pooled;
        } else if (isExactly(m, Linear) && i + 1 < layers.length && isExactly(layers[i + 1]!, ReLU)) {
          y = (m as Linear).forwardActivated(y, 'relu');
          i++;
        } else if (isExactly(m, ReLU) && i + 1 < layers.length && isExactly(layers[i + 1]!, MaxPool2d)) {
          // A ReLU then a MaxPool2d run as the pooling then the ReLU, over a window's share of
          // the elements: max commutes with relu (non-decreasing, NaN kept), so each window
          // keeps its winner, its value and its gradient (zero where relu cut it, both ways).
          i++;
          y = m.forward(layers[i]!.forward(y));
        } else {
          y = m.forward(y);
        }
      }
    } catch (e) {
      throw locateError(this, e, layers[i]);
    }
    return y;
  }
}

/** How far past layers[at] (a Conv2d) the MaxPool2d its output reaches is: 1 right after it, 2 past a ReLU; 0 for none. */
function convThenPool(layers: readonly Module[], at: number): 0 | 1 | 2 {
  const next = layers[at + 1], after = layers[at + 2];
  if (next !== undefined && isExactly(next, MaxPool2d)) return 1;
  return next !== undefined && isExactly(next, ReLU) && after !== undefined && isExactly(after, MaxPool2d) ? 2 : 0;
}

function isExactly(m: Module, cls: abstract new (...args: never[]) => Module): boolean {
  return Object.getPrototypeOf(m) === cls.prototype;
}
