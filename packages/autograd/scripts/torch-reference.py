#!/usr/bin/env python3
"""PyTorch reference values for chainrule's ops. Elementwise ops ('entries'): each op's forward in
float64 and float32, and its gradients in float64 for a fixed upstream gradient, at chosen points
(kinks, poles, signed zeros and infinities included), checked against the Tensor method of the
same name. Shaped ops ('shaped': rearrangements, diagonals, scans): one call of the chainrule
function named in the entry, on inputs of given shapes, with the outputs (one or a list) in
float64 and float32 and the float64 gradients of the inputs. test/torch-reference.test.ts
checks both kinds.

The `linalg` section holds torch.linalg cases: seeded float64 inputs, the forward of a
function of them (of the op's results, through a function that does not depend on the signs
of eigenvectors and singular vectors), and its gradients for a fixed upstream gradient.
test/torch-linalg-reference.test.ts runs the same functions, named by the case.

Selection and order ('order'): one call of the chainrule function named in the entry on given
inputs, its outputs (values, indices, counts, or a tuple of index tensors) and the float64 gradients of its float inputs;
test/torch-order-reference.test.ts checks them. Calls ('calls': contractions, norms, statistics,
lerp, nanToNum): one call each with its options, checked by test/torch-reference-calls.test.ts.

Determinant second derivatives ('detSecondOrder'): det at integer matrices of rank n, n-1, n-2
and n-3 (n = 2..5), as the second-order calls; where torch.linalg.det's second derivative is
NaN or differs from the derivative of the cofactor expansion (its exact value), the entry holds
the expansion's values and `torchGradgrads64` holds PyTorch's. test/det-second-order.test.ts.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/autograd/scripts/torch-reference.py

Writes packages/autograd/test/fixtures/torch-reference.json. NaN, infinities and -0 are written
as strings ("NaN", "Infinity", "-Infinity", "-0"), which JSON has no numbers for.
"""
import itertools
import json
import math
import os

import torch

INF = math.inf

# name -> (torch function, input points). Add an op with one line here.
UNARY = {
    'expm1': (torch.expm1, [-40.0, -3.0, -1.0, -1e-10, -0.0, 0.0, 1e-300, 1e-10, 0.5, 1.0, 3.0, 700.0, 710.0, -INF, INF]),
    'silu': (torch.nn.functional.silu, [-800.0, -40.0, -5.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 0.5, 2.0, 20.0, 800.0, -INF, INF]),
    'tan': (torch.tan, [-INF, -1.5707963267948966, -1.0, -1e-10, -0.0, 0.0, 1e-300, 0.5, 1.0, 1.5707963267948966, 1.5, 3.0, 1e10, INF, math.nan]),
    'asin': (torch.asin, [-INF, -1.5, -1.0, -0.9999999, -0.5, -1e-300, -0.0, 0.0, 1e-10, 0.5, 0.9999999, 1.0, 1.5, INF, math.nan]),
    'acos': (torch.acos, [-INF, -1.5, -1.0, -0.9999999, -0.5, -1e-300, -0.0, 0.0, 1e-10, 0.5, 0.9999999, 1.0, 1.5, INF, math.nan]),
    'atan': (torch.atan, [-INF, -1e300, -1e10, -1.0, -1e-10, -0.0, 0.0, 1e-300, 0.5, 1.0, 3.0, 1e10, INF, math.nan]),
    'sinh': (torch.sinh, [-INF, -711.0, -709.0, -20.0, -1.0, -1e-10, -0.0, 0.0, 1e-300, 0.5, 1.0, 20.0, 709.0, 711.0, INF, math.nan]),
    'cosh': (torch.cosh, [-INF, -711.0, -709.0, -20.0, -1.0, -1e-10, -0.0, 0.0, 1e-300, 0.5, 1.0, 20.0, 709.0, 711.0, INF, math.nan]),
    'asinh': (torch.asinh, [-INF, -1e300, -1e10, -1.0, -1e-10, -0.0, 0.0, 1e-300, 0.5, 1.0, 3.0, 1e10, 1e300, INF, math.nan]),
    'acosh': (torch.acosh, [-INF, -1.0, 0.0, 0.5, 0.9999999, 1.0, 1.0000001, 1.5, 2.0, 10.0, 1e10, 1e300, INF, math.nan]),
    'atanh': (torch.atanh, [-INF, -1.5, -1.0, -0.9999999, -0.5, -1e-10, -0.0, 0.0, 1e-300, 0.5, 0.9999999, 1.0, 1.5, INF, math.nan]),
    'exp2': (torch.exp2, [-INF, -1075.0, -1074.0, -1022.5, -10.0, -1.0, -1e-10, -0.0, 0.0, 0.5, 1.0, 10.0, 1023.0, 1024.0, INF, math.nan]),
    'log2': (torch.log2, [-INF, -1.0, -0.0, 0.0, 5e-324, 1e-300, 0.5, 1.0, 2.0, 3.0, 1024.0, 1e300, INF, math.nan]),
    'log10': (torch.log10, [-INF, -1.0, -0.0, 0.0, 5e-324, 1e-300, 0.5, 1.0, 10.0, 100.0, 1000.0, 3.0, 1e300, INF, math.nan]),
    'mish': (torch.nn.functional.mish, [-INF, -800.0, -40.0, -5.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 0.5, 2.0, 20.0, 800.0, INF, math.nan]),
    'elu': (torch.nn.functional.elu, [-INF, -800.0, -40.0, -5.0, -1.0, -0.0, 0.0, 1e-8, 0.5, 2.0, 800.0, INF, math.nan]),
    'selu': (torch.nn.functional.selu, [-INF, -800.0, -40.0, -5.0, -1.0, -0.0, 0.0, 1e-8, 0.5, 2.0, 800.0, INF, math.nan]),
    'celu': (torch.nn.functional.celu, [-INF, -800.0, -40.0, -5.0, -1.0, -0.0, 0.0, 1e-8, 0.5, 2.0, 800.0, INF, math.nan]),
    'hardtanh': (torch.nn.functional.hardtanh, [-INF, -2.0, -1.0, -0.999, -0.0, 0.0, 0.5, 0.999, 1.0, 1.001, 2.0, INF, math.nan]),
    'relu6': (torch.nn.functional.relu6, [-INF, -1.0, -0.0, 0.0, 1e-300, 3.0, 5.999, 6.0, 6.5, INF, math.nan]),
    # Kinks and saturation only: inside (-3, 3) PyTorch 1.13 scales the float64 gradient by float32's 1/6.
    'hardsigmoid': (torch.nn.functional.hardsigmoid, [-INF, -4.0, -3.0, 3.0, 4.0, INF, math.nan]),
    'hardswish': (torch.nn.functional.hardswish, [-INF, -4.0, -3.0, -2.999, -1.0, -0.0, 0.0, 1.0, 2.999, 3.0, 4.0, INF, math.nan]),
    'logsigmoid': (torch.nn.functional.logsigmoid, [-INF, -800.0, -40.0, -5.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 0.5, 2.0, 20.0, 40.0, 800.0, INF, math.nan]),
    'softsign': (torch.nn.functional.softsign, [-INF, -1e300, -5.0, -1.0, -1e-10, -0.0, 0.0, 1e-300, 0.5, 2.0, 1e300, INF, math.nan]),
    'tanhshrink': (torch.nn.functional.tanhshrink, [-INF, -20.0, -1.0, -1e-5, -0.0, 0.0, 1e-5, 0.5, 2.0, 20.0, INF, math.nan]),
    'floor': (torch.floor, [-INF, -2.5, -1.5, -0.5, -0.49999999999999994, -0.3, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7, 4503599627370495.5, 1e300, INF, math.nan]),
    'ceil': (torch.ceil, [-INF, -2.5, -1.5, -0.5, -0.49999999999999994, -0.3, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7, 4503599627370495.5, 1e300, INF, math.nan]),
    'round': (torch.round, [-INF, -2.5, -1.5, -0.5, -0.49999999999999994, -0.3, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7, 4503599627370495.5, 1e300, INF, math.nan]),
    'trunc': (torch.trunc, [-INF, -2.5, -1.5, -0.5, -0.49999999999999994, -0.3, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7, 4503599627370495.5, 1e300, INF, math.nan]),
    'frac': (torch.frac, [-INF, -2.5, -1.5, -0.5, -0.49999999999999994, -0.3, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5, 2.7, 4503599627370495.5, 1e300, INF, math.nan]),
}

