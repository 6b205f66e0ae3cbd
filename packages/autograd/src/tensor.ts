import { allocate, dtypeOfStorage, isFloatDType, type DType, type FloatArray, type FloatDType, type TensorData } from './dtype.js';
import { ArgumentError, DTypeError, GraphError, ShapeError } from './errors.js';
import { checkShape, formatShape, shapesEqual, sizeOf, type Shape } from './shape.js';
import { tensorText } from './format.js';
import type { Vertex } from './engine/topo-sort.js';
import { backward as runBackward, backwardInto, type BackwardOptions } from './engine/backward.js';
// NOTE: tensor.ts, creation.ts, engine/backward.ts and the ops import one another; the cycle
// works because none of them builds a tensor or calls an op at load time (see ops/README.md).
import * as binary from './ops/binary.js';
import * as unary from './ops/unary.js';
import * as reduce from './ops/reduce.js';
import * as shapeOps from './ops/shape.js';
import * as compare from './ops/compare.js';
import { matmul } from './ops/matmul.js';
import * as linalg from './ops/linalg.js';
import { softmax, logSoftmax } from './ops/softmax.js';
import { toDtype } from './ops/cast.js';
import { gather } from './ops/gather.js';
import * as indexing from './ops/indexing.js';
import type { NestedBooleans } from './creation.js';
import * as rearrange from './ops/rearrange.js';
import * as diagonals from './ops/diagonal.js';
import * as scans from './ops/scan.js';
import { addmm, baddbmm, bmm, outer, type AddmmOptions } from './ops/products.js';
import { norm } from './ops/norms.js';
import { nanmean, nanquantile, nanstd, nansum, nanvar, quantile, type QuantileOptions } from './ops/statistics.js';
import { lerp } from './ops/lerp.js';
import * as order from './ops/order.js';
import * as sampling from './ops/sampling.js';
import { isGradEnabled } from './engine/grad-mode.js';
import { captureCreationSite, checkFinite, checksForward, isAnomalyEnabled } from './engine/anomaly.js';
import { versionOf, writeCount } from './engine/versions.js';
import { markFresh } from './engine/fresh-grads.js';
import { pinStorage } from './storage-pool.js';
import { disposeTensor } from './dispose.js';
import { isDisposed } from './engine/disposed.js';
import { markTainted, sharedTensor, tainting, untaint } from './engine/trace-access.js';
import { attachTangents, forwardActive, type Dual, type JvpDeclaration } from './engine/forward.js';

/**
 * A vector-Jacobian product: the gradient of the output in, one gradient per input out (null
 * where none). It also receives the output and the op's inputs (as recorded), so that an op
 * family's VJP can be one function made once rather than a closure over each call's tensors.
 */
export type VJP = (grad: Tensor, output: Tensor, inputs: readonly Tensor[]) => readonly (Tensor | null)[];

/**
 * A tensor whose values a VJP reads: an input by index, `'output'` (the op's result), or another
 * tensor the VJP closes over.
 */
export type SavedRef = number | 'output' | Tensor;

/** How `makeOutput` records an op, besides its data and VJP. */
export interface OutputOptions {
  /**
   * Whose `data` is: 'new' (allocated for this output, the default) or 'shared' (an input's, as
   * a reshape view, or a caller's). Only new storage may become a leaf's `.grad` without a copy
   * (engine/fresh-grads.ts), so that is declared here, once per op, not in each VJP.
   */
  storage?: 'new' | 'shared';
  /**
   * For each input, the tensors whose values (not only shapes) the VJP reads to compute that
   * input's gradient: `[[1], [0]]` for `x·y`. The versions of those needed by the inputs that
   * require grad are recorded now, and backward refuses to run the VJP once one of them has
   * been modified in place since (see `incrementVersion`), as PyTorch's saved tensors.
   * Default: every input and the output, right for any VJP.
   */
  saves?: readonly (readonly SavedRef[])[];
  /**
   * The op's Jacobian-vector product, for forward mode (`jvp`): a rule from the inputs' tangents
   * (null where none) and the output to the output's tangent, or 'elementwise' for a one-input op
   * with a diagonal Jacobian (its VJP applied to the tangent). Without one, a tangent reaching the
   * op is an error naming it. Not needed for ops whose outputs are never differentiable.
   */
  jvp?: JvpDeclaration;
}

/** The record of the op that produced a tensor: its name, inputs and vector-Jacobian product. */
export interface GradNode {
  /** The op's name ('matmul', 'add', a custom op's name), as errors and `toDot` show it. */
  readonly op: string;
  /** The op's tensor inputs, in argument order. */
  readonly inputs: readonly Tensor[];
  /** Null once backward has freed the graph (unless it was told to retain it). */
  vjp: VJP | null;
  /** Where the op was created; recorded in anomaly mode only. */
  readonly site: string | undefined;
  /** What the VJP reads: an input by index, the output, or another tensor it closes over. */
  readonly saves: readonly SavedRef[];
  /**
   * How many in-place writes the library had made when the op ran (see engine/versions.ts):
   * backward refuses the VJP if a storage in `saves` was written after that.
   */
  readonly writesBefore: number;
  /**
   * The order in which ops were recorded: each recorded op's number is larger than every earlier
   * one's. `checkpoint` tells the ops of its segment from the tensors it closes over by it.
   */
  readonly serial: number;
}

/** A gradient hook: sees the gradient flowing into a tensor and may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void;

/** What `registerHook` returns. */
export interface HookHandle {
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void;
}

/** A Tensor or a plain number (taken as a 0-d tensor of the other operand's dtype). */
export type TensorLike = Tensor | number;

/** Reduction options. */
export interface ReduceOptions {
  /** The axis or axes to reduce (negative counts from the end); all axes when left out. */
  axis?: number | readonly number[];
  /** Keep each reduced axis as size 1, so the result broadcasts against the input (default false). */
  keepdims?: boolean;
}

const NO_PARENTS: readonly Tensor[] = [];

// NOTE: Symbol.for gives Node's util.inspect hook without importing anything from Node, so the
// entry stays browser-safe. Declared before the class, whose computed method name reads it.
const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * An n-d array of float32 or float64 numbers in contiguous row-major storage, recording the
 * ops applied to it so gradients can flow back. Build one with `tensor`, `zeros`, `randn`...
 *
 * Methods follow PyTorch's names and semantics, NumPy broadcasting included. Errors follow one
 * rule, named after the op with every shape and dtype involved: a ShapeError for shapes that
 * do not broadcast or align, or an axis, index or size out of range; a DTypeError for operands
 * of different dtypes (float32 with float64 is never promoted, unlike PyTorch); a GraphError for
 * misuse of the graph (backward through a freed graph, a non-scalar backward without a
 * gradient); an ArgumentError for an argument of the wrong kind. The inputs are left unchanged.
 * Where chainrule differs from PyTorch (copies instead of views, comparisons as 0/1 tensors,
 * population variance by default) is listed in the package README.
 *
 * @example const x = tensor([[1, 2], [3, 4]], { requiresGrad: true }); x.square().sum().backward(); x.grad
 */
