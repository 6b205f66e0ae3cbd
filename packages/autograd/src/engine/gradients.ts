import { ArgumentError, GraphError } from '../errors.js';
import { formatShape } from '../shape.js';
import { zerosLike } from '../creation.js';
import type { Tensor } from '../tensor.js';
import { backward } from './backward.js';

/** Options of `gradients`. */
export interface GradientsOptions {
  /** Gradients of the final result with respect to each output; needed for non-scalar outputs. */
  gradOutputs?: readonly Tensor[];
  /** Keep the graph for another backward pass through it (default false; true under createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass so the returned gradients can be differentiated again. */
  createGraph?: boolean;
  /** Return zeros for an input the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * The gradients of `outputs` with respect to `inputs`, returned rather than accumulated into
 * `.grad` (PyTorch's `torch.autograd.grad`). The building block of the functional transforms.
 * @throws GraphError if an input does not require grad, an output does not depend on an input
 * (unless `allowUnused`), a non-scalar output has no gradOutput, or the graph was freed.
 * @throws ArgumentError if gradOutputs and outputs differ in number, or an option is unknown or
 * not a boolean (retainGraph, createGraph, allowUnused).
 * @throws ShapeError if a gradOutput's shape differs from its output's.
 * @example const [dx] = gradients([y], [x], { createGraph: true })
 */
export function gradients(outputs: readonly Tensor[], inputs: readonly Tensor[], options: GradientsOptions = {}): Tensor[] {
  checkOptions(options);
  const { gradOutputs, retainGraph = false, createGraph = false, allowUnused = false } = options;
  inputs.forEach((t, i) => {
    if (!t.requiresGrad) {
      throw new GraphError(`gradients: input ${i} (shape ${formatShape(t.shape)}) does not require grad`);
    }
  });
  if (gradOutputs !== undefined && gradOutputs.length !== outputs.length) {
    throw new ArgumentError(`gradients: got ${gradOutputs.length} gradOutputs for ${outputs.length} outputs`);
  }
  const result = backward(outputs, gradOutputs, { retainGraph: retainGraph || createGraph, createGraph, inputs });
  return result.map((g, i) => {
    if (g !== null) return g;
    if (!allowUnused) {
      throw new GraphError(
        `gradients: the outputs do not depend on input ${i} (shape ${formatShape(inputs[i]!.shape)}); pass { allowUnused: true } to get zeros`,
      );
    }
    return zerosLike(inputs[i]!);
  });
}

const KNOWN = ['gradOutputs', 'retainGraph', 'createGraph', 'allowUnused'];

/** A misspelt option (`allow_unused`, `materializeGrads`) is an error rather than a default silently kept. */
function checkOptions(options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(`gradients: options must be an object such as { createGraph: true }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const [key, value] of Object.entries(options)) {
    if (!KNOWN.includes(key)) throw new ArgumentError(`gradients: unknown option '${key}' (the options are ${KNOWN.join(', ')})`);
    if (key !== 'gradOutputs' && value !== undefined && typeof value !== 'boolean') {
      throw new ArgumentError(`gradients: ${key} must be a boolean, got ${typeof value}`);
    }
  }
}
