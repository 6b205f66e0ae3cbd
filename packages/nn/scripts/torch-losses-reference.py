#!/usr/bin/env python3
"""PyTorch's values and input gradients of the losses, every option, for test/torch-losses.test.ts.

    /usr/bin/python3 packages/nn/scripts/torch-losses-reference.py

Writes packages/nn/test/fixtures/torch-losses.json: per case the loss's chainrule name, its
options (PyTorch's names; tensors as nested lists), its tensor arguments in order (float64;
class indices as integers), the output (null where PyTorch gives NaN) and the gradients of
sum(output) with respect to each float argument (null where the output is not finite, and for
class indices).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import write_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'torch-losses.json')


def flat(t):
    return {'shape': list(t.shape), 'data': [float(v) for v in t.detach().reshape(-1).tolist()]}


class Constant:
    """An argument left out of the gradients (soft_margin_loss cannot differentiate its target; poisson_nll_loss's is NaN at 0)."""
    def __init__(self, t):
        self.t = t


def case(name, fn, *args, **options):
    if name == 'ctcLoss':
        # Logits in, log_softmax then ctc_loss; PyTorch's positional lengths are recorded as options.
        lengths = (options.pop('input_lengths'), options.pop('target_lengths'))
        def ctc(logits, t, **o):
            return fn(F.log_softmax(logits, -1), t, torch.tensor(lengths[0]), torch.tensor(lengths[1]), **o)
        result = case_of(name, ctc, *args, **options)
        result['options'].update(input_lengths=lengths[0], target_lengths=lengths[1])
        return result
    return case_of(name, fn, *args, **options)


def case_of(name, fn, *args, **options):
    args = [a.t if isinstance(a, Constant) else a.clone().requires_grad_() if a.is_floating_point() else a for a in args]
    out = fn(*args, **options)
    finite = bool(torch.isfinite(out).all())
    if finite:
        out.sum().backward()
    values = [None if math.isnan(v) else v for v in out.detach().reshape(-1).tolist()]
    return {
        'loss': name,
        'options': {k: (v.tolist() if torch.is_tensor(v) else v) for k, v in options.items()},
        'args': [{'shape': list(a.shape), 'data': a.detach().reshape(-1).tolist(), 'indices': not a.is_floating_point()} for a in args],
        'output': {'shape': list(out.shape), 'data': values},
        'grads': [flat(a.grad) if finite and a.grad is not None else None for a in args],
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
    signs = torch.tensor([1., -1, -1, 1, 1, -1, 1, -1, 1, 1, -1, 1]).reshape(4, 3)
    log_p, log_q = F.log_softmax(torch.randn(3, 4), 1), F.log_softmax(torch.randn(3, 4), 1)
    e1, e2, e3 = torch.randn(5, 6), torch.randn(5, 6), torch.randn(5, 6)
    e2[1] = e1[1]  # identical pair: cosine 1
    pair_target = torch.tensor([1., -1, -1, 1, -1])
    counts = torch.tensor([0., 1, 2, 5, 3, 0, 1, 1, 4, 2, 7, 0]).reshape(4, 3)
    labels = (torch.rand(5, 4) > 0.5).double()
    rates = torch.rand(4, 3) * 3
    rates[0, 0] = 0.0
    variances = torch.rand(4, 3) + 0.1
    variances[1, 2] = 1e-8  # below eps: the clamp acts on the value only
    row_variances = torch.rand(4, 1) * 0.1
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
            case('smoothL1Loss', F.smooth_l1_loss, x, y, reduction=red, beta=0.6),
            case('smoothL1Loss', F.smooth_l1_loss, x, y, reduction=red, beta=0.0),
            case('klDivLoss', F.kl_div, log_p, log_q.exp(), reduction=red),
            case('klDivLoss', F.kl_div, log_p, log_q, reduction=red, log_target=True),
            case('marginRankingLoss', F.margin_ranking_loss, x, y, signs, reduction=red, margin=0.3),
            case('hingeEmbeddingLoss', F.hinge_embedding_loss, x, signs, reduction=red, margin=0.8),
            case('softMarginLoss', F.soft_margin_loss, x, Constant(signs), reduction=red),
            case('cosineEmbeddingLoss', F.cosine_embedding_loss, e1, e2, pair_target, reduction=red, margin=0.1),
            case('cosineEmbeddingLoss', F.cosine_embedding_loss, e1[0], e3[0], torch.tensor(-1.), reduction=red, margin=-0.5),
            case('tripletMarginLoss', F.triplet_margin_loss, e1, e2, e3, reduction=red, margin=2.0),
            case('tripletMarginLoss', F.triplet_margin_loss, e1, e3, e2, reduction=red, p=1.0, swap=True, margin=3.0),
            case('multiMarginLoss', F.multi_margin_loss, logits, torch.tensor([0, 3, 1, 2, 1]), reduction=red),
            case('multiMarginLoss', F.multi_margin_loss, logits, torch.tensor([0, 3, 1, 2, 1]), reduction=red, p=2, margin=0.7, weight=w),
            case('multiMarginLoss', F.multi_margin_loss, logits[0], torch.tensor(2), reduction=red, margin=2.0),
            case('multilabelSoftMarginLoss', F.multilabel_soft_margin_loss, logits, labels, reduction=red),
            case('multilabelSoftMarginLoss', F.multilabel_soft_margin_loss, logits, labels, reduction=red, weight=w),
            case('poissonNllLoss', F.poisson_nll_loss, x, Constant(counts), reduction=red),
            case('poissonNllLoss', F.poisson_nll_loss, rates, Constant(counts), reduction=red, log_input=False, full=True),
            case('gaussianNllLoss', F.gaussian_nll_loss, x, y, variances, reduction=red),
            case('gaussianNllLoss', F.gaussian_nll_loss, x, y, row_variances, reduction=red, full=True, eps=0.05),
            case('gaussianNllLoss', F.gaussian_nll_loss, x, y, row_variances.reshape(4), reduction=red),
        ]
    # CTC on logits [T, N, C] through log_softmax (PyTorch's ctc_loss gradient is the one through
    # log_softmax: taken alone its gradient with respect to log_probs includes softmax terms that
    # only cancel there), padded [N, S] or concatenated targets, lengths as options.
    ctc_lp = torch.randn(7, 3, 5)
    ctc_padded = torch.tensor([[1, 2, 2, 3], [4, 1, 0, 0], [3, 3, 3, 0]])
    ctc_short = torch.tensor([[1, 2], [3, 3], [2, 0]])
    for red in ['none', 'mean', 'sum']:
        cases += [
            case('ctcLoss', F.ctc_loss, ctc_lp, ctc_padded, reduction=red, input_lengths=[7, 5, 6], target_lengths=[4, 2, 3]),
            case('ctcLoss', F.ctc_loss, ctc_lp, torch.tensor([1, 2, 2, 3, 4, 1, 3, 3]), reduction=red, input_lengths=[7, 7, 7], target_lengths=[4, 2, 2]),
            case('ctcLoss', F.ctc_loss, torch.randn(6, 3, 4), torch.tensor([[1, 2], [0, 0], [2, 0]]), reduction=red, blank=3, input_lengths=[6, 4, 2],
                 target_lengths=[2, 2, 0]),
            # The second sequence cannot be aligned (3, 3 needs 3 steps): 0 with zero_infinity.
            case('ctcLoss', F.ctc_loss, ctc_lp, ctc_short, reduction=red, zero_infinity=True, input_lengths=[7, 2, 1], target_lengths=[2, 2, 1]),
            case('ctcLoss', F.ctc_loss, ctc_lp[:, 0], torch.tensor([1, 2, 2]), reduction=red, input_lengths=[7], target_lengths=[3]),
        ]
    for red in ['batchmean']:
        cases += [
            case('klDivLoss', F.kl_div, log_p, log_q.exp(), reduction=red),
            case('klDivLoss', F.kl_div, log_p, log_q, reduction=red, log_target=True),
        ]
    write_atomic(OUT, (json.dumps({'torch': torch.__version__, 'cases': cases}, separators=(',', ':')) + '\n').encode())
    print(f'wrote {len(cases)} cases')


if __name__ == '__main__':
    main()
