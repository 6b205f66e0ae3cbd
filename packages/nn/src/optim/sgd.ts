import { axpby, axpy, type FloatArray, type FloatTensor, type Tensor } from '@chainrule/autograd';
import { rules, type OptionSchema } from './options.js';
import {
  Optimizer, bufferLike, check, definedOnly, exportBuffer, importOptionalBuffer,
  type BaseOptions, type ParamGroup, type ParamState, type ParamsInput,
} from './optimizer.js';

/** Options of `SGD` (PyTorch's defaults). */
export interface SGDOptions extends BaseOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

interface SGDState {
  momentumBuffer: FloatArray | null;
}

const DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
const SCHEMA: OptionSchema = {
  lr: rules.nonNegative, momentum: rules.nonNegative, dampening: rules.finite, weightDecay: rules.nonNegative, nesterov: rules.boolean, maximize: rules.boolean,
};

/**
 * Stochastic gradient descent with optional momentum, as torch.optim.SGD:
 * g ← ±∇ + λθ; b ← g on the first step, else μb + (1 - τ)g; g ← g + μb (Nesterov) or b; θ ← θ - γg.
 * With maximize the gradient is negated before weight decay is added, as PyTorch's code does (its
 * docs flip the sign at the update instead, which would turn decay into growth). State per
 * parameter: `momentumBuffer` (only with momentum).
 * @throws ArgumentError (from the constructor or `addParamGroup`) if lr, momentum or weightDecay
 * is negative or not finite, dampening is not finite, or nesterov is set without momentum > 0 and
 * dampening 0.
 * @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  /**
   * An optimiser of `params` (tensors, or parameter groups with their own options); options not
   * given take PyTorch's defaults.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super('SGD', params, { ...DEFAULTS, ...definedOnly(options) }, SCHEMA);
  }

  protected validate(o: SGDOptions): void {
    if (o.nesterov) {
      check('SGD', o.momentum > 0 && o.dampening === 0, 'nesterov momentum needs momentum > 0 and dampening 0', `momentum ${o.momentum}, dampening ${o.dampening}`);
    }
  }

  protected update(param: FloatTensor, grad: FloatArray, group: ParamGroup<SGDOptions>): void {
    const { lr, momentum: mu, dampening, weightDecay: wd, nesterov, maximize } = group;
    const x = param.data;
    const n = x.length;
    if (mu === 0 && wd === 0 && !maximize) {
      // The plain step, the common case and the hot loop of a training step: autograd's axpy,
      // vectorised for long arrays, with the bits of x[i] - lr·g[i].
      axpy(x, -lr, grad);
      return;
    }
    if (mu === 0) {
      for (let i = 0; i < n; i++) {
        let d = maximize ? -grad[i]! : grad[i]!;
        if (wd !== 0) d += wd * x[i]!;
        x[i] = x[i]! - lr * d;
      }
      return;
    }
    const state = this.stateOf(param, () => ({ momentumBuffer: null }));
    const first = state.momentumBuffer === null;
    const buf = (state.momentumBuffer ??= bufferLike(param));
    if (!first && wd === 0 && !nesterov) {
      // The usual momentum step as two vector passes (the same arithmetic as the loop below):
      // b ← μ·b + (1 - τ)·(±g), then θ ← θ - γ·b.
      axpby(buf, (1 - dampening) * (maximize ? -1 : 1), grad, mu);
      axpy(x, -lr, buf);
      return;
    }
    for (let i = 0; i < n; i++) {
      let d = maximize ? -grad[i]! : grad[i]!;
      if (wd !== 0) d += wd * x[i]!;
      // The first step seeds the buffer with the gradient itself (no dampening), as PyTorch.
      buf[i] = first ? d : mu * buf[i]! + (1 - dampening) * d;
      // The buffer as stored (rounded to float32 for float32 parameters), as PyTorch steps with it.
      const b = buf[i]!;
      d = nesterov ? d + mu * b : b;
      x[i] = x[i]! - lr * d;
    }
  }

  protected exportState(s: SGDState): ParamState {
    const out: ParamState = {};
    exportBuffer(out, 'momentumBuffer', s.momentumBuffer);
    return out;
  }

  protected importState(plain: ParamState, param: Tensor): SGDState {
    return { momentumBuffer: importOptionalBuffer(plain, 'momentumBuffer', param) };
  }
}
