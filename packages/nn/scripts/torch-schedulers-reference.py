#!/usr/bin/env python3
"""PyTorch's learning-rate sequences of the schedulers, for test/torch-schedulers.test.ts.

    /usr/bin/python3 packages/nn/scripts/torch-schedulers-reference.py

Writes packages/nn/test/fixtures/torch-schedulers.json. Each case schedules an SGD optimiser with
two parameter groups (lr 0.1 and 0.05) and records every group's lr before each step: 'epochs'
cases call scheduler.step() once per epoch; 'plateau' cases call ReduceLROnPlateau.step(metric)
with the listed metrics and record the lrs after each step. OneCycleLR and CyclicLR cases schedule
an SGD with momentum 0.9 (or an Adam) and also record each group's momentum (Adam's betas[0]).
Options use PyTorch's names; functions (lr_lambda, scale_fn) are Python expressions of `epoch` or
`x`, which the test writes out again in TypeScript.
"""
import json
import os
import warnings

import torch
from torch.optim import lr_scheduler as L

from safetensors_io import write_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'torch-schedulers.json')
METRICS = [1, 0.9, 0.9, 0.95, 0.9, 0.91, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]


def optimiser(kind='SGD'):
    p, q = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    groups = [{'params': [p]}, {'params': [q], 'lr': 0.05}]
    if kind == 'Adam':
        return torch.optim.Adam(groups, lr=0.1)
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9 if kind == 'SGD+momentum' else 0)


def momentum(g):
    return g['betas'][0] if 'betas' in g else g['momentum']


def epochs(name, options, build, n=30, kind='SGD'):
    opt = optimiser(kind)
    sched = build(opt)
    lrs, momenta = [], []
    for _ in range(n):
        lrs.append([g['lr'] for g in opt.param_groups])
        momenta.append([momentum(g) for g in opt.param_groups])
        opt.step()
        sched.step()
    case = {'kind': 'epochs', 'scheduler': name, 'options': options, 'optimiser': kind, 'lrs': lrs}
    if name in ('OneCycleLR', 'CyclicLR'):
        case['momenta'] = momenta
    return case


def lambdas(name, lr_lambda):
    """An 'epochs' case of LambdaLR or MultiplicativeLR whose lr_lambda is an expression of `epoch` or a list of them."""
    return epochs(name, {'lr_lambda': lr_lambda}, lambda o: child(o, name, {'lr_lambda': lr_lambda}))


def child(o, name, options):
    """Scheduler `name` of torch.optim.lr_scheduler on `o`, from options as the cases hold them."""
    if 'lr_lambda' in options:
        src = options['lr_lambda']
        fns = [lambda_of(x) for x in src] if isinstance(src, list) else lambda_of(src)
        return getattr(L, name)(o, fns)
    return getattr(L, name)(o, **options)


def lambda_of(src):
    """A function of one argument, named `epoch` (lr_lambda) or `x` (scale_fn) in `src`."""
    return lambda v: eval(src, {'epoch': v, 'x': v})


def cyclic(options, n, kind='SGD+momentum'):
    """A CyclicLR case; a scale_fn is given as an expression of `x`."""
    kwargs = dict(options, scale_fn=lambda_of(options['scale_fn'])) if 'scale_fn' in options else options
    return epochs('CyclicLR', options, lambda o: L.CyclicLR(o, **kwargs), n=n, kind=kind)


def sequential(schedulers, milestones, n):
    """A SequentialLR case; `schedulers` are [name, options] pairs."""
    return epochs('SequentialLR', {'schedulers': schedulers, 'milestones': milestones},
                  lambda o: L.SequentialLR(o, [child(o, *s) for s in schedulers], milestones=milestones), n=n)


def chained(schedulers, n):
    """A ChainedScheduler case; `schedulers` are [name, options] pairs."""
    return epochs('ChainedScheduler', {'schedulers': schedulers}, lambda o: L.ChainedScheduler([child(o, *s) for s in schedulers]), n=n)


