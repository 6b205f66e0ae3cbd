import { ArgumentError, GraphError } from './errors.js';
import { isGradEnabled } from './engine/grad-mode.js';
import { nextVisitStamp, topoSort, type Vertex } from './engine/topo-sort.js';
import {
  allocateSlot, creationCursor, currentBlock, hasRecentOps, isRecent, newEpoch, positionOf, pushRecent, recentOps, reserveRecent,
} from './value-storage.js';

/** The primitive scalar ops; everything else on Value is composed from them. */
type ValueOp = 'leaf' | 'add' | 'mul' | 'pow' | 'exp' | 'log' | 'tanh' | 'sigmoid' | 'relu';

/** A Value or a plain number (taken as a constant). */
export type ValueLike = Value | number;

// The numbers of a Value's slot (value-storage.ts keeps them in blocks, data first).
// NOTE: declared here, not imported: the accessors below run for every number read or written,
// and a constant imported from another module is a load there, not a literal.
const DATA = 0;
const GRAD = 1;
const EXPONENT = 2;
/** `cell` packs the slot's offset (shifted left by OP_BITS) with the op code in the low bits. */
const OP_BITS = 4;
const OP_MASK = (1 << OP_BITS) - 1;

/**
 * An op's local chain rule: adds its share of `g`, the gradient of the op's output `y`, into the
 * grads of its inputs `a` and `b` (for a unary op, b is a).
 */
type ChainRule = (g: number, y: Value, a: Value, b: Value) => void;

/** Which values' data a chain rule reads: its first input, its second, its own output (bits). */
const READS_A = 1;
const READS_B = 2;
const READS_Y = 4;

const NAMES: ValueOp[] = ['leaf'];
const RULES: ChainRule[] = [() => {}];
const READS: number[] = [0];

/**
 * Registers the chain rule of op `name`, with the values whose data it reads (`READS_*` bits),
 * and returns its op code: the only place an op's code is made, so every op that can be recorded
 * has its rule.
 */
function rule(name: ValueOp, reads: number, chainRule: ChainRule): number {
  // NOTE: the code must fit the low bits of Value.cell, and applyRule has one case per code.
  if (RULES.length > OP_MASK) throw new Error(`Value: no op code left for '${name}'; widen OP_BITS`);
  NAMES.push(name);
  RULES.push(chainRule);
  READS.push(reads);
  return RULES.length - 1;
}

// In-place edits. Assigning `.data` is how a Value is updated in place (an optimiser step:
// `p.data -= lr * p.grad`). A chain rule that reads a value's data after it was assigned would
// compute the gradient at the new value, silently; so each assignment records the creation
// cursor, and backward refuses an op made before an assignment to data its rule reads (as
// PyTorch's version counters do for tensors).
/** For each assigned Value, the creation cursor at its last assignment. */
const assigned = new WeakMap<Value, number>();
/** Some Value was assigned while ops of the current recent list existed (reset with the list). */
let assignedAmidOps = false;
/** Some Value was ever assigned: graphs older than the recent list must be checked. */
let anyAssigned = false;

function noteAssignment(v: Value): void {
  assigned.set(v, creationCursor());
  anyAssigned = true;
  if (hasRecentOps()) assignedAmidOps = true;
}

/** Throws if op value `v` reads the data of a value assigned after `v` was made. */
function checkReads(v: Value, a: Value, b: Value): void {
  const reads = READS[v.cell & OP_MASK]!;
  if (reads === 0) return;
  const made = positionOf(v.block, v.cell >> OP_BITS);
  if (reads & READS_A) checkUnassigned(v, a, 'input 0', made);
  if (reads & READS_B) checkUnassigned(v, b, 'input 1', made);
  if (reads & READS_Y) checkUnassigned(v, v, 'its output', made);
}

