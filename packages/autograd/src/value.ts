import { ArgumentError } from './errors.js';
import { isGradEnabled } from './engine/grad-mode.js';
import { nextVisitStamp, topoSort, type Vertex } from './engine/topo-sort.js';

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
/**
 * Slot 0 of each block is its header: the latest epoch of `recent` the block has values of, and
 * the offset where that epoch's values start in it (the values below are from earlier epochs).
 */
const HEADER_EPOCH = 0;
const HEADER_EPOCH_START = 1;

let block = new Float64Array(LANES * BLOCK_SLOTS);
let nextOffset = LANES;

/** Stores `data` in a fresh slot of the current block and returns the slot's offset in `block`. */
function allocate(data: number): number {
  let offset = nextOffset;
  if (offset === block.length) {
    block = new Float64Array(LANES * BLOCK_SLOTS);
    block[HEADER_EPOCH] = recentEpoch;
    block[HEADER_EPOCH_START] = LANES;
    offset = LANES;
  }
  nextOffset = offset + LANES;
  block[offset + DATA] = data;
  return offset;
}

// ---------------------------------------------------------------------------------------------
// Recent ops. Every op recorded since the last backward is listed here in creation order, which
// is a topological order: backward walks it once from the root down, in memory order, instead of
// searching the graph. A new epoch (the list emptied) starts after each backward and when the
// list is full; block headers tell which epoch a value was made in, so whether an op is listed
// is a read of its block.
// NOTE: the list keeps its Values alive until then: at most RECENT_CAP of them (~12 MB).

const RECENT_CAP = 1 << 17;
let recent: Value[] = [];
let recentLength = 0;
let recentEpoch = 1;
block[HEADER_EPOCH] = recentEpoch;
block[HEADER_EPOCH_START] = LANES;

function newEpoch(): void {
  recent.fill(null as unknown as Value, 0, recentLength);
  recentLength = 0;
  recentEpoch++;
  block[HEADER_EPOCH] = recentEpoch;
  block[HEADER_EPOCH_START] = nextOffset;
}

/** Whether op value `v` is on the recent list, i.e. was made in the current epoch. */
function isRecent(v: Value): boolean {
  const b = v.block;
  return b[HEADER_EPOCH] === recentEpoch && v.cell >> OP_BITS >= b[HEADER_EPOCH_START]!;
}

// NOTE: labels live beside the Values, not in a field: almost no Value has one, and a field
// would cost every node 8 bytes.
const labels = new WeakMap<Value, string>();

function lift(x: ValueLike): Value {
  return x instanceof Value ? x : new Value(x);
}

/** The result of an op: a leaf when no graph is being recorded. */
function result(data: number, op: number, first: Value, second: Value | null): Value {
  const record = isGradEnabled();
  // A full list starts a new epoch before the value is made, so that the value belongs to it.
  if (record && recentLength === RECENT_CAP) newEpoch();
  const v = new Value(data);
  if (record) {
    v.cell |= op;
    v.first = first;
    v.second = second;
    recent[recentLength++] = v;
  }
  return v;
}

/**
 * A scalar on the graph, micrograd-style: each op records its inputs, and `backward()` runs the
 * chain rule over a topological order of them (found without recursion, so a million-op chain
 * does not overflow the stack). Ops accept plain numbers as operands.
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
    if ((this.cell & OP_MASK) === LEAF) {
      this.grad += 1;
      return;
    }
    if (isRecent(this)) {
      const older = backwardRecent(this);
      if (older !== null) backwardSearched(older, true);
    } else {
      backwardSearched([this], false);
    }
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Backward. A value's gradient is complete once every value computed from it has passed its
// share on, so values are processed in reverse topological order, each applying its local chain
// rule. Two ways to get that order: the recent-ops list (the usual case: the graph was built
// since the last backward), and a search of the graph for the rest.

/**
 * Adds a value's share of the gradient into its parents' grads, given the value's slot (`vb`,
 * `vi`) and its parents' (`ab`, `ai`; `bb`, `bi` for binary ops).
 */
