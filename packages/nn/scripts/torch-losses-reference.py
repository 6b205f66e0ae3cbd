#!/usr/bin/env python3
"""PyTorch's values and input gradients of the losses, every option, for test/torch-losses.test.ts.

    /usr/bin/python3 packages/nn/scripts/torch-losses-reference.py

Writes packages/nn/test/fixtures/torch-losses.json: per case the loss's chainrule name, its
options (PyTorch's names; tensors as nested lists), the input and target (float64; class
indices as integers), the output (null where PyTorch gives NaN) and the gradient of
sum(output) with respect to the input (null where the output is not finite).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'torch-losses.json')


def flat(t):
    return {'shape': list(t.shape), 'data': [float(v) for v in t.detach().reshape(-1).tolist()]}


def case(name, fn, x, target, **options):
    x = x.clone().requires_grad_()
    out = fn(x, target, **options)
    grad = None
    if torch.isfinite(out).all():
        out.sum().backward()
        grad = flat(x.grad)
    values = [None if math.isnan(v) else v for v in out.detach().reshape(-1).tolist()]
    return {
        'loss': name,
        'options': {k: (v.tolist() if torch.is_tensor(v) else v) for k, v in options.items()},
        'input': flat(x),
        'target': {'shape': list(target.shape), 'data': target.reshape(-1).tolist(), 'indices': not target.is_floating_point()},
        'output': {'shape': list(out.shape), 'data': values},
        'gradInput': grad,
    }


def main():
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(7)
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    p, pt, bw = torch.rand(4, 3), torch.rand(4, 3), torch.rand(4, 3)
    pos_weight, row_weight = torch.rand(3) * 3, torch.rand(3)
    logits, w = torch.randn(5, 4), torch.rand(4)
    ignored = torch.tensor([0, 3, -100, 2, 1])
    probs = torch.softmax(torch.randn(5, 4), 1)
    logits4 = torch.randn(2, 4, 3, 2)
    target4 = torch.randint(0, 4, (2, 3, 2))
    target4[0, 1, 1] = -100
    probs4 = torch.softmax(torch.randn(2, 4, 3, 2), 1)
    none_kept = torch.full((5,), -100)
    cases = []
    for red in ['none', 'mean', 'sum']:
        cases += [
            case('mseLoss', F.mse_loss, x, y, reduction=red),
            case('l1Loss', F.l1_loss, x, y, reduction=red),
            case('huberLoss', F.huber_loss, x, y, reduction=red, delta=0.7),
            case('bceLoss', F.binary_cross_entropy, p, pt, reduction=red, weight=bw),
            case('bceWithLogitsLoss', F.binary_cross_entropy_with_logits, x, pt, reduction=red, weight=row_weight, pos_weight=pos_weight),
            case('nllLoss', F.nll_loss, F.log_softmax(logits, 1), ignored, reduction=red, weight=w),
            case('nllLoss', F.nll_loss, logits4, target4, reduction=red),
            case('crossEntropyLoss', F.cross_entropy, logits, ignored, reduction=red, weight=w, label_smoothing=0.2),
            case('crossEntropyLoss', F.cross_entropy, logits, ignored, reduction=red, label_smoothing=0.2),
            case('crossEntropyLoss', F.cross_entropy, logits, torch.tensor([0, 3, 1, 2, 1]), reduction=red, ignore_index=1),
            case('crossEntropyLoss', F.cross_entropy, logits, probs, reduction=red, weight=w, label_smoothing=0.1),
            case('crossEntropyLoss', F.cross_entropy, logits4, target4, reduction=red, weight=w, label_smoothing=0.1),
            case('crossEntropyLoss', F.cross_entropy, logits4, probs4, reduction=red, label_smoothing=0.3),
            # Every target ignored: the mean divides 0 by a total weight of 0 (NaN).
            case('crossEntropyLoss', F.cross_entropy, logits, none_kept, reduction=red),
            case('crossEntropyLoss', F.cross_entropy, logits, none_kept, reduction=red, label_smoothing=0.1),
            case('nllLoss', F.nll_loss, logits, none_kept, reduction=red, weight=w),
            # One unbatched sample: logits [C] and a 0-d class index, or probabilities [C].
            case('crossEntropyLoss', F.cross_entropy, logits[1], torch.tensor(2), reduction=red, weight=w, label_smoothing=0.1),
            case('crossEntropyLoss', F.cross_entropy, logits[1], probs[0], reduction=red),
            case('nllLoss', F.nll_loss, F.log_softmax(logits[2], 0), torch.tensor(3), reduction=red, weight=w),
        ]
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, OUT)
    print(f'wrote {len(cases)} cases')


if __name__ == '__main__':
    main()
