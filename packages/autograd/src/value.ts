import { ArgumentError } from './errors.js';
import { isGradEnabled } from './engine/grad-mode.js';
import { topoSort, type Vertex } from './engine/topo-sort.js';

/** The primitive scalar ops; everything else on Value is composed from them. */
type ValueOp = 'leaf' | 'add' | 'mul' | 'pow' | 'exp' | 'log' | 'tanh' | 'sigmoid' | 'relu';

/** A Value or a plain number (taken as a constant). */
export type ValueLike = Value | number;

function lift(x: ValueLike): Value {
  return x instanceof Value ? x : new Value(x);
}

/**
 * A scalar on the graph, micrograd-style: each op records its inputs, and `backward()` runs the
 * chain rule over a topological order of them (the same engine as Tensor, so a million-op
 * chain does not overflow the stack). Ops accept plain numbers as operands.
 *
 * @example const a = new Value(2), b = new Value(-3); const c = a.mul(b).add(a.tanh()); c.backward(); a.grad
 */
export class Value implements Vertex {
  /** The scalar. */
  data: number;
  /** d(root)/d(this) after `backward()`; leaves accumulate over calls, as in PyTorch. */
  grad = 0;
  /** Optional name, shown in graph dumps. */
  label: string;
  /** The op that produced this value ('leaf' for inputs). */
  readonly op: ValueOp;
  // NOTE: two parent fields, not an array: a step of a small scalar MLP makes ~70k nodes, and
  // one array per node doubled the garbage the collector copies while the graph is alive.
  /** @internal */ readonly first: Value | null;
  /** @internal */ readonly second: Value | null;
  /** @internal */ readonly arity: number;
  /** @internal */ visitStamp = 0;
  private readonly exponent: number;

  constructor(data: number, label = '', op: ValueOp = 'leaf', first: Value | null = null, second: Value | null = null, exponent = 0) {
    if (typeof data !== 'number') throw new ArgumentError(`Value: data must be a number, got ${typeof data}`);
    this.data = data;
    this.label = label;
    const record = op !== 'leaf' && isGradEnabled();
    this.op = record ? op : 'leaf';
    this.first = record ? first : null;
    this.second = record ? second : null;
    this.arity = this.first === null ? 0 : this.second === null ? 1 : 2;
    this.exponent = exponent;
  }

  /** The values this one was computed from. */
  get parents(): Value[] {
    return this.arity === 0 ? [] : this.arity === 1 ? [this.first!] : [this.first!, this.second!];
  }

  /** @internal */
  parentAt(i: number): Value {
    return (i === 0 ? this.first : this.second)!;
  }

  /** `this + other`. */ add(other: ValueLike): Value { const o = lift(other); return new Value(this.data + o.data, '', 'add', this, o); }
  /** `this * other`. */ mul(other: ValueLike): Value { const o = lift(other); return new Value(this.data * o.data, '', 'mul', this, o); }
  /** `this ** exponent` for a number exponent. */
  pow(exponent: number): Value {
    if (typeof exponent !== 'number') throw new ArgumentError(`Value.pow: the exponent must be a number, got ${typeof exponent}`);
    return new Value(Math.pow(this.data, exponent), '', 'pow', this, null, exponent);
  }
  /** `-this`. */ neg(): Value { return this.mul(-1); }
  /** `this - other`. */ sub(other: ValueLike): Value { return this.add(lift(other).neg()); }
  /** `this / other`. */ div(other: ValueLike): Value { return this.mul(lift(other).pow(-1)); }
  /** `e^this`. */ exp(): Value { return new Value(Math.exp(this.data), '', 'exp', this); }
  /** Natural logarithm. */ log(): Value { return new Value(Math.log(this.data), '', 'log', this); }
  /** Hyperbolic tangent. */ tanh(): Value { return new Value(Math.tanh(this.data), '', 'tanh', this); }
  /** Logistic sigmoid, stable for large |x|. */
  sigmoid(): Value {
    const x = this.data;
    const y = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    return new Value(y, '', 'sigmoid', this);
  }
  /** `max(x, 0)`; gradient 0 at 0. */ relu(): Value { return new Value(this.data > 0 ? this.data : 0, '', 'relu', this); }

  /**
   * Sets this value's gradient to 1 and propagates to everything it depends on. Leaves
   * accumulate; intermediate values get this pass's gradient.
   */
  backward(): void {
    const order = topoSort([this]);
    for (const v of order) if (v.op !== 'leaf') v.grad = 0;
    this.grad += 1;
    for (let i = order.length - 1; i >= 0; i--) order[i]!.propagate();
  }

  /** Applies this node's local chain rule, adding into its parents' gradients. */
  private propagate(): void {
    const g = this.grad;
    const a = this.first!;
    switch (this.op) {
      case 'leaf':
        return;
      case 'add':
        a.grad += g;
        this.second!.grad += g;
        return;
      case 'mul': {
        const b = this.second!;
        a.grad += b.data * g;
        b.grad += a.data * g;
        return;
      }
      case 'pow':
        a.grad += this.exponent === 0 ? 0 : this.exponent * Math.pow(a.data, this.exponent - 1) * g;
        return;
      case 'exp':
        a.grad += this.data * g;
        return;
      case 'log':
        a.grad += g / a.data;
        return;
      case 'tanh':
        a.grad += (1 - this.data * this.data) * g;
        return;
      case 'sigmoid':
        a.grad += this.data * (1 - this.data) * g;
        return;
      case 'relu':
        a.grad += a.data > 0 ? g : 0;
        return;
    }
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}