function chainRule(op: number, vb: Float64Array, vi: number, ab: Float64Array, ai: number, bb: Float64Array, bi: number): void {
  const g = vb[vi + GRAD]!;
  switch (op) {
    case ADD:
      ab[ai + GRAD]! += g;
      bb[bi + GRAD]! += g;
      return;
    case MUL:
      ab[ai + GRAD]! += bb[bi + DATA]! * g;
      bb[bi + GRAD]! += ab[ai + DATA]! * g;
      return;
    case POW: {
      const e = vb[vi + EXPONENT]!;
      ab[ai + GRAD]! += e === 0 ? 0 : e * Math.pow(ab[ai + DATA]!, e - 1) * g;
      return;
    }
    case EXP:
      ab[ai + GRAD]! += vb[vi + DATA]! * g;
      return;
    case LOG:
      ab[ai + GRAD]! += g / ab[ai + DATA]!;
      return;
    case TANH: {
      const y = vb[vi + DATA]!;
      ab[ai + GRAD]! += (1 - y * y) * g;
      return;
    }
    case SIGMOID: {
      const y = vb[vi + DATA]!;
      ab[ai + GRAD]! += y * (1 - y) * g;
      return;
    }
    case RELU:
      ab[ai + GRAD]! += ab[ai + DATA]! > 0 ? g : 0;
      return;
  }
}

/** Marks `p` reached by the pass `stamp` and zeroes its grad, the first time only; leaves are left alone. */
function reach(p: Value, stamp: number): boolean {
  if ((p.cell & OP_MASK) === LEAF || p.visitStamp === stamp) return false;
  p.visitStamp = stamp;
  p.block[(p.cell >> OP_BITS) + GRAD] = 0;
  return true;
}

/**
 * Backward from a root on the recent-ops list: walks the list from the root down to its start
 * (children before parents), applying the chain rule at each value the root reaches. Returns the
 * values reached whose ops predate the list (null if none), with their gradient so far; then
 * empties the list.
 */
function backwardRecent(root: Value): Value[] | null {
  const stamp = nextVisitStamp();
  const list = recent;
  let i = recentLength - 1;
  while (list[i] !== root) i--;
  root.visitStamp = stamp;
  root.block[(root.cell >> OP_BITS) + GRAD] = 1;
  let older: Value[] | null = null;
  for (; i >= 0; i--) {
    const v = list[i]!;
    if (v.visitStamp !== stamp) continue; // not an ancestor of the root
    const a = v.first!;
    const b = v.second ?? a;
    if (reach(a, stamp) && !isRecent(a)) (older ??= []).push(a);
    if (reach(b, stamp) && !isRecent(b)) (older ??= []).push(b);
    chainRule(v.cell & OP_MASK, v.block, v.cell >> OP_BITS, a.block, a.cell >> OP_BITS, b.block, b.cell >> OP_BITS);
  }
  newEpoch();
  return older;
}

/**
 * Backward from `roots` by searching the graph with the engine's topological sort (iterative,
 * first parent first, so the order is deterministic): every non-leaf value they reach gets its
 * grad zeroed, then the chain rule runs over the order reversed. The roots get grad 1, or, with
 * `keepGrads`, keep the gradient they already hold.
 */
function backwardSearched(roots: Value[], keepGrads: boolean): void {
  const kept = roots.map((r) => (keepGrads ? r.grad : 1));
  const order = topoSort(roots);
  for (const v of order) if ((v.cell & OP_MASK) !== LEAF) v.block[(v.cell >> OP_BITS) + GRAD] = 0;
  roots.forEach((r, i) => (r.grad += kept[i]!));
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i]!;
    if ((v.cell & OP_MASK) === LEAF) continue;
    const a = v.first!;
    const b = v.second ?? a;
    chainRule(v.cell & OP_MASK, v.block, v.cell >> OP_BITS, a.block, a.cell >> OP_BITS, b.block, b.cell >> OP_BITS);
  }
}
