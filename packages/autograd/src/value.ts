import { ArgumentError } from './errors.js';
import { isGradEnabled } from './engine/grad-mode.js';
import { nextVisitStamp, type Vertex } from './engine/topo-sort.js';

/** The primitive scalar ops; everything else on Value is composed from them. */
type ValueOp = 'leaf' | 'add' | 'mul' | 'pow' | 'exp' | 'log' | 'tanh' | 'sigmoid' | 'relu';

/** A Value or a plain number (taken as a constant). */
export type ValueLike = Value | number;

// Op codes, kept in the low bits of `Value.cell`; OP_NAMES maps them back to `op`.
const LEAF = 0;
const ADD = 1;
const MUL = 2;
const POW = 3;
const EXP = 4;
const LOG = 5;
const TANH = 6;
const SIGMOID = 7;
const RELU = 8;
const OP_NAMES: readonly ValueOp[] = ['leaf', 'add', 'mul', 'pow', 'exp', 'log', 'tanh', 'sigmoid', 'relu'];
const OP_BITS = 4;
const OP_MASK = (1 << OP_BITS) - 1;

// ---------------------------------------------------------------------------------------------
// Storage. A step of a small scalar MLP makes ~70k Values and the whole graph is alive while the
// young generation is scavenged, so every byte per node is copied, often twice. A number in an
// object field costs a separate 16-byte heap box (doubles are never stored inline), so data and
// grad do not live on the Value: each Value owns one slot of a block, a Float64Array of
// BLOCK_SLOTS slots that the scavenger never copies. Blocks are filled in creation order and a
// slot is never reused; a block lives as long as any Value in it.
// NOTE: a block holds numbers only. A block that referred to Values (or to other blocks) would
// chain the graphs built before it to anything that keeps one of its Values alive.

/** Lanes of a slot: data, grad, and the exponent of a pow. */
const LANES = 3;
const DATA = 0;
const GRAD = 1;
const EXPONENT = 2;
/** Slots per block: one live Value keeps at most 6 KB of blocks alive. */
const BLOCK_SLOTS = 256;
/** Slot 0 of each block is its header: the stamp of the last backward that listed the block, and its index in that backward's list. */
const HEADER_STAMP = 0;
const HEADER_INDEX = 1;

let block = new Float64Array(LANES * BLOCK_SLOTS);
let nextOffset = LANES;

/** Stores `data` in a fresh slot of the current block and returns the slot's offset in `block`. */
function allocate(data: number): number {
  let offset = nextOffset;
  if (offset === block.length) {
    block = new Float64Array(LANES * BLOCK_SLOTS);
    offset = LANES;
  }
  nextOffset = offset + LANES;
  block[offset + DATA] = data;
  return offset;
}

// NOTE: labels live beside the Values, not in a field: almost no Value has one, and a field
// would cost every node 8 bytes.
const labels = new WeakMap<Value, string>();

function lift(x: ValueLike): Value {
  return x instanceof Value ? x : new Value(x);
}

/** The result of an op: a leaf when no graph is being recorded. */
function result(data: number, op: number, first: Value, second: Value | null): Value {
  const v = new Value(data);
  if (isGradEnabled()) {
    v.cell |= op;
    v.first = first;
    v.second = second;
  }
  return v;
}

/**
 * A scalar on the graph, micrograd-style: each op records its inputs, and `backward()` runs the
 * chain rule over a topological order of them (built with an explicit stack, so a million-op
 * chain does not overflow it). Ops accept plain numbers as operands.
 *
 * @example const a = new Value(2), b = new Value(-3); const c = a.mul(b).add(a.tanh()); c.backward(); a.grad
 */
export class Value implements Vertex {
  /** @internal The block holding this value's slot. */
  readonly block: Float64Array;
  /** @internal The slot's offset in `block`, shifted left by OP_BITS, with the op code in the low bits. */
  cell: number;
  // NOTE: two parent fields, not an array: one array per node doubled the garbage the collector
  // copies while a graph is alive.
  /** @internal */ first: Value | null = null;
  /** @internal */ second: Value | null = null;
  /** @internal */ visitStamp = 0;

  constructor(data: number, label = '') {
    if (typeof data !== 'number') throw new ArgumentError(`Value: data must be a number, got ${typeof data}`);
    const offset = allocate(data);
    this.block = block;
    this.cell = offset << OP_BITS;
    if (label !== '') labels.set(this, label);
  }