export class Tensor implements Vertex {
  /**
   * The elements, row-major: a Float32Array, Float64Array, Int32Array, or for bool a Uint8Array
   * of 0s and 1s. Writing to it changes the tensor in place (as optimisers do).
   */
  readonly data: TensorData;
  /** Dimension sizes, outermost first; `[]` for a 0-d tensor. Never modify it. */
  readonly shape: Shape;
  /** 'float32', 'float64', 'int32' or 'bool', from the storage array. */
  readonly dtype: DType;
  private gradValue: Tensor | null = null;
  /** The op that produced this tensor, or null for a leaf. */
  readonly gradFn: GradNode | null;
  /** @internal */ visitStamp = 0;
  /** @internal gradient being summed during a backward pass */ pendingGrad: Tensor | null = null;
  /** @internal the backward pass for which this tensor is a fresh gradient (engine/fresh-grads.ts) */ freshStamp = 0;
  /** @internal */ hooks: GradHook[] | null = null;
  /** @internal */ retainsGrad = false;
  /** @internal tangents at forward-mode levels (engine/forward.ts), newest first */ duals: Dual | null = null;
  private requires: boolean;

  /**
   * Wraps `data` (taken as is, not copied) as a tensor of `shape`. Most code wants `tensor()`.
   * @example new Tensor(new Float64Array([1, 2, 3]), [3])
   */
  constructor(data: TensorData, shape: Shape, options?: { requiresGrad?: boolean; gradFn?: GradNode | null }) {
    // Every op output passes here: one loop checks the shape and sizes it, and the messages are
    // built apart (constructionError), so the common path stays small enough to inline.
    const dtype = dtypeOfStorage(data);
    if (dtype === undefined || !Array.isArray(shape) || data.length !== checkedSize(shape)) throw constructionError(data, shape);
    this.data = data;
    this.shape = shape;
    this.dtype = dtype;
    // No default options object: most tensors are op outputs built without one.
    const gradFn = options === undefined ? null : (options.gradFn ?? null);
    this.gradFn = gradFn;
    this.requires = gradFn !== null || (options?.requiresGrad ?? false);
    if (this.requires && !isFloatDType(dtype)) throw noGradError('Tensor', dtype, shape);
    if (tainting) markTainted(this);
  }

  /**
   * Accumulated gradient (leaves, and non-leaves that called `retainGrad`); null until a backward
   * reaches the tensor. Assignable (an optimiser's `zeroGrad` sets null; a hand-made gradient),
   * with PyTorch's checks: the gradient must have this tensor's shape and dtype.
   */
  get grad(): Tensor | null {
    return this.gradValue;
  }

  /**
   * @throws ArgumentError for a value that is neither a Tensor nor null.
   * @throws ShapeError or DTypeError for a gradient of another shape or dtype, naming both
   * (PyTorch: "assigned grad has data of a different size/type").
   */
  set grad(value: Tensor | null) {
    if (value !== null) checkAssignedGrad(this, value);
    this.gradValue = value;
  }

  /** Whether gradients flow to this tensor. Settable on leaves only, as in PyTorch. */
  get requiresGrad(): boolean {
    return this.requires;
  }

  /**
   * @throws GraphError on a non-leaf tensor (an op's output), whichever the value, as PyTorch's
   * setter: its flag follows its inputs. `detach()` gives a leaf with its values.
   * @throws ArgumentError for a value that is not a boolean.
   * @throws DTypeError when turning them on for an int32 or bool tensor.
   */
  set requiresGrad(value: boolean) {
    this.setRequiresGrad('requiresGrad', value);
  }

  /**
   * Sets `requiresGrad` in place and returns this tensor, as PyTorch's `requires_grad_`:
   * `x = randn([3]).requiresGrad_()`. On a non-leaf tensor, `true` changes nothing (it already
   * requires grad) and `false` is an error.
   * @throws GraphError when turning gradients off on a non-leaf tensor (`detach()` it instead).
   * @example const w = randn([3, 2], { seed: 0 }).mul(0.1).detach().requiresGrad_()
   */
  requiresGrad_(value = true): this {
    if (this.gradFn !== null && value === true) return this;
    this.setRequiresGrad('requiresGrad_', value);
    return this;
  }

  private setRequiresGrad(op: string, value: unknown): void {
    if (typeof value !== 'boolean') throw new ArgumentError(`${op}: expected a boolean, got ${describe(value)}`);
    if (value && !isFloatDType(this.dtype)) throw noGradError(op, this.dtype, this.shape);
    if (this.gradFn !== null) {
      const what = `the output of '${this.gradFn.op}', shape ${formatShape(this.shape)}`;
      throw new GraphError(
        value
          ? `${op}: only leaf tensors' requiresGrad can be set; this tensor (${what}) already requires grad through its inputs. For a new leaf with its values, use t.detach().requiresGrad_()`
          : `${op}: only leaf tensors' requiresGrad can be set; this tensor is ${what}. To use its values without gradients, detach() it first: t.detach()`,
      );
    }
    this.requires = value;
  }

  /**
   * How many in-place writes the library has made into this tensor's storage (PyTorch's
   * `_version`): optimiser steps, `loadStateDict`, `axpy`, `adamUpdate`, `incrementVersion`.
   * Backward compares it with the version an op saw, and refuses a gradient computed from
   * values changed since. Tensors sharing storage (reshape, detach) share it.
   */
  get version(): number {
    return versionOf(this.data);
  }

  /** True when the tensor was not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The tensors this one was computed from (none for a leaf). */
  get parents(): readonly Tensor[] {
    return this.gradFn === null ? NO_PARENTS : this.gradFn.inputs;
  }

  /** @internal number of graph parents, for the topological sort */
  get arity(): number {
    return this.gradFn === null ? 0 : this.gradFn.inputs.length;
  }

  /** @internal */
  parentAt(i: number): Tensor {
    return this.gradFn!.inputs[i]!;
  }