function checkUnassigned(v: Value, read: Value, which: string, made: number): void {
  const at = assigned.get(read);
  if (at === undefined || at <= made) return;
  const label = read.label === '' ? '' : ` '${read.label}'`;
  throw new GraphError(
    `Value.backward: ${which}${label} of '${v.op}' had its data assigned (now ${read.data}) after '${v.op}' used it; ` +
      'the gradient needs the value it had then. Assign .data after backward (as an optimiser step does), or redo the forward',
  );
}

// NOTE: labels live beside the Values, not in a field: almost no Value has one, and a field
// would cost every node 8 bytes.
const labels = new WeakMap<Value, string>();

function lift(x: ValueLike): Value {
  return x instanceof Value ? x : new Value(x);
}

/** The result of op `code` on `first` (and `second`): a leaf when no graph is being recorded. */
function result(data: number, code: number, first: Value, second: Value | null): Value {
  const record = isGradEnabled();
  if (record) reserveRecent();
  const v = new Value(data);
  if (record) {
    v.cell |= code;
    v.first = first;
    v.second = second;
    pushRecent(v);
  }
  return v;
}

/**
 * A scalar on the graph, micrograd-style: each op records its inputs, and `backward()` runs the
 * chain rule over a topological order of them (found without recursion, so a million-op chain
 * does not overflow the stack). Ops accept plain numbers as operands. Each op below is its
 * forward and, right under it, its chain rule; value-storage.ts keeps the numbers.
 * An operand that is neither a Value nor a number, or a non-number exponent for `pow`, is an
 * ArgumentError. Float arithmetic follows IEEE: log(0) is -Infinity, not an error.
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

  /**
   * A leaf holding `data`, optionally named `label` for graph dumps.
   * @throws ArgumentError if `data` is not a number.
   */
  constructor(data: number, label = '') {
    if (typeof data !== 'number') throw new ArgumentError(`Value: data must be a number, got ${typeof data}`);
    const offset = allocateSlot(data);
    this.block = currentBlock();
    this.cell = offset << OP_BITS;
    if (label !== '') labels.set(this, label);
  }

  /** The scalar. */
  get data(): number {
    return this.block[(this.cell >> OP_BITS) + DATA]!;
  }
  /** Sets the scalar in place (as an optimiser step does); recorded ops are not recomputed. */
  /** Assigning is an in-place edit: a backward through an op that read the old value throws. */
  set data(x: number) {
    this.block[(this.cell >> OP_BITS) + DATA] = x;
    noteAssignment(this);
  }

  /** d(root)/d(this) after `backward()`; leaves accumulate over calls, as in PyTorch. */
  get grad(): number {
    return this.block[(this.cell >> OP_BITS) + GRAD]!;
  }
  /** Sets the gradient, e.g. to 0 before another backward. */
  set grad(x: number) {
    this.block[(this.cell >> OP_BITS) + GRAD] = x;
  }

  /** Optional name, shown in graph dumps. */
  get label(): string {
    return labels.get(this) ?? '';
  }
  /** Names the value in graph dumps. */
  set label(name: string) {
    labels.set(this, name);
  }

  /** The op that produced this value ('leaf' for inputs). */
  get op(): ValueOp {
    return NAMES[this.cell & OP_MASK]!;
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

  /** `this + other`. */
  add(other: ValueLike): Value {
    const o = lift(other);
    return result(this.data + o.data, Value.#ADD, this, o);
  }
  static readonly #ADD = rule('add', 0, (g, _y, a, b) => {
    a.grad += g;
    b.grad += g;
  });

  /** `this * other`. */
  mul(other: ValueLike): Value {
    const o = lift(other);
    return result(this.data * o.data, Value.#MUL, this, o);
  }
  static readonly #MUL = rule('mul', READS_A | READS_B, (g, _y, a, b) => {
    a.grad += b.data * g;
    b.grad += a.data * g;
  });

  /** `this ** exponent` for a number exponent. */
  pow(exponent: number): Value {
    if (typeof exponent !== 'number') throw new ArgumentError(`Value.pow: the exponent must be a number, got ${typeof exponent}`);
    const v = result(Math.pow(this.data, exponent), Value.#POW, this, null);
    v.block[(v.cell >> OP_BITS) + EXPONENT] = exponent;
    return v;
  }
  static readonly #POW = rule('pow', READS_A, (g, y, a) => {
    const e = y.block[(y.cell >> OP_BITS) + EXPONENT]!;
    // x⁰ is constant: 0, not 0·x^-1 (NaN at x = 0).
    a.grad += e === 0 ? 0 : e * Math.pow(a.data, e - 1) * g;
  });

  /** `e^this`. */
  exp(): Value {
    return result(Math.exp(this.data), Value.#EXP, this, null);
  }
  static readonly #EXP = rule('exp', READS_Y, (g, y, a) => {
    a.grad += y.data * g;
  });

  /** Natural logarithm. */
  log(): Value {
    return result(Math.log(this.data), Value.#LOG, this, null);
  }
  static readonly #LOG = rule('log', READS_A, (g, _y, a) => {
    a.grad += g / a.data;
  });

  /** Hyperbolic tangent. */
  tanh(): Value {
    return result(Math.tanh(this.data), Value.#TANH, this, null);
  }
  static readonly #TANH = rule('tanh', READS_Y, (g, y, a) => {
    const t = y.data;
    a.grad += (1 - t * t) * g;
  });

  /** Logistic sigmoid, stable for large |x|. */
  sigmoid(): Value {
    const x = this.data;
    const s = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    return result(s, Value.#SIGMOID, this, null);
  }
  static readonly #SIGMOID = rule('sigmoid', READS_Y, (g, y, a) => {
    const s = y.data;
    a.grad += s * (1 - s) * g;
  });

  /** `max(x, 0)`; gradient 0 at 0. */
  relu(): Value {
    const x = this.data;
    return result(x > 0 ? x : 0, Value.#RELU, this, null);
  }
  static readonly #RELU = rule('relu', READS_A, (g, _y, a) => {
    a.grad += a.data > 0 ? g : 0;
  });

  // Composed: their gradients come from the primitives above.
  /** `-this`. */ neg(): Value { return this.mul(-1); }
  /** `this - other`. */ sub(other: ValueLike): Value { return this.add(lift(other).neg()); }
  /** `this / other`. */ div(other: ValueLike): Value { return this.mul(lift(other).pow(-1)); }

  /**
   * Sets this value's gradient to `gradient` (the seed, 1 by default, as PyTorch's
   * `backward(gradient)`) and propagates to everything it depends on. Leaves accumulate;
   * intermediate values get this pass's gradient.
   * @throws ArgumentError when `gradient` is not a number.
   * @throws GraphError when a value whose data an op's chain rule reads was assigned after the op
   *   was made (the gradient would be taken at the new value); nothing changes then.
   * @example loss.backward(); loss.backward(0.5)
   */
  backward(gradient = 1): void {
    if (typeof gradient !== 'number') throw new ArgumentError(`Value.backward: the seed gradient must be a number, got ${typeof gradient}`);
    if ((this.cell & OP_MASK) === 0) {
      this.grad += gradient;
      return;
    }
    if (isRecent(this.block, this.cell >> OP_BITS)) {
      if (assignedAmidOps) checkRecent(this);
      const older = backwardRecent(this, gradient);
      if (older !== null) backwardSearched(older, true, gradient);
    } else {
      backwardSearched([this], false, gradient);
    }
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Backward. A value's gradient is complete once every value computed from it has passed its
// share on, so values are processed in reverse topological order, each applying its op's chain
// rule. Two ways to get that order: the recent-ops list (the usual case: the graph was built
// since the last backward), and a search of the graph for the rest.

/**
 * Applies op value `v`'s chain rule (its parents a and b, b = a for a unary op).
 * NOTE: one call site per op code, not `RULES[code](...)`: a single site calling every rule goes
 * megamorphic and no rule is inlined into the backward loops; one site per code stays
 * monomorphic and V8 inlines it, which keeps the scalar step as fast as a switch of rule bodies.
 */
function applyRule(v: Value, a: Value, b: Value): void {
  const g = v.block[(v.cell >> OP_BITS) + GRAD]!;
  const r = RULES;
  switch (v.cell & OP_MASK) {
    case 1: r[1]!(g, v, a, b); return;
    case 2: r[2]!(g, v, a, b); return;
    case 3: r[3]!(g, v, a, b); return;
    case 4: r[4]!(g, v, a, b); return;
    case 5: r[5]!(g, v, a, b); return;
    case 6: r[6]!(g, v, a, b); return;
    case 7: r[7]!(g, v, a, b); return;
    case 8: r[8]!(g, v, a, b); return;
    case 9: r[9]!(g, v, a, b); return;
    case 10: r[10]!(g, v, a, b); return;
    case 11: r[11]!(g, v, a, b); return;
    case 12: r[12]!(g, v, a, b); return;
    case 13: r[13]!(g, v, a, b); return;
    case 14: r[14]!(g, v, a, b); return;
    case 15: r[15]!(g, v, a, b); return;
  }
}

/** Marks `p` reached by the pass `stamp` and zeroes its grad, the first time only; leaves are left alone. */
function reach(p: Value, stamp: number): boolean {
  if ((p.cell & OP_MASK) === 0 || p.visitStamp === stamp) return false;
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
function backwardRecent(root: Value, seed: number): Value[] | null {
  const stamp = nextVisitStamp();
  const { list, length } = recentOps();
  let i = length - 1;
  while (list[i] !== root) i--;
  root.visitStamp = stamp;
  root.block[(root.cell >> OP_BITS) + GRAD] = seed;
  let older: Value[] | null = null;
  for (; i >= 0; i--) {
    const v = list[i]!;
    if (v.visitStamp !== stamp) continue; // not an ancestor of the root
    const a = v.first!;
    const b = v.second ?? a;
    if (reach(a, stamp) && !isRecent(a.block, a.cell >> OP_BITS)) (older ??= []).push(a);
    if (reach(b, stamp) && !isRecent(b.block, b.cell >> OP_BITS)) (older ??= []).push(b);
    applyRule(v, a, b);
  }
  newEpoch();
  assignedAmidOps = false;
  return older;
}

/**
 * The checks of `checkReads` over the recent ops `root` reaches, before backwardRecent changes
 * any grad, so a refused pass leaves them as they were. Run only when some value was assigned
 * while the list held ops: the usual loop (forward, backward, update) never pays for it.
 */
function checkRecent(root: Value): void {
  const stamp = nextVisitStamp();
  const { list, length } = recentOps();
  let i = length - 1;
  while (list[i] !== root) i--;
  root.visitStamp = stamp;
  for (; i >= 0; i--) {
    const v = list[i]!;
    if (v.visitStamp !== stamp) continue;
    const a = v.first!;
    const b = v.second ?? a;
    checkReads(v, a, b);
    a.visitStamp = stamp;
    b.visitStamp = stamp;
  }
}

/**
 * Backward from `roots` by searching the graph with the engine's topological sort (iterative,
 * first parent first, so the order is deterministic): every non-leaf value they reach gets its
 * grad zeroed, then the chain rule runs over the order reversed. The roots get grad `seed`, or,
 * with `keepGrads`, keep the gradient they already hold.
 */
function backwardSearched(roots: Value[], keepGrads: boolean, seed: number): void {
  const kept = roots.map((r) => (keepGrads ? r.grad : seed));
  const order = topoSort(roots);
  if (anyAssigned) {
    for (const v of order) if ((v.cell & OP_MASK) !== 0) checkReads(v, v.first!, v.second ?? v.first!);
  }
  for (const v of order) if ((v.cell & OP_MASK) !== 0) v.block[(v.cell >> OP_BITS) + GRAD] = 0;
  roots.forEach((r, i) => (r.grad += kept[i]!));
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i]!;
    if ((v.cell & OP_MASK) === 0) continue;
    const a = v.first!;
    const b = v.second ?? a;
    applyRule(v, a, b);
  }
}