# name -> (torch function, first operands, second operands), paired element by element.
BINARY = {
    'atan2': (
        torch.atan2,
        [1.0, 1.0, -1.0, -1.0, 0.0, -0.0, 0.0, -0.0, 0.0, 2.0, -3.0, 1e-300, INF, INF, -INF, 5.0],
        [1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1e300, INF, -INF, 1.0, INF],
    ),
    'hypot': (torch.hypot, [3.0, -3.0, 0.0, -0.0, 0.0, 1e300, 1e-300, 1e-320, INF, -INF, math.nan, 1.0, 2.5], [4.0, 4.0, 0.0, 0.0, -2.0, 1e300, 1e-300, 0.0, math.nan, 1.0, 1.0, math.nan, -0.5]),
    'logaddexp': (torch.logaddexp, [0.0, 1.0, -1.0, 800.0, -800.0, 1000.0, -INF, INF, -INF, INF, 3.0, math.nan, 1e-20, 30.0], [0.0, 2.0, -5.0, 800.0, -800.0, -1000.0, -INF, INF, 1.0, -INF, 40.0, 1.0, -1e-20, -30.0]),
    'xlogy': (torch.xlogy, [0.0, 0.0, 0.0, 0.0, -0.0, 2.0, 2.0, 2.0, -3.0, 0.5, math.nan, 1.0, 1e-300], [0.0, math.nan, INF, -1.0, 2.0, 0.0, INF, -1.0, 0.5, 3.0, 1.0, math.nan, 1e-300]),
    'copysign': (torch.copysign, [1.0, 1.0, -2.0, -2.0, 0.0, 0.0, -0.0, 3.0, 3.0, INF, math.nan, 5.0], [1.0, -1.0, 1.0, -1.0, -1.0, 0.0, 1.0, -0.0, 0.0, -1.0, -1.0, -INF]),
    'fmod': (torch.fmod, [5.5, -5.5, 5.5, -5.5, 0.0, -0.0, 3.0, INF, 3.0, 3.0, 1e300, math.nan, 6.0], [2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0, INF, -INF, 3.0, 1.0, 3.0]),
    'remainder': (torch.remainder, [5.5, -5.5, 5.5, -5.5, 0.0, -0.0, 3.0, INF, 3.0, 3.0, 1e300, math.nan, 6.0, -6.0], [2.0, 2.0, -2.0, -2.0, 3.0, -3.0, 0.0, 2.0, INF, -INF, 3.0, 1.0, 3.0, 3.0]),
}


F = torch.nn.functional


def grid(*ts, indexing):
    return torch.meshgrid(*ts, indexing=indexing)


# Shaped ops: (chainrule function, arguments after the input(s), PyTorch call, input shapes).
# An input shape of None marks a list argument (meshgrid): the shapes that follow are its tensors.
SHAPED = [
    ('flip', [[0, 2]], lambda x: torch.flip(x, [0, 2]), [[2, 3, 4]]),
    ('flip', [[-1]], lambda x: torch.flip(x, [-1]), [[5]]),
    ('roll', [2], lambda x: torch.roll(x, 2), [[3, 4]]),
    ('roll', [[1, -3], [0, 1]], lambda x: torch.roll(x, (1, -3), (0, 1)), [[3, 4]]),
    ('roll', [[5, 1], [1, 1]], lambda x: torch.roll(x, (5, 1), (1, 1)), [[2, 4]]),
    ('pad', [[1, 2], {'mode': 'constant', 'value': 0.5}], lambda x: F.pad(x, (1, 2), value=0.5), [[2, 3]]),
    ('pad', [[-1, 2, 1, 0]], lambda x: F.pad(x, (-1, 2, 1, 0)), [[2, 3]]),
    ('pad', [[2, 1], {'mode': 'reflect'}], lambda x: F.pad(x, (2, 1), mode='reflect'), [[2, 3, 4]]),
    ('pad', [[-2, 2], {'mode': 'reflect'}], lambda x: F.pad(x, (-2, 2), mode='reflect'), [[1, 2, 4]]),
    ('pad', [[1, 2, 2, 1], {'mode': 'reflect'}], lambda x: F.pad(x, (1, 2, 2, 1), mode='reflect'), [[1, 2, 3, 4]]),
    ('pad', [[3, 1, 0, 2], {'mode': 'replicate'}], lambda x: F.pad(x, (3, 1, 0, 2), mode='replicate'), [[1, 2, 3, 2]]),
    ('pad', [[-1, 2], {'mode': 'replicate'}], lambda x: F.pad(x, (-1, 2), mode='replicate'), [[2, 2, 3]]),
    ('pad', [[3, 2, 1, 2], {'mode': 'circular'}], lambda x: F.pad(x, (3, 2, 1, 2), mode='circular'), [[1, 2, 3, 3]]),
    ('pad', [[1, -1], {'mode': 'circular'}], lambda x: F.pad(x, (1, -1), mode='circular'), [[1, 2, 4]]),
    ('repeat', [[2, 1, 3]], lambda x: x.repeat(2, 1, 3), [[2, 3]]),
    ('tile', [[2]], lambda x: torch.tile(x, (2,)), [[2, 3]]),
    ('tile', [[2, 1, 2]], lambda x: torch.tile(x, (2, 1, 2)), [[3]]),
    ('repeatInterleave', [[1, 0, 3], 1], lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 3]), 1), [[2, 3]]),
    ('repeatInterleave', [2], lambda x: torch.repeat_interleave(x, 2), [[2, 2]]),
    ('split', [2, 1], lambda x: torch.split(x, 2, 1), [[2, 5]]),
    ('split', [[1, 3, 0]], lambda x: torch.split(x, [1, 3, 0]), [[4, 2]]),
    ('chunk', [4], lambda x: torch.chunk(x, 4), [[6]]),
    ('chunk', [2, -1], lambda x: torch.chunk(x, 2, -1), [[2, 3]]),
    ('unbind', [1], lambda x: torch.unbind(x, 1), [[2, 3]]),
    ('tril', [], torch.tril, [[3, 4]]),
    ('tril', [-1], lambda x: torch.tril(x, -1), [[2, 3, 3]]),
    ('triu', [2], lambda x: torch.triu(x, 2), [[4, 3]]),
    ('triu', [-1], lambda x: torch.triu(x, -1), [[2, 2, 4]]),
    ('diag', [], torch.diag, [[3]]),
    ('diag', [-2], lambda x: torch.diag(x, -2), [[3]]),
    ('diag', [1], lambda x: torch.diag(x, 1), [[3, 4]]),
    ('diag', [-1], lambda x: torch.diag(x, -1), [[3, 2]]),
    ('diagonal', [], torch.diagonal, [[3, 4]]),
    ('diagonal', [1, 0, 2], lambda x: torch.diagonal(x, 1, 0, 2), [[2, 3, 4]]),
    ('diagonal', [-1, -1, -3], lambda x: torch.diagonal(x, -1, -1, -3), [[3, 2, 4]]),
    ('diagEmbed', [], torch.diag_embed, [[2, 3]]),
    ('diagEmbed', [1, 0, 2], lambda x: torch.diag_embed(x, 1, 0, 2), [[2, 3]]),
    ('diagEmbed', [-2, -1, 0], lambda x: torch.diag_embed(x, -2, -1, 0), [[2, 2]]),
    ('trace', [], torch.trace, [[3, 4]]),
    ('movedim', [[0, 1], [2, 0]], lambda x: torch.movedim(x, (0, 1), (2, 0)), [[2, 3, 4]]),
    ('movedim', [-1, 0], lambda x: torch.movedim(x, -1, 0), [[2, 3, 4]]),
    ('meshgrid', [{'indexing': 'ij'}], lambda a, b, c: grid(a, b, c, indexing='ij'), [None, [2], [3], [4]]),
    ('meshgrid', [{'indexing': 'xy'}], lambda a, b, c: grid(a, b, c, indexing='xy'), [None, [2], [3], [4]]),
    ('slice', [1, 1, None, 2], lambda x: x[:, 1::2], [[2, 6]]),
    ('slice', [0, -4, -1, 3], lambda x: x[-4:-1:3], [[7, 2]]),
    ('cumsum', [1], lambda x: torch.cumsum(x, 1), [[3, 4]]),
    ('cumsum', [0], lambda x: torch.cumsum(x, 0), [[3, 4]]),
    ('cumprod', [1], lambda x: torch.cumprod(x, 1), [[3, 5]]),
    ('cumprod', [0], lambda x: torch.cumprod(x, 0), [[4, 2]]),
    ('logcumsumexp', [1], lambda x: torch.logcumsumexp(x, 1), [[3, 4]]),
    ('logcumsumexp', [0], lambda x: torch.logcumsumexp(x, 0), [[4]]),
    ('cummax', [1], lambda x: torch.cummax(x, 1), [[3, 5]]),
    ('cummax', [0], lambda x: torch.cummax(x, 0), [[6, 2]]),
    ('cummin', [-1], lambda x: torch.cummin(x, -1), [[2, 6]]),
] + [
    # Indexing: index arguments as nested lists; {'input': k} puts input k at that place in the call
    # (then the inputs are not passed first); {'tensor': ..., 'dtype': ...} is a mask or index tensor.
    ('gather', [1, [[0, 3, 3], [1, 1, 0]]], lambda x: torch.gather(x, 1, torch.tensor([[0, 3, 3], [1, 1, 0]])), [[3, 4]]),
    ('gather', [0, [[2, 0], [2, 2], [0, 1], [1, 1]]], lambda x: torch.gather(x, 0, torch.tensor([[2, 0], [2, 2], [0, 1], [1, 1]])), [[3, 2]]),
    ('scatterAdd', [{'input': 0}, 0, [[0, 2], [0, 0], [2, 1]], {'input': 1}], lambda x, s: torch.scatter_add(x, 0, torch.tensor([[0, 2], [0, 0], [2, 1]]), s), [[3, 2], [3, 2]]),
    ('scatter', [{'input': 0}, 1, [[2, 0], [1, 2]], {'input': 1}], lambda x, s: torch.scatter(x, 1, torch.tensor([[2, 0], [1, 2]]), s), [[2, 3], [2, 2]]),
    ('scatter', [1, [[2], [0]], 1.5], lambda x: torch.scatter(x, 1, torch.tensor([[2], [0]]), 1.5), [[2, 3]]),
    ('indexSelect', [1, [3, 0, 3]], lambda x: torch.index_select(x, 1, torch.tensor([3, 0, 3])), [[2, 4]]),
    ('indexAdd', [{'input': 0}, 0, [2, 0, 2], {'input': 1}, {'alpha': -1.5}], lambda x, s: torch.index_add(x, 0, torch.tensor([2, 0, 2]), s, alpha=-1.5), [[3, 2], [3, 2]]),
    ('take', [[[5, -1], [0, 5]]], lambda x: torch.take(x, torch.tensor([[5, -1], [0, 5]])), [[2, 3]]),
    ('index', [[[1, -1], [0, 1]]], lambda x: x[torch.tensor([[1, -1], [0, 1]])], [[3, 2]]),
    ('index', [{'tensor': [[True, False], [True, True]], 'dtype': 'bool'}], lambda x: x[torch.tensor([[True, False], [True, True]])], [[2, 2, 3]]),
    ('maskedFill', [{'tensor': [True, False, True], 'dtype': 'bool'}, -1e30], lambda x: x.masked_fill(torch.tensor([True, False, True]), -1e30), [[2, 3]]),
    ('maskedFill', [{'input': 0}, {'tensor': [[False, True]], 'dtype': 'bool'}, {'input': 1}], lambda x, v: torch.masked_fill(x, torch.tensor([[False, True]]), v), [[3, 2], []]),
    ('maskedSelect', [{'tensor': [[True, False, True], [False, False, True]], 'dtype': 'bool'}], lambda x: torch.masked_select(x, torch.tensor([[True, False, True], [False, False, True]])), [[3]]),
    ('embedding', [[[1, 3], [3, 0]]], lambda w: F.embedding(torch.tensor([[1, 3], [3, 0]]), w), [[4, 2]]),
    ('embedding', [[[1, 3], [3, 0]], {'paddingIdx': 3}], lambda w: F.embedding(torch.tensor([[1, 3], [3, 0]]), w, padding_idx=3), [[4, 2]]),
    ('nonzero', [], torch.nonzero, [[3, 4]]),
    ('oneHot', [{'tensor': [[0, 2], [1, 1]], 'dtype': 'int32'}, 4], lambda: F.one_hot(torch.tensor([[0, 2], [1, 1]]), 4), []),
]


