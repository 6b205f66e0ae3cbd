#!/usr/bin/env python3
"""PyTorch reference values for chainrule's convolution, pooling and resampling functions: for
each case, seeded float64 inputs, the options (in chainrule's camelCase), PyTorch's output, the
max-pooling indices, and the gradients of every input for a seeded upstream gradient.
test/conv-torch-reference.test.ts calls the chainrule function of the same name and compares.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/autograd/scripts/torch-conv-reference.py

Writes packages/autograd/test/fixtures/torch-conv-reference.json.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def case(fn, tensors, call, args=(), options=None):
    """tensors: inputs needing gradients; call(*tensors) -> output or (output, indices)."""
    leaves = [t.clone().requires_grad_(True) for t in tensors]
    result = call(*leaves)
    out, indices = (result if isinstance(result, tuple) else (result, None))
    upstream = rand(*out.shape)
    grads = torch.autograd.grad(out, leaves, upstream)
    entry = {
        'fn': fn,
        'inputs': [{'shape': list(t.shape), 'data': t.flatten().tolist()} for t in tensors],
        'args': list(args),
        'output': {'shape': list(out.shape), 'data': out.detach().flatten().tolist()},
        'upstream': upstream.flatten().tolist(),
        'grads': [g.flatten().tolist() for g in grads],
    }
    if options is not None:
        entry['options'] = options
    if indices is not None:
        entry['indices'] = indices.flatten().tolist()
    return entry


CASES = [
    case('conv2d', [rand(2, 4, 7, 6), rand(6, 2, 3, 2), rand(6)],
         lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
         options={'stride': [2, 1], 'padding': [1, 2], 'dilation': [2, 1], 'groups': 2}),
    case('conv2d', [rand(1, 3, 5, 5), rand(6, 1, 3, 3), rand(6)],
         lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=3),
         options={'padding': 1, 'groups': 3}),
    case('conv2d', [rand(2, 2, 5, 6), rand(3, 2, 2, 4), rand(3)],
         lambda x, w, b: F.conv2d(x, w, b, padding='same', dilation=(1, 2)),
         options={'padding': 'same', 'dilation': [1, 2]}),
    case('conv1d', [rand(2, 4, 11), rand(4, 2, 3), rand(4)],
         lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
         options={'stride': 2, 'padding': 2, 'dilation': 2, 'groups': 2}),
    case('conv1d', [rand(1, 2, 8), rand(3, 2, 4), rand(3)],
         lambda x, w, b: F.conv1d(x, w, b, padding='same'),
         options={'padding': 'same'}),
    case('convTranspose2d', [rand(2, 4, 3, 4), rand(4, 3, 3, 2), rand(6)],
         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(1, 2)),
         options={'stride': [2, 3], 'padding': [1, 0], 'outputPadding': [1, 2], 'groups': 2, 'dilation': [1, 2]}),
    case('convTranspose1d', [rand(2, 3, 5), rand(3, 2, 4), rand(2)],
         lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=1),
         options={'stride': 3, 'padding': 1, 'outputPadding': 1}),
    case('maxPool2d', [rand(2, 3, 7, 8)],
         lambda x: F.max_pool2d(x, (3, 2), stride=(2, 2), padding=(1, 1), dilation=(1, 2), ceil_mode=True, return_indices=True),
         args=[[3, 2]], options={'stride': [2, 2], 'padding': [1, 1], 'dilation': [1, 2], 'ceilMode': True, 'returnIndices': True}),
    case('maxPool2d', [rand(1, 2, 6, 6)],
         lambda x: F.max_pool2d(x, 2, return_indices=True), args=[2], options={'returnIndices': True}),
    case('maxPool1d', [rand(2, 2, 10)],
         lambda x: F.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True),
         args=[3], options={'stride': 2, 'padding': 1, 'ceilMode': True, 'returnIndices': True}),
    case('avgPool2d', [rand(2, 2, 7, 6)],
         lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         args=[3], options={'stride': 2, 'padding': 1, 'ceilMode': True, 'countIncludePad': False}),
    case('avgPool2d', [rand(1, 2, 7, 6)],
         lambda x: F.avg_pool2d(x, (3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
         args=[[3, 2]], options={'stride': [2, 3], 'padding': [1, 1], 'ceilMode': True}),
    case('avgPool2d', [rand(1, 2, 5, 5)],
         lambda x: F.avg_pool2d(x, 2, padding=1, divisor_override=3),
         args=[2], options={'padding': 1, 'divisorOverride': 3}),
    case('avgPool1d', [rand(2, 2, 9)],
         lambda x: F.avg_pool1d(x, 4, stride=3, padding=2, count_include_pad=True),
         args=[4], options={'stride': 3, 'padding': 2, 'countIncludePad': True}),
    case('adaptiveAvgPool2d', [rand(2, 3, 7, 5)], lambda x: F.adaptive_avg_pool2d(x, (3, 4)), args=[[3, 4]]),
    case('adaptiveMaxPool2d', [rand(2, 2, 7, 5)],
         lambda x: F.adaptive_max_pool2d(x, (4, 3), return_indices=True), args=[[4, 3]], options={'returnIndices': True}),
    case('unfold', [rand(2, 3, 5, 6)],
         lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2)),
         args=[[2, 3]], options={'dilation': [2, 1], 'padding': [1, 0], 'stride': [1, 2]}),
    case('fold', [rand(2, 12, 12)],
         lambda x: F.fold(x, (5, 6), (2, 2), padding=1, stride=2, dilation=1),
         args=[[5, 6], [2, 2]], options={'padding': 1, 'stride': 2}),
    case('interpolate', [rand(1, 2, 3, 5)], lambda x: F.interpolate(x, size=(7, 3), mode='nearest'), options={'size': [7, 3]}),
    case('interpolate', [rand(1, 2, 4, 3)], lambda x: F.interpolate(x, scale_factor=2.5, mode='nearest'), options={'scaleFactor': 2.5}),
    case('interpolate', [rand(2, 2, 5)], lambda x: F.interpolate(x, size=8, mode='nearest'), options={'size': 8}),
    case('interpolate', [rand(1, 2, 3, 4)], lambda x: F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False),
         options={'size': [5, 7], 'mode': 'bilinear', 'alignCorners': False}),
    case('interpolate', [rand(1, 2, 3, 4)], lambda x: F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=True),
         options={'size': [5, 7], 'mode': 'bilinear', 'alignCorners': True}),
    case('interpolate', [rand(1, 1, 4, 5)], lambda x: F.interpolate(x, scale_factor=(1.5, 0.6), mode='bilinear'),
         options={'scaleFactor': [1.5, 0.6], 'mode': 'bilinear'}),
    case('pixelShuffle', [rand(2, 8, 3, 2)], lambda x: F.pixel_shuffle(x, 2), args=[2]),
    case('pixelUnshuffle', [rand(1, 2, 6, 4)], lambda x: F.pixel_unshuffle(x, 2), args=[2]),
]

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, '..', 'test', 'fixtures', 'torch-conv-reference.json')
tmp = out + '.tmp'
with open(tmp, 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': CASES}, f)
os.replace(tmp, out)
print(f'wrote {len(CASES)} cases to {out}')
