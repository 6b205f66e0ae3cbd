#!/usr/bin/env python3
"""PyTorch reference values for chainrule's scaledDotProductAttention: for each case, seeded
float64 query, key and value (and a float mask, which is differentiated too), the options in
chainrule's camelCase, PyTorch's output and the gradients of every float input for a seeded
upstream gradient. test/torch-attention-reference.test.ts calls scaledDotProductAttention and
compares.

PyTorch 1.13 has no F.scaled_dot_product_attention, so the reference is written with explicit
torch ops, as PyTorch 2.x documents its math: softmax(q·kᵀ·scale + mask)·v, a bool mask keeping
where true, is_causal = torch.ones(Lq, Lk).tril(). A query row whose scores are all -inf gets
weights 0, as PyTorch >= 2.5's _safe_softmax does (older versions give NaN).

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/autograd/scripts/torch-attention-reference.py

Writes packages/autograd/test/fixtures/torch-attention-reference.json.
"""
import json
import math
import os

import torch

torch.manual_seed(0)


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def sdpa(q, k, v, mask=None, is_causal=False, scale=None):
    lq, lk = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if is_causal:
        keep = torch.ones(lq, lk, dtype=torch.bool).tril()
        scores = scores.masked_fill(keep.logical_not(), -math.inf)
    elif mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(mask.logical_not(), -math.inf)
    elif mask is not None:
        scores = scores + mask
    dead = torch.isneginf(scores).all(dim=-1, keepdim=True)
    weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1).masked_fill(dead, 0.0)
    return weights @ v


CASES = []


def case(q, k, v, mask=None, is_causal=False, scale=None):
    float_mask = mask is not None and mask.dtype != torch.bool
    leaves = [t.clone().requires_grad_(True) for t in ([q, k, v] + ([mask] if float_mask else []))]
    out = sdpa(*leaves[:3], mask=leaves[3] if float_mask else mask, is_causal=is_causal, scale=scale)
    upstream = rand(*out.shape)
    grads = torch.autograd.grad(out, leaves, upstream)
    options = {}
    if mask is not None:
        options['mask'] = {'shape': list(mask.shape), 'dtype': 'bool' if mask.dtype == torch.bool else 'float',
                           'data': [int(x) if mask.dtype == torch.bool else x for x in mask.flatten().tolist()]}
    if is_causal:
        options['isCausal'] = True
    if scale is not None:
        options['scale'] = scale
    CASES.append({
        'inputs': [{'shape': list(t.shape), 'data': t.flatten().tolist()} for t in (q, k, v)],
        'options': options,
        'output': {'shape': list(out.shape), 'data': out.detach().flatten().tolist()},
        'upstream': upstream.flatten().tolist(),
        'grads': [g.flatten().tolist() for g in grads],
    })


# No mask; batch and heads; Lq != Lk; Ev != E.
case(rand(2, 3, 4, 5), rand(2, 3, 6, 5), rand(2, 3, 6, 2))
# A bool mask [Lq, Lk] broadcast over batch and heads, with a fully masked row.
m = torch.rand(4, 6) < 0.6
m[2] = False
case(rand(2, 3, 4, 5), rand(2, 3, 6, 5), rand(2, 3, 6, 2), mask=m)
# A float mask per batch element, broadcast over heads: [B, 1, Lq, Lk].
case(rand(2, 3, 4, 5), rand(2, 3, 6, 5), rand(2, 3, 6, 2), mask=rand(2, 1, 4, 6))
# Causal, fewer queries than keys and more queries than keys (top-left aligned).
case(rand(2, 3, 5), rand(2, 7, 5), rand(2, 7, 3), is_causal=True)
case(rand(2, 6, 5), rand(2, 3, 5), rand(2, 3, 3), is_causal=True)
# An explicit scale; key and value shared across heads (broadcast leading axes).
case(rand(2, 4, 3, 8), rand(2, 1, 5, 8), rand(2, 1, 5, 4), scale=0.3)
# Large logits: the stable softmax.
case(rand(1, 3, 4) * 30, rand(1, 3, 4) * 30, rand(1, 3, 2))

out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch-attention-reference.json')
tmp = out + '.tmp'
with open(tmp, 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': CASES}, f)
os.replace(tmp, out)