  /** Number of dimensions (0 for a scalar tensor). */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The value of a one-element tensor. @example tensor([[3]]).item() === 3 */
  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(`item: only a one-element tensor converts to a number, got shape ${formatShape(this.shape)}`);
    }
    return this.data[0]!;
  }

  /** Nested arrays of numbers (a number for a 0-d tensor). @example tensor([1, 2]).toArray() // [1, 2] */
  toArray(): NestedArray {
    if (this.shape.length === 0) return this.data[0]!;
    const build = (dim: number, offset: number, stride: number): NestedArray[] => {
      const n = this.shape[dim]!;
      const inner = stride / n;
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = dim === this.shape.length - 1 ? this.data[offset + i]! : build(dim + 1, offset + i * inner, inner);
      }
      return out;
    };
    return build(0, 0, this.data.length);
  }

  /** A tensor sharing no graph with this one (same storage): gradients stop here. */
  detach(): Tensor {
    return sharedTensor(this, (data) => new Tensor(data, this.shape));
  }

  /** A copy with its own storage, still connected to the graph. */
  clone(): Tensor {
    return unary.identity(this);
  }

  /**
   * Declares this tensor unused from now on, so its storage can serve the next tensor of the same
   * size at once (freed memory otherwise waits for a garbage collection; see the package README,
   * "Memory"). Afterwards reading `.data` or `.grad`, or passing it to an op, throws a GraphError
   * naming the op; shape and dtype stay readable, and disposing twice does nothing. A backward
   * through an op that saved this tensor for its gradient refuses to run, naming the op (dispose
   * such tensors after backward). The storage is reused only when nothing else can reach it: not
   * when it is shared with a view or a `detach()` or in place as some tensor's `.grad` (then the
   * tensor is only marked), nor inside jit or vmap. NOTE: a typed array read from `.data` before
   * must not be used after.
   * @example const y = gather(x, 1, index); use(y.data); y.dispose()
   */
  dispose(): void {
    disposeTensor(this);
  }

  /**
   * Keeps `.grad` on this non-leaf tensor after backward, as leaves do (on a leaf it changes
   * nothing). The gradient kept is the one after this tensor's hooks, in whatever order they were
   * registered (PyTorch 2's rule).
   * @throws GraphError on a tensor that does not require grad, as PyTorch's `retain_grad`: it can
   * have no gradient to keep (under `noGrad`, or computed from constants).
   */
  retainGrad(): this {
    if (!this.requires) {
      throw new GraphError(`retainGrad: the tensor (shape ${formatShape(this.shape)}, ${this.dtype}) does not require grad, so it can have no gradient to keep; was it computed under noGrad, or from tensors that do not require grad?`);
    }
    if (this.gradFn !== null) this.retainsGrad = true;
    return this;
  }

  /**
   * Calls `hook(grad)` whenever the gradient with respect to this tensor is computed; a returned
   * tensor replaces the gradient. @example x.registerHook(g => g.clamp(-1, 1))
   */
  registerHook(hook: GradHook): HookHandle {
    if (!this.requires) {
      throw new GraphError(`registerHook: cannot register a hook on a tensor that does not require grad (shape ${formatShape(this.shape)})`);
    }
    (this.hooks ??= []).push(hook);
    return {
      remove: () => {
        const i = this.hooks?.indexOf(hook) ?? -1;
        if (i >= 0) this.hooks!.splice(i, 1);
      },
    };
  }

  /**
   * Backpropagates from this tensor, accumulating into `.grad` of every leaf that requires it.
   * The seed is the gradient of the final result with respect to this tensor: implied 1 for a
   * one-element tensor, a number for a one-element tensor (`loss.backward(5)` scales every
   * gradient by 5, as PyTorch), or a Tensor of this shape and dtype.
   * Throws a GraphError naming the op when a tensor its gradient needs was modified in place
   * after the forward (see `version`).
   * @example loss.backward(); loss.backward({ createGraph: true }); y.backward(ones(y.shape))
   */
  backward(gradientOrOptions?: Tensor | number | BackwardOptions, options: BackwardOptions = {}): void {
    let seed: Tensor | undefined;
    if (typeof gradientOrOptions === 'number') {
      if (this.size !== 1) {
        throw new GraphError(
          `backward: a number seed (${gradientOrOptions}) needs a one-element output, got shape ${formatShape(this.shape)}; pass a Tensor of that shape`,
        );
      }
      seed = new Tensor(allocate(this.dtype, 1).fill(gradientOrOptions), this.shape);
    } else if (gradientOrOptions instanceof Tensor) {
      seed = gradientOrOptions;
    } else if (gradientOrOptions !== undefined) {
      options = gradientOrOptions;
    }
    const inputs = checkBackwardOptions(options);
    if (inputs === undefined) runBackward([this], seed === undefined ? undefined : [seed], { retainGraph: options.retainGraph, createGraph: options.createGraph });
    else backwardInto([this], seed === undefined ? undefined : [seed], inputs, options);
  }

  /** The same data as another dtype (a copy; gradients flow back through the cast). */
  toDtype(dtype: DType): Tensor {
    return toDtype(this, dtype);
  }

  // Binary ops (NumPy broadcasting; numbers are taken as 0-d tensors of this dtype).
  /** Elementwise `this + other`. */ add(other: TensorLike): Tensor { return binary.add(this, other); }
  /** Elementwise `this - other`. */ sub(other: TensorLike): Tensor { return binary.sub(this, other); }
  /** Elementwise `this * other`. */ mul(other: TensorLike): Tensor { return binary.mul(this, other); }
  /** Elementwise `this / other`. */ div(other: TensorLike): Tensor { return binary.div(this, other); }
  /** Elementwise `this ** exponent`. */ pow(exponent: TensorLike): Tensor { return binary.pow(this, exponent); }
  /** Elementwise `atan2(this, other)`, the angle of (other, this). */ atan2(other: TensorLike): Tensor { return binary.atan2(this, other); }
  /** Elementwise `√(this² + other²)`, without overflow. */ hypot(other: TensorLike): Tensor { return binary.hypot(this, other); }
  /** Elementwise `log(e^this + e^other)`, without overflow. */ logaddexp(other: TensorLike): Tensor { return binary.logaddexp(this, other); }
  /** Elementwise `this·log(other)`, 0 where this is 0. */ xlogy(other: TensorLike): Tensor { return binary.xlogy(this, other); }
  /** Elementwise magnitude of this with the sign of other. */ copysign(other: TensorLike): Tensor { return binary.copysign(this, other); }
  /** Elementwise C fmod, with the sign of this (the dividend). */ fmod(other: TensorLike): Tensor { return binary.fmod(this, other); }
  /** Elementwise Python-style modulo, with the sign of other (the divisor). */ remainder(other: TensorLike): Tensor { return binary.remainder(this, other); }
  /** Elementwise maximum; ties split the gradient evenly. */ maximum(other: TensorLike): Tensor { return binary.maximum(this, other); }
  /** Elementwise minimum; ties split the gradient evenly. */ minimum(other: TensorLike): Tensor { return binary.minimum(this, other); }

  // Unary ops.
  /** `-this`. */ neg(): Tensor { return unary.neg(this); }
  /** `e^this`. */ exp(): Tensor { return unary.exp(this); }
  /** `e^this - 1`, accurate near 0. */ expm1(): Tensor { return unary.expm1(this); }
  /** Natural logarithm. */ log(): Tensor { return unary.log(this); }
  /** `log(1 + this)`, accurate near 0. */ log1p(): Tensor { return unary.log1p(this); }
  /** Square root. */ sqrt(): Tensor { return unary.sqrt(this); }
  /** Absolute value (gradient 0 at 0). */ abs(): Tensor { return unary.abs(this); }
  /** Hyperbolic tangent. */ tanh(): Tensor { return unary.tanh(this); }
  /** Logistic sigmoid `1 / (1 + e^-x)`. */ sigmoid(): Tensor { return unary.sigmoid(this); }
  /** `max(x, 0)` (gradient 0 at 0). */ relu(): Tensor { return unary.relu(this); }
  /** `x` where positive, `slope·x` elsewhere. */ leakyRelu(slope = 0.01): Tensor { return unary.leakyRelu(this, slope); }
  /** GELU: `x·Φ(x)` (erf form), or its tanh approximation with `{ approximate: 'tanh' }`. */ gelu(options?: unary.GeluOptions): Tensor { return unary.gelu(this, options); }
  /** SiLU (swish): `x·σ(x)`. */ silu(): Tensor { return unary.silu(this); }
  /** `log(1 + e^(beta·x)) / beta` (beta 1 by default), stable for large |x|. */ softplus(options?: { beta?: number }): Tensor { return unary.softplus(this, options); }
  /** Sine. */ sin(): Tensor { return unary.sin(this); }
  /** Cosine. */ cos(): Tensor { return unary.cos(this); }
  /** Error function. */ erf(): Tensor { return unary.erf(this); }
  /** Limits to `[min, max]` (numbers or tensors); gradient flows to x where min ≤ x ≤ max, to a tensor bound where it was chosen. */ clamp(min?: TensorLike, max?: TensorLike): Tensor { return unary.clamp(this, min, max); }
  /** `x²`. */ square(): Tensor { return unary.square(this); }
  /** `1 / x`. */ reciprocal(): Tensor { return unary.reciprocal(this); }
  /** Tangent. */ tan(): Tensor { return unary.tan(this); }
  /** Inverse sine. */ asin(): Tensor { return unary.asin(this); }
  /** Inverse cosine. */ acos(): Tensor { return unary.acos(this); }
  /** Inverse tangent. */ atan(): Tensor { return unary.atan(this); }
  /** Hyperbolic sine. */ sinh(): Tensor { return unary.sinh(this); }
  /** Hyperbolic cosine. */ cosh(): Tensor { return unary.cosh(this); }
  /** Inverse hyperbolic sine. */ asinh(): Tensor { return unary.asinh(this); }
  /** Inverse hyperbolic cosine (x ≥ 1). */ acosh(): Tensor { return unary.acosh(this); }
  /** Inverse hyperbolic tangent. */ atanh(): Tensor { return unary.atanh(this); }
  /** `2^this`. */ exp2(): Tensor { return unary.exp2(this); }
  /** Base-2 logarithm. */ log2(): Tensor { return unary.log2(this); }
  /** Base-10 logarithm. */ log10(): Tensor { return unary.log10(this); }
  /** Mish: `x·tanh(softplus(x))`. */ mish(): Tensor { return unary.mish(this); }
  /** ELU: `x` where positive, `alpha·(e^x - 1)` elsewhere. */ elu(options: { alpha?: number } = {}): Tensor { return unary.elu(this, options); }
  /** SELU: `scale·elu(x, alpha)` with PyTorch's constants. */ selu(): Tensor { return unary.selu(this); }
  /** CELU: `x` where positive, `alpha·(e^(x/alpha) - 1)` elsewhere. */ celu(options: { alpha?: number } = {}): Tensor { return unary.celu(this, options); }
  /** HardTanh: limited to `[minVal, maxVal]` (default [-1, 1]); gradient 0 at the bounds. */ hardtanh(options: { minVal?: number; maxVal?: number } = {}): Tensor { return unary.hardtanh(this, options); }
  /** ReLU6: limited to `[0, 6]`; gradient 0 at 0 and 6. */ relu6(): Tensor { return unary.relu6(this); }
  /** HardSigmoid: `min(max(x + 3, 0), 6) / 6`. */ hardsigmoid(): Tensor { return unary.hardsigmoid(this); }
  /** HardSwish: `x·min(max(x + 3, 0), 6) / 6`. */ hardswish(): Tensor { return unary.hardswish(this); }
  /** `log σ(x)`, stable for large |x|. */ logsigmoid(): Tensor { return unary.logsigmoid(this); }
  /** Softsign: `x / (1 + |x|)`. */ softsign(): Tensor { return unary.softsign(this); }
  /** Tanhshrink: `x - tanh(x)`. */ tanhshrink(): Tensor { return unary.tanhshrink(this); }
  /** The largest integer not above x; zero gradient. */ floor(): Tensor { return unary.floor(this); }
  /** The smallest integer not below x; zero gradient. */ ceil(): Tensor { return unary.ceil(this); }
  /** x rounded to the nearest integer (or `decimals` places), halves to even, as torch.round; zero gradient. */ round(options?: { decimals?: number }): Tensor { return unary.round(this, options); }
  /** x rounded toward zero; zero gradient. */ trunc(): Tensor { return unary.trunc(this); }
  /** `x - trunc(x)`; gradient 1. */ frac(): Tensor { return unary.frac(this); }
  /** -1, 0 or 1 (no gradient). */ sign(): Tensor { return unary.sign(this); }

  // Reductions.
  /** Sum over `axis` (all axes by default). */ sum(axis?: number | readonly number[], keepdims = false): Tensor { return reduce.sum(this, axis, keepdims); }
  /** Mean over `axis`. */ mean(axis?: number | readonly number[], keepdims = false): Tensor { return reduce.mean(this, axis, keepdims); }
  /** Maximum over `axis`; ties share the gradient evenly. */ max(axis?: number | readonly number[], keepdims = false): Tensor { return reduce.max(this, axis, keepdims); }
  /** Minimum over `axis`; ties share the gradient evenly. */ min(axis?: number | readonly number[], keepdims = false): Tensor { return reduce.min(this, axis, keepdims); }
  /** Product over `axis`. */ prod(axis?: number | readonly number[], keepdims = false): Tensor { return reduce.prod(this, axis, keepdims); }
  /** `log(sum(exp(x)))` over `axis`, stable for large inputs. */ logsumexp(axis?: number | readonly number[], keepdims = false): Tensor { return reduce.logsumexp(this, axis, keepdims); }
  /** Variance over `axis`; `correction` 0 (population, the default) or 1 (sample). */
  var(axis?: number | readonly number[], options: { keepdims?: boolean; correction?: number } = {}): Tensor { return reduce.variance(this, axis, options); }
  /** Standard deviation over `axis`; options as `var`. */
  std(axis?: number | readonly number[], options: { keepdims?: boolean; correction?: number } = {}): Tensor { return reduce.std(this, axis, options); }

  // Linear algebra.
  /** Matrix product with NumPy's `matmul` rules (1-D, 2-D and broadcast batches). */ matmul(other: Tensor): Tensor { return matmul(this, other); }
  /** Determinant of each square matrix (last two axes), as `linalg.det`. */ det(): Tensor { return linalg.det(this); }
  /** Matrix exponential of each square matrix, as `linalg.matrix_exp`. */ matrixExp(): Tensor { return linalg.matrixExp(this); }
  /** Integer power of each square matrix (negative through the inverse). */ matrixPower(k: number): Tensor { return linalg.matrixPower(this, k); }

  // Shape ops.
  /** Same elements, new shape; one dimension may be -1. */ reshape(...shape: number[] | [readonly number[]]): Tensor { return shapeOps.reshape(this, flatShape(shape)); }
  /** Swaps two axes (the last two by default). */ transpose(axis0 = -2, axis1 = -1): Tensor { return shapeOps.transpose(this, axis0, axis1); }
  /** Reorders axes: `x.permute(2, 0, 1)`. */ permute(...axes: number[] | [readonly number[]]): Tensor { return shapeOps.permute(this, flatShape(axes)); }
  /** Elements `start` to `end` (exclusive) along `axis`, every `step`-th; negative bounds count from the end. */
  slice(axis: number, start: number, end?: number, step = 1): Tensor { return shapeOps.slice(this, axis, start, end, step); }
  /** `length` elements from `start` along `axis` (PyTorch's narrow: start may be negative; no clipping). */
  narrow(axis: number, start: number, length: number): Tensor { return shapeOps.narrow(this, axis, start, length); }
  /** Broadcasts to a larger shape; -1 keeps a dimension. */ expand(...shape: number[] | [readonly number[]]): Tensor { return shapeOps.expand(this, flatShape(shape)); }
  /** Removes size-1 axes (all of them, or the given one). */ squeeze(axis?: number): Tensor { return shapeOps.squeeze(this, axis); }
  /** Inserts a size-1 axis at `axis`. */ unsqueeze(axis: number): Tensor { return shapeOps.unsqueeze(this, axis); }
  /** Axes startDim..endDim merged into one (all by default: 1-D), as `torch.flatten`. */ flatten(startDim = 0, endDim = -1): Tensor { return shapeOps.flatten(this, startDim, endDim); }
  /** Picks elements along `axis` at integer `index` (same rank as this), as `torch.gather`. */
  gather(axis: number, index: Tensor | NestedArray): Tensor { return gather(this, axis, index); }

  // Indexing and scatter: integer indices are int32 tensors or nested arrays, masks bool tensors.
  /** Elements at flat positions `index`, shaped as the index (`torch.take`). */ take(index: Tensor | NestedArray): Tensor { return indexing.take(this, index); }
  /** Slices at `index` (0-d or 1-D) along `axis` (`torch.index_select`). */ indexSelect(axis: number, index: Tensor | NestedArray): Tensor { return indexing.indexSelect(this, axis, index); }
  /** `this[idx]`: slices of the leading axis by integer indices, or where a bool mask over the leading axes is true. */ index(idx: Tensor | NestedArray | NestedBooleans): Tensor { return indexing.index(this, idx); }
  /** This with src written at `index` along `axis`; the last write wins among repeats (`torch.scatter`). */
  scatter(axis: number, index: Tensor | NestedArray, src: Tensor | number, options: indexing.ScatterOptions = {}): Tensor { return indexing.scatter(this, axis, index, src, options); }
  /** This with src added at `index` along `axis`; repeats sum (`torch.scatter_add`). */ scatterAdd(axis: number, index: Tensor | NestedArray, src: Tensor): Tensor { return indexing.scatterAdd(this, axis, index, src); }
  /** This with alpha·src's slices added at `index` along `axis` (`torch.index_add`). */
  indexAdd(axis: number, index: Tensor | NestedArray, src: Tensor, options: indexing.IndexAddOptions = {}): Tensor { return indexing.indexAdd(this, axis, index, src, options); }
  /** This with `value` where the bool `mask` is true; no gradient there (`torch.masked_fill`). */ maskedFill(mask: Tensor, value: number | Tensor): Tensor { return indexing.maskedFill(this, mask, value); }
  /** The elements where the bool `mask` is true, 1-D (`torch.masked_select`). */ maskedSelect(mask: Tensor): Tensor { return indexing.maskedSelect(this, mask); }
  /** Coordinates of the non-zero elements, int32 [n, ndim] (`torch.nonzero`). */ nonzero(): Tensor { return indexing.nonzero(this); }

  // Rearrangements, diagonals and scans (PyTorch's names and argument order).
  /** Reverses the order along each axis in `dims`. */ flip(dims: number | readonly number[]): Tensor { return rearrange.flip(this, dims); }
  /** Shifts elements along `dims` by `shifts`, wrapping around (flattened without dims). */
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor { return rearrange.roll(this, shifts, dims); }
  /** Pads the last axes by (before, after) pairs, last axis first, as `F.pad`. */
  pad(padding: readonly number[], options: rearrange.PadOptions = {}): Tensor { return rearrange.pad(this, padding, options); }
  /** Tiles `repeats[d]` times along each axis (PyTorch's `Tensor.repeat`). */ repeat(...repeats: number[] | [readonly number[]]): Tensor { return rearrange.repeat(this, flatShape(repeats)); }
  /** Tiles `reps[d]` times along each axis, leading 1s implied (`torch.tile`). */ tile(...reps: number[] | [readonly number[]]): Tensor { return rearrange.tile(this, flatShape(reps)); }
  /** Repeats each element along `dim` (flattened without dim). */
  repeatInterleave(repeats?: number | readonly number[] | Tensor, dim?: number): Tensor { return rearrange.repeatInterleave(this, repeats, dim); }
  /** Moves axes `source` to positions `destination`. */
  movedim(source: number | readonly number[], destination: number | readonly number[]): Tensor { return rearrange.movedim(this, source, destination); }
  /** Pieces of `splitSize` along `dim`, or of the sizes listed. */ split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] { return shapeOps.split(this, splitSizeOrSections, dim); }
  /** `chunks` pieces of ceil(n / chunks) along `dim` (fewer if they run out). */ chunk(chunks: number, dim = 0): Tensor[] { return shapeOps.chunk(this, chunks, dim); }
  /** The slices along `dim`, each without that axis. */ unbind(dim = 0): Tensor[] { return shapeOps.unbind(this, dim); }
  /** Lower triangle of the last two axes (column - row <= diagonal), zeros above. */ tril(diagonal = 0): Tensor { return diagonals.tril(this, diagonal); }
  /** Upper triangle of the last two axes (column - row >= diagonal), zeros below. */ triu(diagonal = 0): Tensor { return diagonals.triu(this, diagonal); }
  /** 1-D: the matrix with it on diagonal `offset`; 2-D: its diagonal `offset`. */ diag(offset = 0): Tensor { return diagonals.diag(this, offset); }
  /** Diagonal `offset` of the matrices over axes dim1, dim2, as a new last axis. */
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor { return diagonals.diagonal(this, offset, dim1, dim2); }
  /** Matrices (over result axes dim1, dim2) with the last axis on diagonal `offset`. */
  diagEmbed(offset = 0, dim1 = -2, dim2 = -1): Tensor { return diagonals.diagEmbed(this, offset, dim1, dim2); }
  /** Sum of the main diagonal of a 2-D tensor. */ trace(): Tensor { return diagonals.trace(this); }
  /** Running sum along `dim`. */ cumsum(dim: number): Tensor { return scans.cumsum(this, dim); }
  /** Running product along `dim` (gradient exact through zeros). */ cumprod(dim: number): Tensor { return scans.cumprod(this, dim); }
  /** Running log-sum-exp along `dim`, stable. */ logcumsumexp(dim: number): Tensor { return scans.logcumsumexp(this, dim); }
  /** Running maximum along `dim` with its int32 indices. */ cummax(dim: number): scans.ValuesAndIndices { return scans.cummax(this, dim); }
  /** Running minimum along `dim` with its int32 indices. */ cummin(dim: number): scans.ValuesAndIndices { return scans.cummin(this, dim); }
  // Contractions, norms, statistics, lerp and nanToNum.
  /** Outer product with another 1-D tensor. */ outer(vec2: Tensor): Tensor { return outer(this, vec2); }
  /** Batched matrix product of 3-D tensors with one batch size. */ bmm(mat2: Tensor): Tensor { return bmm(this, mat2); }
  /** `beta·this + alpha·(mat1·mat2)`. */ addmm(mat1: Tensor, mat2: Tensor, options: AddmmOptions = {}): Tensor { return addmm(this, mat1, mat2, options); }
  /** `beta·this + alpha·bmm(batch1, batch2)`. */ baddbmm(batch1: Tensor, batch2: Tensor, options: AddmmOptions = {}): Tensor { return baddbmm(this, batch1, batch2, options); }
  /** Vector p-norm over `axis` (all by default), 'fro' or 'nuc'; gradient 0 at the zero vector. */
  norm(p: number | 'fro' | 'nuc' = 'fro', axis?: number | readonly number[], keepdims = false): Tensor { return norm(this, p, axis, keepdims); }
  /** Sum over `axis`, NaN taken as 0. */ nansum(axis?: number | readonly number[], keepdims = false): Tensor { return nansum(this, axis, keepdims); }
  /** Mean of the non-NaN elements over `axis`. */ nanmean(axis?: number | readonly number[], keepdims = false): Tensor { return nanmean(this, axis, keepdims); }
  /** Variance of the non-NaN elements over `axis`; options as `var`. */
  nanvar(axis?: number | readonly number[], options: { keepdims?: boolean; correction?: number } = {}): Tensor { return nanvar(this, axis, options); }
  /** Standard deviation of the non-NaN elements over `axis`; options as `var`. */
  nanstd(axis?: number | readonly number[], options: { keepdims?: boolean; correction?: number } = {}): Tensor { return nanstd(this, axis, options); }
  /** The q-th quantiles along `axis` (of all elements when undefined). */
  quantile(q: number | Tensor, axis?: number, options: QuantileOptions = {}): Tensor { return quantile(this, q, axis, options); }
  /** The q-th quantiles along `axis`, ignoring NaN. */
  nanquantile(q: number | Tensor, axis?: number, options: QuantileOptions = {}): Tensor { return nanquantile(this, q, axis, options); }
  /** `this + weight·(end - this)`. */ lerp(end: Tensor, weight: TensorLike): Tensor { return lerp(this, end, weight); }
  /** NaN, +Inf and -Inf replaced (by default 0 and the dtype's extremes). */
  nanToNum(options: { nan?: number; posinf?: number; neginf?: number } = {}): Tensor { return unary.nanToNum(this, options); }
  // Selection and order: int32 indices; values gathered from this tensor, so their gradient goes to the selected places.
  /** Position (int32) of the maximum along `axis` (all elements by default); first on ties, NaN wins. */ argmax(axis?: number, keepdims = false): Tensor { return order.argmax(this, axis, keepdims); }
  /** Position (int32) of the minimum along `axis` (all elements by default); first on ties, NaN wins. */ argmin(axis?: number, keepdims = false): Tensor { return order.argmin(this, axis, keepdims); }
  /** Maximum along `axis` with its position (`torch.max(x, dim)`); the gradient goes to that position. */ maxWithIndices(axis: number, keepdims = false): order.ValuesIndices { return order.maxWithIndices(this, axis, keepdims); }
  /** Minimum along `axis` with its position (`torch.min(x, dim)`); the gradient goes to that position. */ minWithIndices(axis: number, keepdims = false): order.ValuesIndices { return order.minWithIndices(this, axis, keepdims); }
  /** Stable sort along `axis` (the last by default); NaN last ascending, first descending. */ sort(axis = -1, options: order.SortOptions = {}): order.ValuesIndices { return order.sort(this, axis, options); }
  /** The positions (int32) that sort this along `axis`. */ argsort(axis = -1, options: order.SortOptions = {}): Tensor { return order.argsort(this, axis, options); }
  /** The k largest (or smallest) elements along `axis` and their positions. */ topk(k: number, axis = -1, options: order.TopkOptions = {}): order.ValuesIndices { return order.topk(this, k, axis, options); }
  /** The k-th smallest element (k from 1) along `axis` and its position. */ kthvalue(k: number, axis = -1, keepdims = false): order.ValuesIndices { return order.kthvalue(this, k, axis, keepdims); }
  /** The lower median of all elements (0-d), or along `axis` with positions. */
  median(): Tensor;
  median(axis: number, keepdims?: boolean): order.ValuesIndices;
  median(axis?: number, keepdims = false): Tensor | order.ValuesIndices { return axis === undefined ? order.median(this) : order.median(this, axis, keepdims); }
  /** Counts (int32) of each value 0..max of this 1-D int32 tensor, or sums of `weights`. */ bincount(options: order.BincountOptions = {}): Tensor { return order.bincount(this, options); }

  // Random draws with this tensor as the distribution's parameters.
  /** 1 with probability this (elementwise, in [0, 1]), else 0; this tensor's shape and float dtype. */ bernoulli(options: sampling.SampleOptions = {}): Tensor { return sampling.bernoulli(this, options); }
  /** Category indices (int32) drawn from the rows of this 1-D or 2-D tensor of probabilities. */ multinomial(numSamples: number, options: sampling.MultinomialOptions = {}): Tensor { return sampling.multinomial(this, numSamples, options); }

  /** Softmax along `axis` (the last by default). */ softmax(axis = -1): Tensor { return softmax(this, axis); }
  /** Log of softmax along `axis`, computed stably. */ logSoftmax(axis = -1): Tensor { return logSoftmax(this, axis); }

  // Comparisons: bool tensors, never requiring grad.
  /** True where equal. */ eq(other: TensorLike): Tensor { return compare.eq(this, other); }
  /** True where not equal. */ ne(other: TensorLike): Tensor { return compare.ne(this, other); }
  /** True where greater. */ gt(other: TensorLike): Tensor { return compare.gt(this, other); }
  /** True where greater or equal. */ ge(other: TensorLike): Tensor { return compare.ge(this, other); }
  /** True where less. */ lt(other: TensorLike): Tensor { return compare.lt(this, other); }
  /** True where less or equal. */ le(other: TensorLike): Tensor { return compare.le(this, other); }

  // Logic and classification: bool tensors, never requiring grad.
  /** True where both this and other are non-zero. */ logicalAnd(other: TensorLike): Tensor { return compare.logicalAnd(this, other); }
  /** True where this or other is non-zero. */ logicalOr(other: TensorLike): Tensor { return compare.logicalOr(this, other); }
  /** True where exactly one of this and other is non-zero. */ logicalXor(other: TensorLike): Tensor { return compare.logicalXor(this, other); }
  /** True where this is zero. */ logicalNot(): Tensor { return compare.logicalNot(this); }
  /** Whether any element over `axis` (all by default) is non-zero. */ any(axis?: number | readonly number[], keepdims = false): Tensor { return compare.any(this, axis, keepdims); }
  /** Whether every element over `axis` (all by default) is non-zero. */ all(axis?: number | readonly number[], keepdims = false): Tensor { return compare.all(this, axis, keepdims); }
  /** True where NaN. */ isNan(): Tensor { return unary.isNan(this); }
  /** True where ±Infinity. */ isInf(): Tensor { return unary.isInf(this); }
  /** True where finite. */ isFinite(): Tensor { return unary.isFinite(this); }

  /**
   * A readable form: dtype, shape and gradFn, then the elements with one row per line and
   * aligned columns; more than 1000 elements are summarised. `formatTensor` takes options.
   * @example String(tensor([[1, 2], [3, 4]])) // 'Tensor(float32 [2,2])\n[[1, 2],\n [3, 4]]'
   */
  toString(): string {
    if (isDisposed(this)) return `Tensor(${this.dtype} ${formatShape(this.shape)}, disposed)`;
    return tensorText({ dtype: this.dtype, shape: this.shape, op: this.gradFn?.op ?? null, requiresGrad: this.requires }, this.data);
  }

  /** What Node's console.log, its REPL and notebook kernels print: the readable form, not the fields. */
  [inspectSymbol](): string {
    return this.toString();
  }
}