def shaped_inputs(index, shapes):
    """Deterministic inputs: normal values scaled by 2; cumprod's and nonzero's also hold exact zeros."""
    g = torch.Generator().manual_seed(1000 + index)
    xs = []
    for shape in shapes:
        if shape is None:
            continue
        x = 2 * torch.randn(shape, generator=g, dtype=torch.float64)
        if SHAPED[index][0] in ('cumprod', 'nonzero'):
            flat = x.view(-1)
            flat[1] = 0.0
            flat[-2] = 0.0
            flat[len(flat) // 2] = 0.0
        if SHAPED[index][0] in ('cummax', 'cummin'):
            x = torch.round(x)  # ties: the latest index wins
        if SHAPED[index][0] == 'logcumsumexp':
            x = x * 200  # large values: only a stable implementation matches
        xs.append(x)
    return xs


def shaped_entry(index):
    name, args, fn, shapes = SHAPED[index]
    data = shaped_inputs(index, shapes)
    xs = [d.clone().requires_grad_(True) for d in data]
    ys = fn(*xs)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    # Integer outputs (indices) have no gradient: no upstream for them.
    gs = [torch.tensor(upstream(y.numel()), dtype=torch.float64).reshape(y.shape) if y.is_floating_point() else None for y in ys]
    if any(g is not None for g in gs):
        torch.autograd.backward([y for y, g in zip(ys, gs) if g is not None], [g for g in gs if g is not None])
    ys32 = fn(*[d.float() for d in data])
    ys32 = list(ys32) if isinstance(ys32, (tuple, list)) else [ys32]
    return {
        'fn': name,
        'args': args,
        'listInput': len(shapes) > 0 and shapes[0] is None,
        'inputs': [{'shape': list(d.shape), 'data': values(d.reshape(-1))} for d in data],
        'outputs': [{'shape': list(y.shape), 'forward64': values(y.reshape(-1)), 'forward32': values(y32.reshape(-1))} for y, y32 in zip(ys, ys32)],
        'upstream': [values(g.reshape(-1)) if g is not None else None for g in gs],
        'grads64': [values(x.grad.reshape(-1)) if x.grad is not None else values(torch.zeros_like(x).reshape(-1)) for x in xs],
    }


def enc(v):
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    if v == 0 and math.copysign(1.0, v) < 0:
        return '-0'
    return v


def values(t):
    return [enc(v) for v in t.detach().double().tolist()]


def upstream(n):
    # Fixed, non-trivial gradients of the result: -1, -0.5, 0.25, 1.5, 2, -1, ...
    pattern = [-1.0, -0.5, 0.25, 1.5, 2.0]
    return [pattern[i % len(pattern)] for i in range(n)]


def entry(name, fn, operands):
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in operands]
    g = torch.tensor(upstream(len(operands[0])), dtype=torch.float64)
    y = fn(*xs)
    y.backward(g)
    y32 = fn(*[torch.tensor(v, dtype=torch.float32) for v in operands])
    return {
        'name': name,
        'inputs': [values(x) for x in xs],
        'upstream': values(g),
        'forward64': values(y),
        'forward32': values(y32),
        'grads64': [values(x.grad) for x in xs],
    }


def spd(m):
    return m @ m.mT + torch.eye(m.shape[-1], dtype=m.dtype)


def well_conditioned(m):
    n = m.shape[-1]
    return m + (n + 1) * torch.eye(n, dtype=m.dtype)


def separated(m):
    """Symmetric with eigenvalues kept apart: (M + Mᵀ)/2 + diag(0, 3, 6, ...)."""
    n = m.shape[-1]
    return (m + m.mT) / 2 + torch.diag(3.0 * torch.arange(n, dtype=m.dtype))


def separated_singular(m):
    """Singular values kept apart: 0.3·M + diag(2k + 1, 2k - 1, ...) padded to M's shape."""
    r, c = m.shape[-2], m.shape[-1]
    k = min(r, c)
    d = torch.zeros(r, c, dtype=m.dtype)
    for i in range(k):
        d[i, i] = 2 * (k - i) + 1
    return 0.3 * m + d


def eigh_invariant(m):
    w, v = torch.linalg.eigh(separated(m))
    return torch.cat([w.flatten(), (v * v).flatten()])


def svd_invariant(m, full):
    u, s, vh = torch.linalg.svd(separated_singular(m), full_matrices=full)
    k = s.shape[-1]
    w = torch.arange(1, k + 1, dtype=m.dtype)
    return torch.cat([s.flatten(), ((u[..., :, :k] * w) @ vh[..., :k, :]).flatten()])


def qr_both(m, mode):
    q, r = torch.linalg.qr(separated_singular(m), mode=mode)
    return torch.cat([q.flatten(), r.flatten()])