  /** The scalar. */
  get data(): number {
    return this.block[(this.cell >> OP_BITS) + DATA]!;
  }
  set data(x: number) {
    this.block[(this.cell >> OP_BITS) + DATA] = x;
  }

  /** d(root)/d(this) after `backward()`; leaves accumulate over calls, as in PyTorch. */
  get grad(): number {
    return this.block[(this.cell >> OP_BITS) + GRAD]!;
  }
  set grad(x: number) {
    this.block[(this.cell >> OP_BITS) + GRAD] = x;
  }

  /** Optional name, shown in graph dumps. */
  get label(): string {
    return labels.get(this) ?? '';
  }
  set label(name: string) {
    labels.set(this, name);
  }

  /** The op that produced this value ('leaf' for inputs). */
  get op(): ValueOp {
    return OP_NAMES[this.cell & OP_MASK]!;
  }

  /** The values this one was computed from. */
  get parents(): Value[] {
    return this.first === null ? [] : this.second === null ? [this.first] : [this.first, this.second];
  }

  /** @internal */
  get arity(): number {
    return this.first === null ? 0 : this.second === null ? 1 : 2;
  }

  /** @internal */
  parentAt(i: number): Value {
    return (i === 0 ? this.first : this.second)!;
  }

  /** `this + other`. */ add(other: ValueLike): Value { const o = lift(other); return result(this.data + o.data, ADD, this, o); }
  /** `this * other`. */ mul(other: ValueLike): Value { const o = lift(other); return result(this.data * o.data, MUL, this, o); }
  /** `this ** exponent` for a number exponent. */
  pow(exponent: number): Value {
    if (typeof exponent !== 'number') throw new ArgumentError(`Value.pow: the exponent must be a number, got ${typeof exponent}`);
    const v = result(Math.pow(this.data, exponent), POW, this, null);
    v.block[(v.cell >> OP_BITS) + EXPONENT] = exponent;
    return v;
  }
  /** `-this`. */ neg(): Value { return this.mul(-1); }
  /** `this - other`. */ sub(other: ValueLike): Value { return this.add(lift(other).neg()); }
  /** `this / other`. */ div(other: ValueLike): Value { return this.mul(lift(other).pow(-1)); }
  /** `e^this`. */ exp(): Value { return result(Math.exp(this.data), EXP, this, null); }
  /** Natural logarithm. */ log(): Value { return result(Math.log(this.data), LOG, this, null); }
  /** Hyperbolic tangent. */ tanh(): Value { return result(Math.tanh(this.data), TANH, this, null); }
  /** Logistic sigmoid, stable for large |x|. */
  sigmoid(): Value {
    const x = this.data;
    const y = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    return result(y, SIGMOID, this, null);
  }
  /** `max(x, 0)`; gradient 0 at 0. */ relu(): Value { const x = this.data; return result(x > 0 ? x : 0, RELU, this, null); }