/** Nested arrays of numbers: what `toArray` returns and `tensor` accepts. */
export type NestedArray = number | NestedArray[];

/** The element count of `shape`, or -1 where a dimension is not a non-negative integer. */
function checkedSize(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (!Number.isInteger(d) || d < 0) return -1;
    n *= d;
  }
  return n;
}

/** Why `new Tensor(data, shape)` refuses its arguments: the storage, then the shape, then the count. */
function constructionError(data: unknown, shape: unknown): Error {
  const dtype = dtypeOfStorage(data);
  if (dtype === undefined) {
    return new DTypeError(
      `Tensor: storage must be a Float32Array, Float64Array, Int32Array (int32) or Uint8Array (bool), got ${describe(data)}; tensor(values, { shape }) converts other arrays`,
    );
  }
  if (!Array.isArray(shape)) return new ShapeError(`Tensor: shape must be an array of dimensions, got ${describe(shape)}`);
  const dims = shape as Shape;
  checkShape('Tensor', dims);
  return new ShapeError(`Tensor: data holds ${(data as TensorData).length} elements but shape ${formatShape(dims)} needs ${sizeOf(dims)}`);
}

/** Only floating-point tensors carry gradients, as in PyTorch. */
export function noGradError(op: string, dtype: DType, shape: Shape): DTypeError {
  return new DTypeError(
    `${op}: only float32 and float64 tensors can require gradients, got a tensor of dtype ${dtype} and shape ${formatShape(shape)}; convert it with toDtype('float32') first`,
  );
}