# name -> (function of the inputs, input shapes). The test file mirrors each function by name.
LINALG = {
    'inv': (lambda a: torch.linalg.inv(well_conditioned(a)), [[2, 3, 3]]),
    'solve': (lambda a, b: torch.linalg.solve(well_conditioned(a), b), [[2, 3, 3], [2, 3, 2]]),
    'solve_vector': (lambda a, b: torch.linalg.solve(well_conditioned(a), b), [[3, 3], [3]]),
    'solve_right': (lambda a, b: torch.linalg.solve(well_conditioned(a), b, left=False), [[3, 3], [2, 3]]),
    'det': (lambda a: torch.linalg.det(2 * a), [[2, 4, 4]]),
    'slogdet': (lambda a: torch.linalg.slogdet(2 * a)[1], [[2, 3, 3]]),
    'det_singular': (lambda x, y: torch.linalg.det(x @ y), [[2, 4, 3], [2, 3, 4]]),
    'cholesky': (lambda m: torch.linalg.cholesky(spd(m)), [[2, 4, 4]]),
    'cholesky_upper': (lambda m: torch.linalg.cholesky(spd(m), upper=True), [[3, 3]]),
    'cholesky_solve': (lambda b, m: torch.cholesky_solve(b, torch.linalg.cholesky(spd(m))), [[3, 2], [3, 3]]),
    'solve_triangular_lower': (lambda a, b: torch.linalg.solve_triangular(well_conditioned(a), b, upper=False), [[2, 3, 3], [2, 3, 2]]),
    'solve_triangular_upper_right_unit': (lambda a, b: torch.linalg.solve_triangular(well_conditioned(a), b, upper=True, left=False, unitriangular=True), [[3, 3], [2, 3]]),
    'qr_tall': (lambda m: qr_both(m, 'reduced'), [[2, 4, 3]]),
    'qr_wide': (lambda m: qr_both(m, 'reduced'), [[2, 4]]),
    'qr_complete_wide': (lambda m: qr_both(m, 'complete'), [[2, 3]]),
    'eigh': (eigh_invariant, [[2, 4, 4]]),
    'svd_tall': (lambda m: svd_invariant(m, False), [[2, 4, 3]]),
    'svd_wide_full': (lambda m: svd_invariant(m, True), [[3, 5]]),
    'svdvals': (lambda m: torch.linalg.svdvals(separated_singular(m)), [[2, 3, 4]]),
    'pinv_tall': (lambda m: torch.linalg.pinv(separated_singular(m)), [[4, 2]]),
    'pinv_wide': (lambda m: torch.linalg.pinv(separated_singular(m)), [[2, 2, 3]]),
    'lstsq': (lambda a, b: torch.linalg.lstsq(separated_singular(a), b, driver='gelsd').solution, [[5, 3], [5, 2]]),
    'matrix_exp': (lambda a: torch.linalg.matrix_exp(3 * a), [[2, 3, 3]]),
    'matrix_power_3': (lambda a: torch.linalg.matrix_power(a, 3), [[3, 3]]),
    'matrix_power_neg2': (lambda a: torch.linalg.matrix_power(well_conditioned(a), -2), [[3, 3]]),
}


def linalg_entry(name, fn, shapes, seed):
    gen = torch.Generator().manual_seed(seed)
    xs = [(2 * torch.rand(s, generator=gen, dtype=torch.float64) - 1).requires_grad_() for s in shapes]
    y = fn(*xs)
    g = torch.tensor(upstream(y.numel()), dtype=torch.float64).reshape(y.shape)
    y.backward(g)
    return {
        'name': name,
        'inputs': [{'shape': list(x.shape), 'data': values(x.flatten())} for x in xs],
        'output': {'shape': list(y.shape), 'data': values(y.flatten())},
        'upstream': values(g.flatten()),
        'grads64': [values(x.grad.flatten()) for x in xs],
    }


def seeded(shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64) * scale


def encode_arg(v):
    if isinstance(v, float):
        return enc(v)
    if isinstance(v, (list, tuple)):
        return [encode_arg(e) for e in v]
    return v


def call(title, op, args, fn, inputs, differentiable=None):
    """One op called with options: `inputs` are (shape, nested values); `fn` maps torch tensors to
    the result. Gradients (float64, fixed upstream) for the inputs marked differentiable."""
    differentiable = differentiable or [True] * len(inputs)
    inputs = [torch.as_tensor(v, dtype=torch.float64) for v in inputs]  # tensors keep zero-size shapes
    xs = [v.clone().requires_grad_(d) for v, d in zip(inputs, differentiable)]
    y = fn(*xs)
    g = torch.tensor(upstream(y.numel()), dtype=torch.float64).reshape(y.shape)
    if any(differentiable):
        y.backward(g)
    y32 = fn(*[v.float() for v in inputs])
    return {
        'title': title,
        'op': op,
        'args': {k: encode_arg(v) for k, v in args.items()},
        'inputs': [{'shape': list(x.shape), 'values': values(x.reshape(-1))} for x in xs],
        'shape': list(y.shape),
        'upstream': values(g.reshape(-1)),
        'forward64': values(y.reshape(-1)),
        'forward32': values(y32.reshape(-1)),
        # No gradient at all (the ord-0 norm) is a zero gradient.
        'grads64': [(values(x.grad.reshape(-1)) if x.grad is not None else [0.0] * x.numel()) if d else None for x, d in zip(xs, differentiable)],
    }


def einsum_calls():
    cases = [
        ('ij,jk->ik', [[2, 3], [3, 4]]),
        ('bij,bjk->bik', [[2, 3, 4], [2, 4, 2]]),
        ('ijk,jkl,lm->im', [[2, 3, 2], [3, 2, 4], [4, 3]]),
        ('bn,anm,bm->ba', [[2, 3], [4, 3, 2], [2, 2]]),
        ('ii->i', [[3, 3]]),
        ('ii', [[3, 3]]),
        ('iji->j', [[3, 2, 3]]),
        ('i,j', [[3], [2]]),
        ('i,i', [[4], [4]]),
        ('ij->', [[2, 3]]),
        ('ji', [[2, 3]]),
        ('...ij->...ji', [[2, 1, 3, 2]]),
        ('...ij,...jk', [[2, 1, 2, 3], [4, 3, 2]]),
        ('i...->i', [[2, 3, 2]]),
        ('ij,ij->ij', [[2, 1], [2, 3]]),
        ('ab,bc,cd,de->ae', [[2, 3], [3, 4], [4, 2], [2, 3]]),
        ('ij,jk->ik', [[2, 0], [0, 3]]),
        ('i,i->i', [[1], [3]]),
    ]
    out = []
    for k, (eq, shapes) in enumerate(cases):
        inputs = [seeded(s, 100 + 10 * k + i) for i, s in enumerate(shapes)]
        out.append(call(f"einsum '{eq}' {shapes}", 'einsum', {'equation': eq}, lambda *xs, eq=eq: torch.einsum(eq, *xs), inputs))
    return out


def product_calls():
    return [
        call('outer', 'outer', {}, torch.outer, [seeded([3], 1), seeded([4], 2)]),
        call('tensordot dims 1', 'tensordot', {'dims': 1}, lambda a, b: torch.tensordot(a, b, 1), [seeded([2, 3], 3), seeded([3, 4], 4)]),
        call('tensordot dims 2', 'tensordot', {'dims': 2}, lambda a, b: torch.tensordot(a, b, 2), [seeded([2, 3, 4], 5), seeded([3, 4, 2], 6)]),
        call('tensordot dims lists', 'tensordot', {'dims': [[1, 0], [0, 2]]}, lambda a, b: torch.tensordot(a, b, ([1, 0], [0, 2])), [seeded([2, 3, 4], 7), seeded([3, 5, 2], 8)]),
        call('tensordot dims 0', 'tensordot', {'dims': 0}, lambda a, b: torch.tensordot(a, b, 0), [seeded([2], 9), seeded([3], 10)]),
        call('bmm', 'bmm', {}, torch.bmm, [seeded([2, 3, 4], 11), seeded([2, 4, 2], 12)]),
        call('addmm', 'addmm', {}, torch.addmm, [seeded([2, 3], 13), seeded([2, 4], 14), seeded([4, 3], 15)]),
        call('addmm broadcast, beta 0.5, alpha -2', 'addmm', {'beta': 0.5, 'alpha': -2.0}, lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=-2.0), [seeded([3], 16), seeded([2, 4], 17), seeded([4, 3], 18)]),
        call('addmm beta 0 ignores NaN', 'addmm', {'beta': 0.0}, lambda c, a, b: torch.addmm(c, a, b, beta=0.0), [[math.nan, INF, 1.0], seeded([2, 2], 19), seeded([2, 3], 20)]),
        call('baddbmm', 'baddbmm', {'beta': 2.0, 'alpha': 0.5}, lambda c, a, b: torch.baddbmm(c, a, b, beta=2.0, alpha=0.5), [seeded([1, 3], 21), seeded([2, 2, 4], 22), seeded([2, 4, 3], 23)]),
    ]