def plateau(options):
    opt = optimiser()
    sched = L.ReduceLROnPlateau(opt, **options)
    lrs = []
    for m in METRICS:
        sched.step(m)
        lrs.append([g['lr'] for g in opt.param_groups])
    return {'kind': 'plateau', 'scheduler': 'ReduceLROnPlateau', 'options': options, 'metrics': METRICS, 'lrs': lrs}


def main():
    warnings.simplefilter('ignore')
    cases = [
        epochs('StepLR', {'step_size': 4, 'gamma': 0.5}, lambda o: L.StepLR(o, 4, gamma=0.5)),
        epochs('MultiStepLR', {'milestones': [3, 7, 7, 20], 'gamma': 0.5}, lambda o: L.MultiStepLR(o, [3, 7, 7, 20], gamma=0.5)),
        epochs('ExponentialLR', {'gamma': 0.9}, lambda o: L.ExponentialLR(o, 0.9)),
        epochs('CosineAnnealingLR', {'T_max': 10, 'eta_min': 0.01}, lambda o: L.CosineAnnealingLR(o, 10, eta_min=0.01), n=11),
        epochs('CosineAnnealingWarmRestarts', {'T_0': 5, 'eta_min': 0.01}, lambda o: L.CosineAnnealingWarmRestarts(o, 5, eta_min=0.01)),
        epochs('CosineAnnealingWarmRestarts', {'T_0': 3, 'T_mult': 2}, lambda o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2), n=40),
        # lr_lambda: Python expressions of `epoch` (one, or one per group), written out again by the test.
        epochs('ConstantLR', {}, lambda o: L.ConstantLR(o), n=8),
        epochs('ConstantLR', {'factor': 0.5, 'total_iters': 3}, lambda o: L.ConstantLR(o, factor=0.5, total_iters=3), n=6),
        epochs('PolynomialLR', {}, lambda o: L.PolynomialLR(o), n=8),
        epochs('PolynomialLR', {'total_iters': 6, 'power': 2.0}, lambda o: L.PolynomialLR(o, total_iters=6, power=2.0), n=9),
        epochs('PolynomialLR', {'total_iters': 4, 'power': 0.5}, lambda o: L.PolynomialLR(o, total_iters=4, power=0.5), n=7),
        lambdas('LambdaLR', '0.9 ** (epoch - 3) if epoch > 3 else 1'),
        lambdas('LambdaLR', ['0.5 ** (epoch // 3)', '1 / (1 + epoch)']),
        lambdas('MultiplicativeLR', '0.9'),
        lambdas('MultiplicativeLR', ['0.95', '1 if epoch < 5 else 1 - 0.03 * epoch']),
        # LinearLR's ramp (end_factor 1), alone and followed by a cosine through SequentialLR.
        epochs('LinearLR', {'start_factor': 0.25, 'total_iters': 5}, lambda o: L.LinearLR(o, start_factor=0.25, total_iters=5)),
        epochs('LinearLR', {}, lambda o: L.LinearLR(o), n=8),
        epochs('LinearLR', {'start_factor': 1.0, 'end_factor': 0.1, 'total_iters': 6}, lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=6), n=10),
        epochs('LinearLR+CosineAnnealingLR', {'start_factor': 0.25, 'total_iters': 5, 'T_max': 10},
               lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.25, total_iters=5), L.CosineAnnealingLR(o, 10)], milestones=[5]), n=15),
        # SequentialLR and ChainedScheduler of [name, options] pairs (the first two are PyTorch's docstring examples).
        sequential([['ConstantLR', {'factor': 0.1, 'total_iters': 2}], ['ExponentialLR', {'gamma': 0.9}]], [2], n=10),
        sequential([['LinearLR', {'start_factor': 0.25, 'total_iters': 4}], ['StepLR', {'step_size': 3, 'gamma': 0.5}],
                    ['CosineAnnealingLR', {'T_max': 6, 'eta_min': 0.001}]], [4, 10], n=25),
        sequential([['LambdaLR', {'lr_lambda': ['0.5 ** (epoch // 3)', '1 / (1 + epoch)']}], ['PolynomialLR', {'total_iters': 5, 'power': 2.0}]], [6], n=14),
        chained([['ConstantLR', {'factor': 0.1, 'total_iters': 2}], ['ExponentialLR', {'gamma': 0.9}]], n=8),
        chained([['LinearLR', {'start_factor': 0.5, 'total_iters': 4}], ['MultiStepLR', {'milestones': [3, 6], 'gamma': 0.5}],
                 ['PolynomialLR', {'total_iters': 10, 'power': 2.0}]], n=14),
        chained([['MultiplicativeLR', {'lr_lambda': ['0.95', '1 if epoch < 5 else 1 - 0.03 * epoch']}], ['StepLR', {'step_size': 4, 'gamma': 0.5}]], n=12),
        epochs('OneCycleLR', {'max_lr': 1.0, 'total_steps': 20}, lambda o: L.OneCycleLR(o, 1.0, total_steps=20), n=20, kind='SGD+momentum'),
        epochs('OneCycleLR', {'max_lr': [1.0, 0.4], 'total_steps': 17, 'pct_start': 0.4, 'anneal_strategy': 'linear', 'div_factor': 10, 'final_div_factor': 100},
               lambda o: L.OneCycleLR(o, [1.0, 0.4], total_steps=17, pct_start=0.4, anneal_strategy='linear', div_factor=10, final_div_factor=100), n=17, kind='Adam'),
        epochs('OneCycleLR', {'max_lr': 0.5, 'total_steps': 25, 'three_phase': True, 'base_momentum': 0.8, 'max_momentum': [0.9, 0.99]},
               lambda o: L.OneCycleLR(o, 0.5, total_steps=25, three_phase=True, base_momentum=0.8, max_momentum=[0.9, 0.99]), n=25, kind='SGD+momentum'),
        epochs('OneCycleLR', {'max_lr': 0.5, 'total_steps': 10, 'cycle_momentum': False}, lambda o: L.OneCycleLR(o, 0.5, total_steps=10, cycle_momentum=False), n=10),
        cyclic({'base_lr': 0.01, 'max_lr': 0.1, 'step_size_up': 4}, n=20),
        cyclic({'base_lr': [0.01, 0.005], 'max_lr': [0.1, 0.05], 'step_size_up': 3, 'step_size_down': 5, 'mode': 'triangular2',
                'base_momentum': 0.85, 'max_momentum': [0.95, 0.99]}, n=30),
        cyclic({'base_lr': 0.02, 'max_lr': 0.2, 'step_size_up': 2.5, 'mode': 'exp_range', 'gamma': 0.95, 'cycle_momentum': False}, n=20, kind='SGD'),
        cyclic({'base_lr': 0.01, 'max_lr': 0.1, 'step_size_up': 3, 'scale_fn': '1 / (1 + x)'}, n=16),
        cyclic({'base_lr': 0.01, 'max_lr': 0.1, 'step_size_up': 3, 'scale_fn': '0.9 ** x', 'scale_mode': 'iterations'}, n=16),
        plateau({'patience': 1, 'factor': 0.5}),
        plateau({'mode': 'max', 'patience': 0, 'factor': 0.5, 'cooldown': 2}),
        plateau({'patience': 1, 'threshold': 0.05, 'threshold_mode': 'abs', 'min_lr': [0.02, 0.01], 'cooldown': 1}),
        plateau({'patience': 2, 'threshold': 0.2, 'min_lr': 0.03}),
    ]
    write_atomic(OUT, (json.dumps({'torch': torch.__version__, 'cases': cases}, separators=(',', ':')) + '\n').encode())
    print(f'wrote {len(cases)} cases')


if __name__ == '__main__':
    main()