/** A float32 or float64 tensor: what `isFloat` narrows to, so its storage reads as a FloatArray. */
export interface FloatTensor extends Tensor {
  readonly data: FloatArray;
  readonly dtype: FloatDType;
}

/** Whether `t` is float32 or float64. @example if (isFloat(t)) t.data // a FloatArray */
export function isFloat(t: Tensor): t is FloatTensor {
  return isFloatDType(t.dtype);
}

/** The options checked; the `inputs` list, if given. */
function checkBackwardOptions(options: unknown): Tensor[] | undefined {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(`backward: options must be an object such as { retainGraph: true }, got ${describe(options)}`);
  }
  let inputs: Tensor[] | undefined;
  for (const [key, value] of Object.entries(options)) {
    if (key === 'inputs') {
      if (value === undefined) continue;
      const list: unknown[] = value instanceof Tensor ? [value] : Array.isArray(value) ? value : [value];
      if (list.length === 0) throw new ArgumentError('backward: inputs cannot be empty (leave the option out to accumulate into every leaf)');
      list.forEach((t, i) => {
        if (!(t instanceof Tensor)) throw new ArgumentError(`backward: inputs[${i}] must be a Tensor, got ${describe(t)}`);
        if (!t.requiresGrad) throw new GraphError(`backward: inputs[${i}] (shape ${formatShape(t.shape)}, ${t.dtype}) does not require grad, so it can have no gradient`);
      });
      inputs = list as Tensor[];
      continue;
    }
    if (key !== 'retainGraph' && key !== 'createGraph') {
      throw new ArgumentError(`backward: unknown option '${key}' (the options are retainGraph, createGraph and inputs)`);
    }
    if (value !== undefined && typeof value !== 'boolean') {
      throw new ArgumentError(`backward: ${key} must be a boolean, got ${describe(value)}`);
    }
  }
  return inputs;
}