def norm_calls():
    x = seeded([3, 4], 30).tolist()
    x[1] = [0.0, 0.0, 0.0, 0.0]  # a zero row: gradient 0 there, not NaN
    ties = [[1.0, -3.0, 3.0, 2.0], [0.5, -0.5, 0.25, 0.0], [0.0, 0.0, 0.0, 0.0]]
    out = []
    for ordv in [2, 1, INF, -INF, 0, 3, 1.5, 0.5, -1]:
        data = ties if ordv in (INF, -INF) else x
        for dim, keep in [(1, False), (None, False), ((0, 1), True)]:
            # Negative and fractional orders are infinite or undefined at a zero row: a row without zeros.
            if (ordv < 1 and ordv != 0) and dim != 1:
                continue
            src = [r for r in data if any(v != 0 for v in r)] if ordv < 1 and ordv != 0 else data
            if ordv < 1 and ordv != 0:
                src = [[v if v != 0 else 0.3 for v in r] for r in src]
            out.append(call(f'vectorNorm ord {ordv} dim {dim} keepdim {keep}', 'vectorNorm', {'ord': ordv, 'axis': list(dim) if isinstance(dim, tuple) else dim, 'keepdims': keep},
                            lambda t, o=ordv, d=dim, k=keep: torch.linalg.vector_norm(t, o, d, k), [src]))
    for ordv in ['fro', 'nuc', 1, -1, 2, -2, INF, -INF]:
        out.append(call(f'matrixNorm ord {ordv}', 'matrixNorm', {'ord': ordv}, lambda t, o=ordv: torch.linalg.matrix_norm(t, o), [seeded([2, 3, 4], 31)]))
    out.append(call('matrixNorm fro of a zero matrix', 'matrixNorm', {'ord': 'fro'}, lambda t: torch.linalg.matrix_norm(t), [[[0.0, 0.0], [0.0, 0.0]]]))
    out.append(call('norm fro over dim 1', 'norm', {'p': 'fro', 'axis': 1}, lambda t: torch.norm(t, 'fro', 1), [x]))
    out.append(call('norm p 3', 'norm', {'p': 3}, lambda t: torch.norm(t, 3), [x]))
    out.append(call('norm nuc', 'norm', {'p': 'nuc'}, lambda t: torch.norm(t, 'nuc'), [seeded([3, 4], 34)]))
    out.append(call('normalize', 'normalize', {}, torch.nn.functional.normalize, [x]))
    out.append(call('normalize p 1 dim -1', 'normalize', {'p': 1, 'axis': -1}, lambda t: torch.nn.functional.normalize(t, 1, -1), [seeded([2, 3], 32)]))
    small = seeded([3, 3], 33).tolist()
    small[1] = [1e-9, 2e-9, 0.0]
    small[2] = [0.0, 0.0, 0.0]
    out.append(call('cosineSimilarity with a short and a zero vector', 'cosineSimilarity', {}, torch.nn.functional.cosine_similarity, [small, seeded([3, 3], 34)]))
    out.append(call('cosineSimilarity broadcast, dim -1', 'cosineSimilarity', {'axis': -1}, lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim=-1), [seeded([2, 1, 3], 35), seeded([4, 3], 36)]))
    out.append(call('pairwiseDistance', 'pairwiseDistance', {}, torch.nn.functional.pairwise_distance, [seeded([3, 4], 37), seeded([3, 4], 38)]))
    out.append(call('pairwiseDistance p 1 keepdim', 'pairwiseDistance', {'p': 1, 'keepdims': True}, lambda a, b: torch.nn.functional.pairwise_distance(a, b, 1, keepdim=True), [seeded([3, 4], 39), seeded([4], 40)]))
    a = seeded([4, 3], 41).tolist()
    b = seeded([3, 3], 42).tolist()
    b[1] = list(a[2])  # coincident points: distance 0, gradient 0
    for p in [2, 1, INF, 3, 0]:
        out.append(call(f'cdist p {p}', 'cdist', {'p': p}, lambda s, t, p=p: torch.cdist(s, t, p), [a, b]))
    big_a = seeded([30, 3], 43, 10.0)
    big_b = seeded([2, 3], 44, 10.0)
    out.append(call('cdist p 2 over the matmul (30 rows)', 'cdist', {'p': 2}, lambda s, t: torch.cdist(s, t), [big_a, big_b]))
    out.append(call('cdist batched, broadcast', 'cdist', {'p': 2}, lambda s, t: torch.cdist(s, t), [seeded([2, 3, 2], 45), seeded([1, 4, 2], 46)]))
    return out