  /**
   * Sets this value's gradient to 1 and propagates to everything it depends on. Leaves
   * accumulate; intermediate values get this pass's gradient.
   */
  backward(): void {
    const n = recordTape(this);
    this.grad += 1;
    replayTape(n);
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Backward. The walk over Values writes a tape of plain integers, one row per non-leaf value in
// topological order: [op, self, first, second], each operand a reference `(i << REF_BITS) |
// offset` into `tapeBlocks[i]`. The chain rule then runs over the tape and the blocks alone, with
// no Value objects to chase. The tape is reused from pass to pass; it holds no references.

const ROW = 4;
/** Offsets within a block are below LANES * BLOCK_SLOTS = 768 < 2^10. */
const REF_BITS = 10;
const REF_MASK = (1 << REF_BITS) - 1;
/** A tape larger than this (a graph of over a million values) is dropped after its pass. */
const KEPT_TAPE_LENGTH = ROW << 20;

let tape = new Int32Array(ROW * 1024);
/** The blocks the current pass refers to; emptied after each pass so it keeps none alive. */
let tapeBlocks: Float64Array[] = [];

/** The tape reference of `v`'s slot, listing its block for this pass if it is not yet listed. */
function refOf(v: Value, stamp: number): number {
  const b = v.block;
  if (b[HEADER_STAMP] !== stamp) {
    b[HEADER_STAMP] = stamp;
    b[HEADER_INDEX] = tapeBlocks.length;
    tapeBlocks.push(b);
  }
  return (b[HEADER_INDEX]! << REF_BITS) | (v.cell >> OP_BITS);
}

/**
 * Writes a row for every non-leaf value reachable from `root`, each after the rows of its
 * parents (post-order DFS, first parent first, so the order is deterministic), and zeroes their
 * gradients; returns the number of rows. Leaves get no row: they only receive gradient.
 * NOTE: iterative with an explicit stack; a recursive walk overflows the JS stack on long chains.
 */
function recordTape(root: Value): number {
  const stamp = nextVisitStamp();
  tapeBlocks = [];
  if ((root.cell & OP_MASK) === LEAF) return 0;
  root.visitStamp = stamp;
  const stack: Value[] = [root];
  let depth = 1;
  let t = tape;
  let n = 0;
  while (depth > 0) {
    const v = stack[depth - 1]!;
    // A parent that is neither a leaf nor visited goes on the stack; v is looked at again once
    // that parent's subtree is written (re-reading a stamp is cheaper than a per-entry cursor).
    const a = v.first!;
    if (a.visitStamp !== stamp && (a.cell & OP_MASK) !== LEAF) {
      a.visitStamp = stamp;
      stack[depth++] = a;
      continue;
    }
    const b = v.second;
    if (b !== null && b.visitStamp !== stamp && (b.cell & OP_MASK) !== LEAF) {
      b.visitStamp = stamp;
      stack[depth++] = b;
      continue;
    }
    depth--;
    if (ROW * (n + 1) > t.length) {
      const bigger = new Int32Array(2 * t.length);
      bigger.set(t);
      tape = t = bigger;
    }
    const k = ROW * n++;
    t[k] = v.cell & OP_MASK;
    t[k + 1] = refOf(v, stamp);
    t[k + 2] = refOf(a, stamp);
    t[k + 3] = b === null ? 0 : refOf(b, stamp);
    // Nothing has added into v yet: its children's rows come later.
    v.block[(v.cell >> OP_BITS) + GRAD] = 0;
  }
  return n;
}

/** Runs the tape from the root back: each row adds its local chain rule into its parents' grads. */
function replayTape(n: number): void {
  const t = tape;
  const blocks = tapeBlocks;
  for (let k = ROW * (n - 1); k >= 0; k -= ROW) {
    const self = t[k + 1]!;
    const first = t[k + 2]!;
    const vb = blocks[self >>> REF_BITS]!;
    const vi = self & REF_MASK;
    const ab = blocks[first >>> REF_BITS]!;
    const ai = first & REF_MASK;
    const g = vb[vi + GRAD]!;
    switch (t[k]) {
      case ADD: {
        const second = t[k + 3]!;
        ab[ai + GRAD] += g;
        blocks[second >>> REF_BITS]![(second & REF_MASK) + GRAD] += g;
        break;
      }
      case MUL: {
        const second = t[k + 3]!;
        const bb = blocks[second >>> REF_BITS]!;
        const bi = second & REF_MASK;
        ab[ai + GRAD] += bb[bi + DATA]! * g;
        bb[bi + GRAD] += ab[ai + DATA]! * g;
        break;
      }
      case POW: {
        const e = vb[vi + EXPONENT]!;
        ab[ai + GRAD] += e === 0 ? 0 : e * Math.pow(ab[ai + DATA]!, e - 1) * g;
        break;
      }
      case EXP:
        ab[ai + GRAD] += vb[vi + DATA]! * g;
        break;
      case LOG:
        ab[ai + GRAD] += g / ab[ai + DATA]!;
        break;
      case TANH: {
        const y = vb[vi + DATA]!;
        ab[ai + GRAD] += (1 - y * y) * g;
        break;
      }
      case SIGMOID: {
        const y = vb[vi + DATA]!;
        ab[ai + GRAD] += y * (1 - y) * g;
        break;
      }
      case RELU:
        ab[ai + GRAD] += ab[ai + DATA]! > 0 ? g : 0;
        break;
    }
  }
  tapeBlocks = [];
  if (t.length > KEPT_TAPE_LENGTH) tape = new Int32Array(ROW * 1024);
}