function flatShape(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

/** How `makeOutput` records an op, besides its data and VJP. */
export interface OutputOptions {
  /**
   * Whose `data` is: 'new' (allocated for this output, the default) or 'shared' (an input's, as
   * a reshape view, or a caller's). Only new storage may become a leaf's `.grad` without a copy
   * (engine/fresh-grads.ts), so that is declared here, once per op, not in each VJP.
   */
  storage?: 'new' | 'shared';
}

/**
 * Builds an op's output tensor and, when gradients are being recorded and an input requires
 * them, the graph node with its VJP and the versions of the tensors the VJP reads
 * (`options.saves`). Every op returns through here.
 */
export function makeOutput(op: string, data: TensorData, shape: Shape, inputs: readonly Tensor[], vjp: VJP, options?: OutputOptions): Tensor {
  let record = false;
  if (isGradEnabled()) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i]!.requiresGrad) {
        record = true;
        break;
      }
    }
  }
  const site = isAnomalyEnabled() ? captureCreationSite() : undefined;
  if (site !== undefined && checksForward()) checkFinite(op, 'forward', data, site);
  let out: Tensor;
  const shared = options !== undefined && options.storage === 'shared';
  // Storage a view shares is reachable from two tensors: neither may give it back (storage-pool.ts).
  if (shared) pinStorage(data);
  if (!record) {
    out = new Tensor(data, shape);
    if (!shared) markFresh(out);
  } else {
    const saves = options?.saves === undefined ? allSaved(inputs) : savedFor(inputs, options.saves);
    // Only the write count is recorded, no per-tensor version: a forward looks nothing up, and
    // backward compares each saved storage's last write with this count.
    out = new Tensor(data, shape, { gradFn: { op, inputs, vjp, site, saves, writesBefore: writeCount(), serial: ++recordedOps } });
  }
  // Forward mode costs this one check while no jvp is running.
  if (forwardActive()) attachTangents(op, inputs, out, options?.jvp, vjp);
  return out;
}