def statistics_calls():
    x = seeded([3, 4], 50).tolist()
    x[0][1] = math.nan
    x[2] = [math.nan] * 4
    out = [
        call('nansum dim 1', 'nansum', {'axis': 1}, lambda t: torch.nansum(t, 1), [x]),
        call('nansum', 'nansum', {}, torch.nansum, [x]),
        call('nanmean dim 1', 'nanmean', {'axis': 1}, lambda t: torch.nanmean(t, 1), [x]),
        call('nanmean dim 0 keepdim', 'nanmean', {'axis': 0, 'keepdims': True}, lambda t: torch.nanmean(t, 0, True), [x]),
    ]
    y = seeded([3, 5], 51)
    for mode in ['linear', 'lower', 'higher', 'midpoint', 'nearest']:
        out.append(call(f'quantile {mode}', 'quantile', {'q': [0.0, 0.3, 0.5, 0.625, 1.0], 'axis': 1, 'interpolation': mode},
                        lambda t, m=mode: torch.quantile(t, torch.tensor([0.0, 0.3, 0.5, 0.625, 1.0], dtype=t.dtype), 1, interpolation=m), [y]))
    out.append(call('quantile of all elements, keepdim', 'quantile', {'q': 0.4, 'keepdims': True}, lambda t: torch.quantile(t, 0.4, keepdim=True), [y]))
    out.append(call('quantile dim 0', 'quantile', {'q': 0.25, 'axis': 0}, lambda t: torch.quantile(t, 0.25, 0), [y]))
    out.append(call('quantile with NaN', 'quantile', {'q': 0.5, 'axis': 1}, lambda t: torch.quantile(t, 0.5, 1), [x]))
    # A constant slice: std 0 with gradient 0 (PyTorch masks its 1/(2·std) there).
    out.append(call('std with a constant row, correction 1', 'std', {'axis': 1, 'correction': 1}, lambda t: torch.std(t, 1, unbiased=True), [[[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]]))
    out.append(call('std of a constant tensor', 'std', {'correction': 0}, lambda t: torch.std(t, unbiased=False), [[2.5, 2.5, 2.5, 2.5]]))
    # torch.max over all elements: NaN, its gradient shared among the NaNs.
    out.append(call('max over all elements with NaN', 'max', {}, torch.max, [[[1.0, NAN, 3.0], [NAN, NAN, 1.0]]]))
    out.append(call('min over all elements with NaN', 'min', {}, torch.min, [[[1.0, NAN, -3.0], [2.0, NAN, 1.0]]]))
    out.append(call('nanquantile', 'nanquantile', {'q': [0.2, 0.5], 'axis': 1}, lambda t: torch.nanquantile(t, torch.tensor([0.2, 0.5], dtype=t.dtype), 1), [x]))
    return out


def cross_entropy_calls():
    # F.cross_entropy's layouts beside [N, C]: classes on axis 1 of [N, C, d1, ...], and one
    # unbatched sample [C]. Class indices travel in the args (the inputs are float).
    F = torch.nn.functional
    labels = [[[1, 0, 2], [2, 2, 0]], [[0, 1, 1], [2, 0, 1]]]
    out = []
    for red in ['mean', 'sum', 'none']:
        out.append(call(f'crossEntropy [N, C, d1, d2] class indices, {red}', 'crossEntropy', {'target': labels, 'reduction': red},
                        lambda x, r=red: F.cross_entropy(x, torch.tensor(labels), reduction=r), [seeded([2, 3, 2, 3], 70)]))
    probs = torch.softmax(seeded([2, 3, 4], 71), 1)
    out.append(call('crossEntropy [N, C, d] probabilities, none', 'crossEntropy', {'reduction': 'none'},
                    lambda x, p: F.cross_entropy(x, p, reduction='none'), [seeded([2, 3, 4], 72), probs]))
    out.append(call('crossEntropy [C] one sample, class index', 'crossEntropy', {'target': 2}, lambda x: F.cross_entropy(x, torch.tensor(2)), [seeded([4], 73)]))
    out.append(call('crossEntropy [C] one sample, probabilities, none', 'crossEntropy', {'reduction': 'none'},
                    lambda x, p: F.cross_entropy(x, p, reduction='none'), [seeded([4], 74), torch.softmax(seeded([4], 75), 0)]))
    # weight, ignore_index and label_smoothing, alone and together: the weighted mean divides by the
    # summed weight of the targets not ignored; every target ignored gives NaN (gradient 0).
    w = [0.5, 2.0, 1.0, 3.0]
    flat = [1, -100, 3, 0, 2, -100]
    x4 = seeded([6, 4], 76)
    for red in ['mean', 'sum', 'none']:
        for title, opts in [('weight', {'weight': w}), ('ignoreIndex', {}), ('labelSmoothing 0.2', {'label_smoothing': 0.2}),
                            ('weight, ignoreIndex, labelSmoothing 0.3', {'weight': w, 'label_smoothing': 0.3})]:
            args = {'target': flat, 'reduction': red}
            if 'weight' in opts:
                args['weight'] = w
            if 'label_smoothing' in opts:
                args['labelSmoothing'] = opts['label_smoothing']
            kw = {k: (torch.tensor(v, dtype=torch.float64) if k == 'weight' else v) for k, v in opts.items()}
            out.append(call(f'crossEntropy class indices, {title}, {red}', 'crossEntropy', args,
                            lambda x, r=red, kw=kw: F.cross_entropy(x, torch.tensor(flat), reduction=r,
                                                                    **{k: (v.to(x.dtype) if k == 'weight' else v) for k, v in kw.items()}), [x4]))
    out.append(call('crossEntropy ignoreIndex 2 with weights', 'crossEntropy', {'target': [2, 0, 2, 1], 'ignoreIndex': 2, 'weight': w},
                    lambda x: F.cross_entropy(x, torch.tensor([2, 0, 2, 1]), ignore_index=2, weight=torch.tensor(w, dtype=x.dtype)), [seeded([4, 4], 77)]))
    for red in ['mean', 'sum']:
        out.append(call(f'crossEntropy every target ignored, {red}', 'crossEntropy', {'target': [-100, -100], 'reduction': red, 'labelSmoothing': 0.1},
                        lambda x, r=red: F.cross_entropy(x, torch.tensor([-100, -100]), reduction=r, label_smoothing=0.1), [seeded([2, 3], 78)]))
    out.append(call('crossEntropy class weight 0 everywhere used', 'crossEntropy', {'target': [1, 1], 'weight': [1.0, 0.0, 2.0]},
                    lambda x: F.cross_entropy(x, torch.tensor([1, 1]), weight=torch.tensor([1.0, 0.0, 2.0], dtype=x.dtype)), [seeded([2, 3], 79)]))
    pr = torch.softmax(seeded([3, 4], 80), 1)
    for red in ['mean', 'sum', 'none']:
        out.append(call(f'crossEntropy probabilities, weight, labelSmoothing 0.25, {red}', 'crossEntropy', {'reduction': red, 'weight': w, 'labelSmoothing': 0.25},
                        lambda x, p, r=red: F.cross_entropy(x, p, reduction=r, weight=torch.tensor(w, dtype=x.dtype), label_smoothing=0.25), [seeded([3, 4], 81), pr]))
    labels3 = [[[1, -100], [2, 0]], [[-100, 3], [0, 1]]]
    for red in ['mean', 'none']:
        out.append(call(f'crossEntropy [N, C, d1, d2], weight, ignoreIndex, labelSmoothing 0.1, {red}', 'crossEntropy', {'target': labels3, 'reduction': red, 'weight': w, 'labelSmoothing': 0.1},
                        lambda x, r=red: F.cross_entropy(x, torch.tensor(labels3), reduction=r, weight=torch.tensor(w, dtype=x.dtype), label_smoothing=0.1), [seeded([2, 4, 2, 2], 82)]))
    out.append(call('crossEntropy [C] one sample ignored', 'crossEntropy', {'target': -100}, lambda x: F.cross_entropy(x, torch.tensor(-100)), [seeded([4], 83)]))
    return out


def elementwise_calls():
    return [
        call('lerp number weight', 'lerp', {'weight': 0.3}, lambda a, b: torch.lerp(a, b, 0.3), [seeded([2, 3], 60), seeded([3], 61)]),
        call('lerp number weight above 0.5', 'lerp', {'weight': 0.75}, lambda a, b: torch.lerp(a, b, 0.75), [seeded([4], 62), seeded([4], 63)]),
        call('lerp tensor weight', 'lerp', {}, torch.lerp, [seeded([2, 3], 64), seeded([2, 3], 65), [[0.0, 0.25, 0.5], [0.75, 1.0, 1.5]]]),
        call('nanToNum', 'nanToNum', {}, torch.nan_to_num, [[math.nan, INF, -INF, 1.5, -0.0, 1e300]]),
        call('gelu tanh approximation', 'gelu', {'approximate': 'tanh'}, lambda t: torch.nn.functional.gelu(t, approximate='tanh'), [[-800.0, -6.0, -3.0, -1.0, -1e-8, 0.0, 0.5, 1.0, 3.0, 6.0, 800.0]]),
        call('softplus beta 2', 'softplus', {'beta': 2.0}, lambda t: torch.nn.functional.softplus(t, beta=2.0), [[-40.0, -3.0, -1.0, 0.0, 0.5, 1.0, 3.0, 9.0]]),
        call('softplus beta 0.5', 'softplus', {'beta': 0.5}, lambda t: torch.nn.functional.softplus(t, beta=0.5), [[-40.0, -3.0, 0.0, 1.0, 30.0]]),
        call('round decimals 2', 'round', {'decimals': 2}, lambda t: torch.round(t, decimals=2), [[1.2345, -1.2355, 0.125, 0.135, 2.5, -0.0, 1e300, -3.14159, math.nan, INF]]),
        call('round decimals -1', 'round', {'decimals': -1}, lambda t: torch.round(t, decimals=-1), [[125.0, 135.0, -15.0, 4.9, -0.0, 1e300, math.nan, -INF]]),
        # clamp with tensor bounds: ties (x = min, x = max, min = max), min > max (max wins) and NaN.
        call('clamp tensor min and max', 'clamp', {'bounds': 'min,max'}, lambda x, lo, hi: torch.clamp(x, lo, hi),
             [[-2.0, 0.0, 1.0, 2.0, 3.0, 5.0, math.nan, 0.5], [0.0, 0.0, 2.0, 3.0, 1.0, 6.0, 0.0, math.nan], [1.0, 1.0, 1.0, 3.0, 3.0, 4.0, 1.0, 1.0]]),
        call('clamp tensor min', 'clamp', {'bounds': 'min'}, lambda x, lo: torch.clamp(x, min=lo), [[-2.0, 0.0, 1.0, 2.0, 3.0, math.nan], [0.0, 0.0, 2.0, 3.0, 1.0, 0.0]]),
        call('clamp tensor max', 'clamp', {'bounds': 'max'}, lambda x, hi: torch.clamp(x, max=hi), [[-2.0, 0.0, 1.0, 3.0, 5.0, math.nan], [1.0, 0.0, 1.0, 3.0, 4.0, 1.0]]),
        call('clamp broadcast bounds', 'clamp', {'bounds': 'min,max'}, lambda x, lo, hi: torch.clamp(x, lo, hi), [seeded([2, 3], 66), seeded([3], 67) - 0.5, seeded([2, 1], 68) + 0.5]),
        call('nanToNum options', 'nanToNum', {'nan': -1.0, 'posinf': 100.0, 'neginf': -100.0}, lambda t: torch.nan_to_num(t, -1.0, 100.0, -100.0), [[math.nan, INF, -INF, 2.0]]),
    ]


NAN = math.nan


def f(*v):
    return ('float', list(v))


def i(*v):
    return ('int', list(v))


# Selection and order ('order'): (chainrule function, its arguments after the tensors, the PyTorch
# call, inputs as (kind, values, shape)). Values are chosen with ties and NaN where the op defines
# what happens to them, and distinct where PyTorch leaves the choice among ties open.
ORDER = [
    ('argmax', [1], lambda x: torch.argmax(x, 1), [(*f(1, 5, 5, NAN, 2, NAN, 0, -1, 3, 3, 3, 3), [3, 4])]),
    ('argmin', [0, True], lambda x: torch.argmin(x, 0, keepdim=True), [(*f(1, 5, -5, NAN, 2, NAN, 0, -1, 3, 3, -5, 3), [3, 4])]),
    ('argmax', [], torch.argmax, [(*f(2, 7, 7, 1, 0, 7), [2, 3])]),
    ('argmax', [-1], lambda x: torch.argmax(x, -1), [(*i(4, 9, 9, -2, 9, 0), [2, 3])]),
    ('maxWithIndices', [1], lambda x: torch.max(x, 1), [(*f(1, 5, 5, NAN, 2, NAN, 0, -1, 3, 3, 3, 3), [3, 4])]),
    ('minWithIndices', [0, True], lambda x: torch.min(x, 0, keepdim=True), [(*f(1, 5, -5, NAN, 2, NAN, 0, -1, 3, 3, -5, 3), [3, 4])]),
    ('sort', [1], lambda x: torch.sort(x, dim=1, stable=True), [(*f(3, 1, NAN, 1, -0.0, 0, 2, NAN, 2, -1, 5, 5), [2, 6])]),
    ('sort', [0, {'descending': True}], lambda x: torch.sort(x, dim=0, descending=True, stable=True), [(*f(3, 1, NAN, 1, -2, 0, 2, NAN, 2, 3, 5, 5), [4, 3])]),
    ('sort', [], lambda x: torch.sort(x, stable=True), [(*i(3, -1, 3, 0, 7), [5])]),
    ('argsort', [-1, {'descending': True}], lambda x: torch.argsort(x, dim=-1, descending=True, stable=True), [(*f(3, 1, NAN, 1, 0, 2, 2, NAN), [2, 4])]),
    ('topk', [2], lambda x: torch.topk(x, 2), [(*f(0.5, 3, -1, 2, 9, 4, -7, 8, 1, 1.5, 6, -2), [3, 4])]),
    ('topk', [3, 0, {'largest': False}], lambda x: torch.topk(x, 3, 0, largest=False), [(*f(0.5, 3, -1, 2, 9, 4, -7, 8, 1, 1.5, 6, -2), [4, 3])]),
    ('topk', [2], lambda x: torch.topk(x, 2), [(*f(1, NAN, 3, 2), [4])]),
    ('kthvalue', [2], lambda x: torch.kthvalue(x, 2), [(*f(0.5, 3, -1, 2, 9, 4, -7, 8, 1, 1.5, 6, -2), [3, 4])]),
    ('kthvalue', [3, 0, True], lambda x: torch.kthvalue(x, 3, 0, keepdim=True), [(*f(0.5, 3, -1, 2, 9, 4, -7, 8, 1, 1.5, 6, -2), [4, 3])]),
    ('median', [1], lambda x: torch.median(x, 1), [(*f(0.5, 3, -1, 2, 9, 4, -7, 8, 1, NAN, 6, NAN), [3, 4])]),
    ('median', [0], lambda x: torch.median(x, 0), [(*f(0.5, 3, -1, 2, 9, 4, -7, 8, 1), [3, 3])]),
    ('median', [], torch.median, [(*f(2, 1, 2, 3, 2, 5, 0, 7), [2, 4])]),
    ('median', [], torch.median, [(*f(2, 1, NAN, 3), [4])]),
    ('unique', [{'returnInverse': True, 'returnCounts': True}], lambda x: torch.unique(x, return_inverse=True, return_counts=True), [(*f(3, 1, -0.0, 3, 2, 0, 1, 3), [2, 4])]),
    ('unique', [], torch.unique, [(*i(5, -2, 5, 0, -2), [5])]),
    ('unique', [{'axis': 0, 'returnInverse': True, 'returnCounts': True}], lambda x: torch.unique(x, dim=0, return_inverse=True, return_counts=True), [(*i(1, 2, 1, 2, 0, 5, 1, 2, 0, 4), [5, 2])]),
    ('unique', [{'axis': 1}], lambda x: torch.unique(x, dim=1), [(*f(1, 0, 1, 2, 3, 0, 3, 1), [2, 4])]),
    ('searchsorted', [], torch.searchsorted, [(*f(1, 2, 2, 3, 5), [5]), (*f(0, 1, 2, 2.5, 5, 6, NAN), [7])]),
    ('searchsorted', [{'right': True}], lambda s, v: torch.searchsorted(s, v, right=True), [(*f(1, 2, 2, 3, 5), [5]), (*f(0, 1, 2, 2.5, 5, 6, NAN), [7])]),
    ('searchsorted', [], torch.searchsorted, [(*f(1, 3, 5, -1, 0, 1), [2, 3]), (*f(3, 0, 2, 1), [2, 2])]),
    ('searchsorted', [{'side': 'right'}], lambda s, v: torch.searchsorted(s, v, side='right'), [(*f(1, 2, 2, 3, 5), [5]), (*f(0, 2, 2.5, 5, 6), [5])]),
    ('searchsorted', [{'sorter': [1, 2, 3, 0]}], lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor([1, 2, 3, 0])), [(*f(3, 1, 2, 2), [4]), (*f(2, 2.5, 0, 9, NAN), [5])]),
    ('searchsorted', [{'sorter': [[1, 2, 0], [0, 2, 1]], 'right': True}], lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor([[1, 2, 0], [0, 2, 1]]), right=True), [(*f(5, 1, 3, 0, 4, 2), [2, 3]), (*f(3, 1, 2, 4), [2, 2])]),
    ('bincount', [], torch.bincount, [(*i(1, 1, 3, 0, 6, 3), [6])]),
    # torch.where with the condition alone: nonzero's indices, one tensor per axis (NaN counts as non-zero).
    ('where', [], torch.where, [(*f(0, 1, NAN, 0, -2, 0, 0, 3), [2, 2, 2])]),
    ('where', [], torch.where, [(*i(0, 4, 0, -1), [4])]),
    # int32 ranges and powers: linspace truncates each point (counted from the nearer end),
    # matrix_power multiplies exactly, wrapping modulo 2^32.
    *[('linspace', [a, b, n, {'dtype': 'int32'}], lambda a=a, b=b, n=n: torch.linspace(a, b, n, dtype=torch.int32), [])
      for a, b, n in [(0, 10, 5), (0, 10, 4), (10, 0, 4), (-5, 5, 7), (0, 100, 7), (0, 1000000, 13), (0, 10, 20), (3, 7, 1), (3, 7, 0), (-2147483648, 2147483647, 5)]],
    *[('arange', [a, b, st, {'dtype': 'int32'}], lambda a=a, b=b, st=st: torch.arange(a, b, st, dtype=torch.int32), [])
      for a, b, st in [(0, 5, 1), (10, 0, -3), (0, 4.5, 1), (-3, 3, 2)]],
    *[('matrixPower', [k], lambda a, k=k: torch.linalg.matrix_power(a.to(torch.int32), k), [(*i(*vals), shape)])
      for k, vals, shape in [(3, [1, 2, 3, 4], [2, 2]), (0, [1, 2, 3, 4], [2, 2]), (1, [5, -2, 7, 1], [2, 2]), (3, [1000, 2000, 3000, 4000], [2, 2]),
                             (5, [1, -1, 2, 0, 3, 1, 2, -2, 1, 1, 0, 1, 2, 1, 0, 3, 1, 1], [2, 3, 3]), (7, [], [0, 2, 2])]],
    ('bincount', [{'minlength': 9}], lambda x: torch.bincount(x, minlength=9), [(*i(1, 1, 3), [3])]),
]


