import { describe, expect, test } from 'vitest';
import * as A from '@chainrule/autograd';
import { grad, jit, Tensor, TraceError } from '@chainrule/autograd';

// jit(grad(f)) op by op: the compiled gradient, replayed on other values than the traced ones,
// gives grad(f)'s bits; or, for an op whose gradient keeps values from its forward outside any
// op (or reads values outside one), tracing refuses with a TraceError. Never a stale gradient.

const CASES: [string, (v: Tensor) => Tensor][] = [
  ['max', (v) => v.max()], ['min', (v) => v.min(1)], ['prod', (v) => v.prod()], ['logsumexp', (v) => v.logsumexp(1)],
  ['variance', (v) => A.variance(v)], ['std', (v) => A.std(v, 1)], ['softmax', (v) => A.softmax(v, 1)], ['logSoftmax', (v) => A.logSoftmax(v, 1)],
  ['clamp', (v) => v.clamp(-0.3, 0.3)], ['leakyRelu', (v) => A.leakyRelu(v, 0.1)], ['gelu', (v) => A.gelu(v)], ['elu', (v) => A.elu(v)],
  ['hardtanh', (v) => A.hardtanh(v)], ['relu6', (v) => A.relu6(v)], ['abs', (v) => v.abs()], ['norm', (v) => A.norm(v)],
  ['cumsum', (v) => A.cumsum(v, 1)], ['cumprod', (v) => A.cumprod(v, 1)], ['sort', (v) => A.sort(v, 1).values], ['topk', (v) => A.topk(v, 2).values],
  ['gather', (v) => A.gather(v, 1, A.tensor([[0], [2]], { dtype: 'int32' }))], ['index_select', (v) => A.indexSelect(v, 1, A.tensor([2, 0], { dtype: 'int32' }))],
  ['slice', (v) => A.slice(v, 1, 0, 2)], ['transpose', (v) => v.transpose(0, 1)], ['pad', (v) => A.pad(v, [1, 1])], ['flip', (v) => A.flip(v, 1)],
  ['where', (v) => A.where(v.gt(0), v, v.mul(2))], ['crossEntropy', (v) => A.crossEntropy(v, A.tensor([0, 2], { dtype: 'int32' }))],
  ['linear', (v) => A.linear(v, A.tensor([[1, 2, 3]], { dtype: 'float64' }), null as unknown as undefined)], ['einsum', (v) => A.einsum('ij,ij->i', v, v)],
  ['cholesky', (v) => A.cholesky(A.matmul(v, v.transpose(0, 1)).add(A.eye(2, 2, { dtype: 'float64' })))], ['det', (v) => A.det(A.matmul(v, v.transpose(0, 1)))],
  ['lerp', (v) => A.lerp(v, v.mul(2), 0.3)], ['maskedFill', (v) => A.maskedFill(v, v.gt(0.5), 0)], ['expand', (v) => v.sum(0, true).expand([4, 3])],
  ['mean', (v) => v.mean(0)], ['median', (v) => A.median(v)], ['maximum', (v) => v.maximum(v.flip([1]))], ['kthvalue', (v) => A.kthvalue(v, 2, 1).values], ['quantile', (v) => A.quantile(v, 0.5)], ['conv1d', (v) => A.conv1d(v.unsqueeze(0), A.ones([1, 2, 2], { dtype: 'float64' }))],
  ['maxPool1d', (v) => A.maxPool1d(v.unsqueeze(0), 2)], ['normalize', (v) => A.normalize(v)], ['cdist', (v) => A.cdist(v, v.add(1))],
];

// The ops whose gradients cannot be traced yet: their VJPs read values outside ops, or keep a
// mask or index their forward computed.
const REFUSED = new Set([
  'prod', 'cumsum', 'cumprod', 'sort', 'topk', 'gather', 'index_select', 'pad', 'flip', 'crossEntropy', 'det', 'median',
  'maximum', 'kthvalue', 'quantile', 'conv1d', 'maxPool1d', 'normalize', 'cdist', 'cholesky',
]);

describe('jit(grad(f)) for each op, replayed on other values', () => {
  const x = A.tensor([[0.3, -0.5, 0.7], [0.2, 0.9, -0.4]], { dtype: 'float64' });
  // Other values, other signs, another maximum: what a stale program would get wrong.
  const x2 = A.tensor([[-0.6, 0.8, 0.1], [1.3, -0.2, 0.45]], { dtype: 'float64' });
  test.each(CASES)('%s', (name, f) => {
    const loss = (v: Tensor): Tensor => f(v).square().sum();
    const jf = jit(grad(loss));
    if (REFUSED.has(name)) {
      expect(() => jf(x)).toThrow(TraceError);
      return;
    }
    jf(x);
    const expected = grad(loss)(x2);
    const actual = jf(x2);
    expect(actual.shape).toEqual(expected.shape);
    for (let i = 0; i < expected.size; i++) {
      if (!Object.is(actual.data[i], expected.data[i])) throw new Error(`${name}: element ${i}: jit ${actual.data[i]}, eager ${expected.data[i]}`);
    }
  });
});