let recordedOps = 0;

/**
 * Whether `makeOutput` would only wrap the data for an op of these inputs: no graph node (grad
 * mode off, or no input requiring grad), no tangent, no anomaly check. An op may then return
 * `constant(data, shape)` without building the VJP makeOutput would drop: every op inside a VJP
 * takes this path.
 */
export function recordsNothing(x: Tensor, y?: Tensor): boolean {
  return !forwardActive() && !isAnomalyEnabled() && (!isGradEnabled() || (!x.requiresGrad && (y === undefined || !y.requiresGrad)));
}

/** The serial number of the last op recorded (see `GradNode.serial`). */
export function lastSerial(): number {
  return recordedOps;
}

const NOTHING_SAVED: readonly never[] = [];

/** What the gradients of the inputs that require grad read, each tensor once. */
function savedFor(inputs: readonly Tensor[], reads: readonly (readonly SavedRef[])[]): readonly SavedRef[] {
  // The usual case, one input wanting a gradient: its list as declared, nothing allocated.
  let wanting = -1;
  for (let i = 0; i < inputs.length; i++) {
    if (!inputs[i]!.requiresGrad) continue;
    if (wanting >= 0) {
      wanting = -2;
      break;
    }
    wanting = i;
  }
  if (wanting >= 0) return reads[wanting] ?? NOTHING_SAVED;
  let refs: SavedRef[] | null = null;
  for (let i = 0; i < inputs.length; i++) {
    if (!inputs[i]!.requiresGrad) continue;
    const list = reads[i];
    if (list === undefined) continue;
    for (let k = 0; k < list.length; k++) {
      const ref = list[k]!;
      if (refs === null) refs = [ref];
      else if (!refs.includes(ref)) refs.push(ref);
    }
  }
  return refs ?? NOTHING_SAVED;
}