def order_entry(name, args, fn, specs):
    xs = []
    for kind, data, shape in specs:
        t = torch.tensor(data, dtype=torch.float64 if kind == 'float' else torch.int64).reshape(shape)
        xs.append(t.requires_grad_(True) if kind == 'float' and name not in ('searchsorted', 'unique') else t)
    ys = fn(*xs)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    # Float outputs get an upstream gradient; integer ones (indices, counts) have none. searchsorted and
    # unique are not differentiable in PyTorch: their inputs do not require grad.
    gs = [torch.tensor(upstream(y.numel()), dtype=torch.float64).reshape(y.shape) if y.is_floating_point() else None for y in ys]
    pairs = [(y, g) for y, g in zip(ys, gs) if g is not None and y.requires_grad]
    if pairs:
        torch.autograd.backward([y for y, _ in pairs], [g for _, g in pairs])
    return {
        'fn': name,
        'args': args,
        'inputs': [{'dtype': kind, 'shape': shape, 'data': values(x.reshape(-1))} for (kind, _, shape), x in zip(specs, xs)],
        'outputs': [{'dtype': 'float' if y.is_floating_point() else 'int', 'shape': list(y.shape), 'data': values(y.reshape(-1))} for y in ys],
        'upstream': [values(g.reshape(-1)) if g is not None else None for g in gs],
        'grads64': [values(x.grad.reshape(-1)) if x.grad is not None else None for x in xs],
    }


def direction(n):
    # A fixed direction for the second derivative: the gradient's inner product with it is differentiated again.
    pattern = [0.5, -1.0, 1.5, 0.25, -2.0, 0.75]
    return [pattern[i % len(pattern)] for i in range(n)]


def second_order(title, op, args, fn, inputs):
    """Second derivatives of one op: for the upstream u and the direction w (fixed patterns), the
    gradient g of <f(x), u> and the gradient of <g, w> (a Hessian-vector product), in float64 and
    float32."""
    def run(dtype):
        xs = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in inputs]
        y = fn(*xs)
        u = torch.tensor(upstream(y.numel()), dtype=dtype).reshape(y.shape)
        gs = torch.autograd.grad(y, xs, u, create_graph=True)
        ws = [torch.tensor(direction(x.numel()), dtype=dtype).reshape(x.shape) for x in xs]
        total = sum((g * w).sum() for g, w in zip(gs, ws))
        # A gradient constant in x (a linear op) has no graph: its derivative is zero.
        ggs = torch.autograd.grad(total, xs, allow_unused=True) if total.requires_grad else [None] * len(xs)
        # A gradient that does not depend on x is None, or PyTorch's unallocated zero tensor.
        ggs = [torch.zeros_like(x) if gg is None or gg._is_zerotensor() else gg for gg, x in zip(ggs, xs)]
        return xs, y, u, ws, gs, ggs
    xs, y, u, ws, gs, ggs = run(torch.float64)
    _, y32, _, _, gs32, ggs32 = run(torch.float32)
    return {
        'title': title,
        'op': op,
        'args': {k: encode_arg(v) for k, v in args.items()},
        'inputs': [{'shape': list(x.shape), 'values': values(x.reshape(-1))} for x in xs],
        'upstream': values(u.reshape(-1)),
        'direction': [values(w.reshape(-1)) for w in ws],
        'forward64': values(y.reshape(-1)),
        'grads64': [values(g.reshape(-1)) for g in gs],
        'gradgrads64': [values(g.reshape(-1)) for g in ggs],
        'forward32': values(y32.reshape(-1)),
        'grads32': [values(g.reshape(-1)) for g in gs32],
        'gradgrads32': [values(g.reshape(-1)) for g in ggs32],
    }


