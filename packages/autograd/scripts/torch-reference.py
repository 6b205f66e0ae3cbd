#!/usr/bin/env python3
"""PyTorch reference values for chainrule's ops. Elementwise ops ('entries'): each op's forward in
float64 and float32, and its gradients in float64 for a fixed upstream gradient, at chosen points
(kinks, poles, signed zeros and infinities included); test/torch-reference.test.ts checks every
entry against the Tensor method of the same name. Selection and order ('order'): one call of the
chainrule function named in the entry on given inputs, its outputs (values, indices, counts) and
the float64 gradients of its float inputs; test/torch-order-reference.test.ts checks them.

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
    ('bincount', [], torch.bincount, [(*i(1, 1, 3, 0, 6, 3), [6])]),
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


def main():
    entries = [entry(name, fn, [points]) for name, (fn, points) in UNARY.items()]
    entries += [entry(name, fn, [a, b]) for name, (fn, a, b) in BINARY.items()]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-reference.json')
    order = [order_entry(*e) for e in ORDER]
    doc = {'torch': torch.__version__, 'entries': entries, 'order': order}
    tmp = out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    os.replace(tmp, out)  # atomic: a failed run never leaves half a file
    print(f'wrote {len(entries)} elementwise and {len(order)} selection/order entries to {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
