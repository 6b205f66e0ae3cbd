#!/usr/bin/env python3
"""PyTorch reference values for chainrule's ops. Elementwise ops ('entries'): each op's forward in
float64 and float32, and its gradients in float64 for a fixed upstream gradient, at chosen points
(kinks, poles, signed zeros and infinities included), checked against the Tensor method of the
same name. Shaped ops ('shaped': rearrangements, diagonals, scans): one call of the chainrule
function named in the entry, on inputs of given shapes, with the outputs (one or a list) in
float64 and float32 and the float64 gradients of the inputs. test/torch-reference.test.ts
checks both kinds.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/autograd/scripts/torch-reference.py

Writes packages/autograd/test/fixtures/torch-reference.json. NaN, infinities and -0 are written
as strings ("NaN", "Infinity", "-Infinity", "-0"), which JSON has no numbers for.
"""
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


def main():
    entries = [entry(name, fn, [points]) for name, (fn, points) in UNARY.items()]
    entries += [entry(name, fn, [a, b]) for name, (fn, a, b) in BINARY.items()]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-reference.json')
    shaped = [shaped_entry(i) for i in range(len(SHAPED))]
    doc = {'torch': torch.__version__, 'entries': entries, 'shaped': shaped}
    tmp = out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    os.replace(tmp, out)  # atomic: a failed run never leaves half a file
    print(f'wrote {len(entries)} elementwise and {len(shaped)} shaped entries to {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