def second_order_calls():
    rows = [[0.5, -1.5, 2.0], [0.0, 1.25, -0.75], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]  # no, one, two, all zeros
    cube = seeded([3, 2, 2], 80).tolist()
    cube[0][1][0] = 0.0
    cube[2][1][0] = 0.0
    cube[1][0][1] = 0.0
    # NOTE: torch.prod over all elements (1.13) returns a constant zero gradient, not differentiable
    # again, when the input holds two or more zeros; the same product over one flattened dim is.
    def prod_all(t):
        return torch.prod(t.reshape(-1), 0)
    return [
        second_order('prod of all elements, one zero', 'prod', {}, torch.prod, [[[1.5, 0.0, -2.0], [0.5, 3.0, -1.25]]]),
        second_order('prod of all elements, two zeros', 'prod', {}, prod_all, [[[1.5, 0.0, -2.0], [0.5, 0.0, -1.25]]]),
        second_order('prod of all elements, all zeros', 'prod', {}, prod_all, [[0.0, 0.0, 0.0]]),
        second_order('prod of all elements, no zeros', 'prod', {}, torch.prod, [[[1.5, -0.5, 2.0], [0.5, 3.0, -1.25]]]),
        second_order('prod dim 1, rows with no, one, two and all zeros', 'prod', {'axis': 1}, lambda t: torch.prod(t, 1), [rows]),
        second_order('prod dim -1 keepdim, no zeros', 'prod', {'axis': -1, 'keepdims': True}, lambda t: torch.prod(t, -1, True), [rows[:1] + [[1.25, -0.75, 2.5]]]),
        second_order('prod dim 0 keepdim, zeros in some columns', 'prod', {'axis': 0, 'keepdims': True}, lambda t: torch.prod(t, 0, True), [cube]),
        second_order('prod dim 1, zeros in some slices', 'prod', {'axis': 1}, lambda t: torch.prod(t, 1), [cube]),
        second_order('prod over an axis of size 1 with a zero', 'prod', {'axis': 1}, lambda t: torch.prod(t, 1), [[[[0.0, 2.0, -1.0]], [[1.5, 0.0, 0.0]]]]),
        second_order('prod of a 0-d zero', 'prod', {}, torch.prod, [0.0]),
        second_order('prod of one zero element', 'prod', {'axis': 0}, lambda t: torch.prod(t, 0), [[0.0]]),
        # Kinks of activations: the first derivative takes one side, the second PyTorch's mask.
        second_order('elu at 0', 'elu', {}, F.elu, [[0.0, -0.0, -1.0, 2.0, -1e-8, 1e-8]]),
        second_order('selu at 0', 'selu', {}, F.selu, [[0.0, -0.0, -1.0, 2.0, -1e-8, 1e-8]]),
        second_order('celu alpha 0.5 at 0', 'celu', {'alpha': 0.5}, lambda t: F.celu(t, 0.5), [[0.0, -0.0, -1.0, 2.0, -1e-8, 1e-8]]),
        second_order('hardswish at -3, 3 and between', 'hardswish', {}, F.hardswish, [[-3.0, 3.0, 0.0, -4.0, 4.0, -2.999, 2.999]]),
        # Points other ops take care of, pinned: a constant slice, ties, -inf, zero bases.
        second_order('std with a constant row, correction 1', 'std', {'axis': 1, 'correction': 1}, lambda t: torch.std(t, 1, unbiased=True), [[[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]]),
        second_order('max dim 1 with ties', 'max', {'axis': 1}, lambda t: torch.amax(t, 1), [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]]),
        second_order('logsumexp dim 1 with -inf', 'logsumexp', {'axis': 1}, lambda t: torch.logsumexp(t, 1), [[[-INF, 1.0, 2.0], [-INF, -INF, 0.0]]]),
        second_order('sqrt at 0', 'sqrt', {}, torch.sqrt, [[0.0, 1.0, 4.0]]),
        second_order('pow with zero bases, exponent 2', 'pow', {'exponent': 2.0}, lambda t: torch.pow(t, 2.0), [[0.0, 1.0, -2.0]]),
        second_order('pow with zero bases, exponent 1.5', 'pow', {'exponent': 1.5}, lambda t: torch.pow(t, 1.5), [[0.0, 1.0, 4.0]]),
        second_order('atan2 at (0, 0)', 'atan2', {}, torch.atan2, [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
        second_order('cumprod dim 1 with zeros', 'cumprod', {'axis': 1}, lambda t: torch.cumprod(t, 1), [[[1.0, 0.0, 3.0, 0.0], [2.0, 0.5, 0.0, 4.0]]]),
    ]


def permutation_sign(p):
    inversions = sum(1 for i in range(len(p)) for j in range(i + 1, len(p)) if p[i] > p[j])
    return -1 if inversions % 2 else 1


def det_expansion(a):
    """det as the Leibniz sum over permutations: a polynomial, so autograd's derivatives of
    every order are exact at any rank."""
    n = a.shape[-1]
    total = torch.zeros(a.shape[:-2], dtype=a.dtype)
    for p in itertools.permutations(range(n)):
        term = torch.full(a.shape[:-2], float(permutation_sign(p)), dtype=a.dtype)
        for i in range(n):
            term = term * a[..., i, p[i]]
        total = total + term
    return total


def integer_of_rank(n, r, seed):
    """X·Y with X n×r and Y r×n of integers in [-3, 3] (exact in float32), of rank exactly r."""
    g = torch.Generator().manual_seed(seed)
    while True:
        a = (torch.randint(-3, 4, (n, r), generator=g) @ torch.randint(-3, 4, (r, n), generator=g)).double()
        if r == 0 or torch.linalg.matrix_rank(a).item() == r:
            return a


def det_second_order_calls():
    out = []
    def add(title, a):
        ours = second_order(title, 'det', {}, torch.linalg.det, [a.tolist()])
        exact = second_order(title, 'det', {}, det_expansion, [a.tolist()])
        def close(k):
            got, want = [torch.tensor([float(v) for v in ours[k][0]]), torch.tensor([float(v) for v in exact[k][0]])]
            scale = max(1.0, want.abs().max().item())
            tol = 1e-9 if k.endswith('64') else 1e-4
            return bool(torch.isfinite(got).all()) and (got - want).abs().max().item() <= tol * scale
        if all(close(k) for k in ['grads64', 'gradgrads64', 'grads32', 'gradgrads32']):
            ours['reference'] = 'torch.linalg.det'
            out.append(ours)
        else:
            exact['reference'] = 'cofactor expansion'
            exact['torchGradgrads64'] = ours['gradgrads64']
            out.append(exact)
    for n in range(2, 6):
        for r in range(n, max(n - 4, -1), -1):
            add(f'det {n}x{n} of rank {r}', integer_of_rank(n, r, 100 * n + r))
    # Exactly repeated zero singular values, where the SVD route is undefined.
    add('det of [[1, 2, 3], [2, 4, 6], [3, 6, 9]] (rank 1)', torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]))
    add('det of diag(2, 0, 0)', torch.diag(torch.tensor([2.0, 0.0, 0.0])))
    add('det of diag(1, -2, 0, 0)', torch.diag(torch.tensor([1.0, -2.0, 0.0, 0.0])))
    # Rank 3, but its rounded det (-6.8e-13) is above PyTorch's 100·eps: PyTorch takes A⁻¹.
    add('det 4x4 of rank 3 with a rounded det of -6.8e-13', torch.tensor([[-3.0, 9.0, 5.0, 5.0], [3.0, -1.0, 8.0, -4.0], [2.0, 12.0, 3.0, 9.0], [-7.0, 1.0, 0.0, 0.0]]))
    # Batches mixing ranks: one pass per rank inside, results in batch order.
    for n in (3, 4):
        add(f'det batch of {n}x{n} of ranks {n - 2}, {n}, {n - 1}, {n - 2}', torch.stack([integer_of_rank(n, r, 200 * n + i) for i, r in enumerate([n - 2, n, n - 1, n - 2])]))
    return out


def main():
    entries = [entry(name, fn, [points]) for name, (fn, points) in UNARY.items()]
    entries += [entry(name, fn, [a, b]) for name, (fn, a, b) in BINARY.items()]
    linalg = [linalg_entry(name, fn, shapes, 1000 + i) for i, (name, (fn, shapes)) in enumerate(LINALG.items())]
    calls = einsum_calls() + product_calls() + norm_calls() + statistics_calls() + elementwise_calls() + cross_entropy_calls()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-reference.json')
    shaped = [shaped_entry(i) for i in range(len(SHAPED))]
    doc = {'torch': torch.__version__, 'entries': entries, 'shaped': shaped, 'linalg': linalg, 'calls': calls}
    order = [order_entry(*e) for e in ORDER]
    doc['order'] = order
    doc['secondOrder'] = second_order_calls()
    doc['detSecondOrder'] = det_second_order_calls()
    tmp = out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    os.replace(tmp, out)  # atomic: a failed run never leaves half a file
    print(f'wrote {len(entries)} elementwise, {len(shaped)} shaped, {len(linalg)} linalg, {len(order)} selection/order entries, {len(calls)} calls and {len(doc["secondOrder"])} second-order calls to {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