/** Every input and the output: what a VJP nobody has described may read. */
function allSaved(inputs: readonly Tensor[]): SavedRef[] {
  const refs: SavedRef[] = inputs.map((_, i) => i);
  refs.push('output');
  return refs;
}

/** A tensor with no graph, of storage just allocated for it: for op results that never carry gradients. */
export function constant(data: TensorData, shape: Shape): Tensor {
  const out = new Tensor(data, shape);
  markFresh(out);
  return out;
}

/** The shape of every 0-d tensor `scalarTensor` makes: one array, as shapes are never written. */
const SCALAR_SHAPE: Shape = [];

/** A 0-d tensor of `dtype` holding `value`. */
export function scalarTensor(value: number, dtype: DType): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  // A number operand made a tensor: a trace may hold it as a constant (engine/trace-access.ts).
  return untaint(new Tensor(data, SCALAR_SHAPE));
}

/**
 * Checks an argument of a floating-point op is a Tensor, converting an int32 or bool one to
 * float32 (PyTorch's default dtype), as `torch.exp` of an integer tensor gives float32.
 */
export function floatInput(op: string, name: string, value: unknown): FloatTensor {
  const t = expectTensor(op, name, value);
  return isFloat(t) ? t : (toDtype(t, 'float32') as FloatTensor);
}

/**
 * A tensor a float kernel is about to read, narrowed to FloatTensor: for tensors that are float
 * by construction (a gradient, an op's own float output), so another dtype is a bug, named here.
 */
export function expectFloat(op: string, t: Tensor): FloatTensor {
  if (isFloat(t)) return t;
  throw new DTypeError(`${op}: expected a float32 or float64 tensor, got ${t.dtype} of shape ${formatShape(t.shape)}`);
}

/** Checks an argument is a Tensor, naming the op and the argument when not. */
export function expectTensor(op: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) {
    throw new ArgumentError(`${op}: ${name} must be a Tensor, got ${describe(value)}`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value;
}

/** A gradient assigned to `t.grad`, checked as PyTorch checks it; the messages are built here, off the common path. */
function checkAssignedGrad(t: Tensor, g: unknown): void {
  if (!(g instanceof Tensor)) throw new ArgumentError(`Tensor.grad: a gradient must be a Tensor or null, got ${describe(g)}`);
  if (g.dtype !== t.dtype) {
    throw new DTypeError(`Tensor.grad: the gradient's dtype ${g.dtype} (shape ${formatShape(g.shape)}) differs from the tensor's ${t.dtype} (shape ${formatShape(t.shape)})`);
  }
  if (!shapesEqual(g.shape, t.shape)) {
    throw new ShapeError(`Tensor.grad: the gradient's shape ${formatShape(g.shape)} differs from the tensor's ${formatShape(t.shape)} (${t.dtype})`);
  }
}
