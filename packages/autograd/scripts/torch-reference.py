#!/usr/bin/env python3
"""PyTorch reference values for chainrule's elementwise ops: each op's forward in float64 and
float32, and its gradients in float64 for a fixed upstream gradient, at chosen points (kinks,
poles, signed zeros and infinities included). test/torch-reference.test.ts checks every entry
against the Tensor method of the same name.

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
}

# name -> (torch function, first operands, second operands), paired element by element.
BINARY = {
    'atan2': (
        torch.atan2,
        [1.0, 1.0, -1.0, -1.0, 0.0, -0.0, 0.0, -0.0, 0.0, 2.0, -3.0, 1e-300, INF, INF, -INF, 5.0],
        [1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1e300, INF, -INF, 1.0, INF],
    ),
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
    doc = {'torch': torch.__version__, 'entries': entries}
    tmp = out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    os.replace(tmp, out)  # atomic: a failed run never leaves half a file
    print(f'wrote {len(entries)} ops to {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
