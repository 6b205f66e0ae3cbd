import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { expectTensor, type Tensor } from '../tensor.js';
import { permute, reshape } from './shape.js';
import { primitive } from '../engine/dispatch.js';

function factor(op: string, r: number): void {
  if (!Number.isInteger(r) || r < 1) throw new ArgumentError(`${op}: the factor must be a positive integer, got ${String(r)}`);
}

/**
 * Rearranges [*, c·r², h, w] into [*, c, h·r, w·r] (PyTorch's F.pixel_shuffle): out[.., k, i·r + a,
 * j·r + b] = x[.., k·r² + a·r + b, i, j]. A reshape and a permutation, so its gradient is `pixelUnshuffle`.
 * @throws ShapeError for fewer than 3 axes or channels not divisible by r²; ArgumentError for r < 1.
 * @example pixelShuffle(x, 2) // [1, 8, 3, 3] -> [1, 2, 6, 6]
 */
export const pixelShuffle = primitive('pixelShuffle', { kind: 'layout', rule: 'pool' }, function (input: Tensor, upscaleFactor: number): Tensor {
  const x = expectTensor('pixelShuffle', 'input', input);
  factor('pixelShuffle', upscaleFactor);
  const r = upscaleFactor;
  if (x.ndim < 3 || x.shape[x.ndim - 3]! % (r * r) !== 0) {
    throw new ShapeError(`pixelShuffle: input ${formatShape(x.shape)} must be [*, c·${r * r}, h, w] for factor ${r}`);
  }
  const lead = x.shape.slice(0, x.ndim - 3);
  const [c, h, w] = x.shape.slice(x.ndim - 3) as [number, number, number];
  const b = lead.reduce((a, v) => a * v, 1);
  const y = permute(reshape(x, [b, c / (r * r), r, r, h, w]), [0, 1, 4, 2, 5, 3]);
  return reshape(y, [...lead, c / (r * r), h * r, w * r]);
});

/**
 * The inverse of `pixelShuffle` (PyTorch's F.pixel_unshuffle): [*, c, h·r, w·r] to [*, c·r², h, w].
 * @throws ShapeError for fewer than 3 axes or h, w not divisible by r; ArgumentError for r < 1.
 * @example pixelUnshuffle(x, 2) // [1, 2, 6, 6] -> [1, 8, 3, 3]
 */
export const pixelUnshuffle = primitive('pixelUnshuffle', { kind: 'layout', rule: 'pool' }, function (input: Tensor, downscaleFactor: number): Tensor {
  const x = expectTensor('pixelUnshuffle', 'input', input);
  factor('pixelUnshuffle', downscaleFactor);
  const r = downscaleFactor;
  if (x.ndim < 3 || x.shape[x.ndim - 2]! % r !== 0 || x.shape[x.ndim - 1]! % r !== 0) {
    throw new ShapeError(`pixelUnshuffle: input ${formatShape(x.shape)} must be [*, c, h·${r}, w·${r}] for factor ${r}`);
  }
  const lead = x.shape.slice(0, x.ndim - 3);
  const [c, h, w] = x.shape.slice(x.ndim - 3) as [number, number, number];
  const b = lead.reduce((a, v) => a * v, 1);
  const y = permute(reshape(x, [b, c, h / r, r, w / r, r]), [0, 1, 3, 5, 2, 4]);
  return reshape(y, [...lead, c * r * r, h / r, w / r]);
});
