#!/usr/bin/env python3
"""PyTorch's outputs and gradients of the convolution, pooling, normalisation and embedding layers
(and a small LeNet-style CNN), for test/torch-layers.test.ts.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/nn/scripts/torch-layers-reference.py

Writes, under packages/nn/test/fixtures/:
  torch-layers.safetensors  every case's state dict, keys prefixed by the case's name
                            ('conv2d-basic.weight'), as PyTorch holds it (float32, int64 counts);
  torch-layers.json         per case: the input, a cotangent, the output, the gradients of
                            sum(output * cotangent) with respect to the input and each parameter,
                            the buffers after the forward (running statistics), and the state
                            dict's keys, shapes and dtypes.

    /usr/bin/python3 packages/nn/scripts/torch-layers-reference.py --check

checks the other direction instead: test/fixtures/chainrule-lenet.safetensors, written by
chainrule (scripts/chainrule-lenet.ts), must load into PyTorch's LeNet with load_state_dict
(strict) and give chainrule's output in chainrule-lenet.json to float32 rounding.

The safetensors file is written here from the tensors' bytes (the format is an 8-byte header
length, a JSON header and the raw little-endian data), so the script needs torch only.
PyTorch 1.13 has no nn.RMSNorm: its reference is PyTorch 2.4's formula, written out below.
"""
import json
import os

import torch
from torch import nn

from safetensors_io import DTYPE_NAMES, read_safetensors, safetensors_bytes, write_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures')


def check():
    state, _ = read_safetensors(os.path.join(OUT, 'chainrule-lenet.safetensors'))
    with open(os.path.join(OUT, 'chainrule-lenet.json')) as f:
        ref = json.load(f)
    model = lenet()
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.tensor(ref['input']['data'], dtype=torch.float32).reshape(ref['input']['shape'])
    with torch.no_grad():
        y = model(x)
    want = torch.tensor(ref['output']['data'], dtype=torch.float32).reshape(ref['output']['shape'])
    err = (y - want).abs().max().item()
    scale = max(1.0, want.abs().max().item())
    ok = list(y.shape) == ref['output']['shape'] and err <= 1e-5 * scale
    print(f"chainrule-lenet: {len(state)} tensors loaded strictly; max |PyTorch - chainrule| = {err:.3g}: {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


def flat(t):
    return {'shape': list(t.shape), 'data': [float(v) for v in t.detach().reshape(-1).tolist()]}


class RMSNorm(nn.Module):
    """PyTorch 2.4's nn.RMSNorm: y = x * rsqrt(mean(x^2 over the normalised axes) + eps) * weight,
    eps = finfo(x.dtype).eps when None."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True):
        super().__init__()
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape)) if elementwise_affine else None

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
        return y if self.weight is None else y * self.weight


def randomize_norm(m):
    """Affine parameters and running statistics away from their defaults, so the test sees them used."""
    with torch.no_grad():
        if getattr(m, 'weight', None) is not None:
            m.weight.uniform_(0.5, 1.5)
        if getattr(m, 'bias', None) is not None:
            m.bias.normal_(0, 0.5)
        if getattr(m, 'running_mean', None) is not None:
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return m


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 3), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, 10),
    )


# name -> (module builder, input shape, training mode, integer input range or None)
CASES = [
    ('conv2d-basic', lambda: nn.Conv2d(3, 4, 3), [2, 3, 6, 6], True, None),
    ('conv2d-strided-grouped', lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2), [2, 4, 7, 6], True, None),
    ('conv2d-depthwise-nobias', lambda: nn.Conv2d(4, 8, 3, groups=4, bias=False), [1, 4, 5, 5], True, None),
    ('conv2d-same-reflect', lambda: nn.Conv2d(2, 3, 4, padding='same', padding_mode='reflect'), [2, 2, 5, 6], True, None),
    ('conv2d-circular', lambda: nn.Conv2d(2, 2, 3, padding=1, padding_mode='circular'), [1, 2, 4, 5], True, None),
    ('conv1d', lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1), [2, 3, 9], True, None),
    ('conv1d-replicate-dilated', lambda: nn.Conv1d(2, 4, 3, padding=2, dilation=2, padding_mode='replicate'), [2, 2, 7], True, None),
    ('conv-transpose2d', lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), [2, 4, 4, 5], True, None),
    ('conv-transpose2d-dilated', lambda: nn.ConvTranspose2d(3, 2, (2, 3), stride=(1, 2), dilation=2, bias=False), [1, 3, 3, 4], True, None),
    ('max-pool2d', lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), [2, 3, 7, 7], True, None),
    ('max-pool2d-dilated', lambda: nn.MaxPool2d(2, stride=1, dilation=2), [1, 2, 6, 5], True, None),
    ('avg-pool2d', lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), [2, 3, 7, 6], True, None),
    ('avg-pool2d-ceil-divisor', lambda: nn.AvgPool2d(2, ceil_mode=True, divisor_override=3), [1, 2, 5, 5], True, None),
    ('adaptive-avg-pool2d', lambda: nn.AdaptiveAvgPool2d((3, 2)), [2, 3, 7, 5], True, None),
    ('adaptive-avg-pool2d-global', lambda: nn.AdaptiveAvgPool2d(1), [2, 3, 4, 4], True, None),
    ('batch-norm2d-train', lambda: randomize_norm(nn.BatchNorm2d(3)), [4, 3, 3, 5], True, None),
    ('batch-norm2d-eval', lambda: randomize_norm(nn.BatchNorm2d(3)), [2, 3, 3, 4], False, None),
    ('batch-norm2d-cumulative-noaffine', lambda: randomize_norm(nn.BatchNorm2d(2, momentum=None, affine=False)), [3, 2, 2, 2], True, None),
    ('group-norm', lambda: randomize_norm(nn.GroupNorm(2, 6)), [2, 6, 3, 4], True, None),
    ('group-norm-noaffine-3d', lambda: nn.GroupNorm(3, 6, affine=False), [2, 6, 5], True, None),
    ('instance-norm2d-affine', lambda: randomize_norm(nn.InstanceNorm2d(3, affine=True)), [2, 3, 4, 5], True, None),
    ('instance-norm2d-tracking-train', lambda: randomize_norm(nn.InstanceNorm2d(3, track_running_stats=True)), [2, 3, 3, 3], True, None),
    ('instance-norm2d-tracking-eval', lambda: randomize_norm(nn.InstanceNorm2d(3, affine=True, track_running_stats=True)), [2, 3, 3, 3], False, None),
    ('rms-norm', lambda: randomize_norm(RMSNorm([4])), [2, 3, 4], True, None),
    ('rms-norm-2d-eps', lambda: randomize_norm(RMSNorm([3, 4], eps=1e-5)), [2, 3, 4], True, None),
    ('rms-norm-noaffine', lambda: RMSNorm([5], elementwise_affine=False), [3, 5], True, None),
    ('embedding-padding', lambda: nn.Embedding(10, 4, padding_idx=2), [2, 3], True, 10),
    ('embedding-max-norm', lambda: nn.Embedding(6, 3, max_norm=1.0), [2, 4], True, 6),
    ('lenet', lenet, [2, 1, 16, 16], True, None),
    ('max-pool1d', lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), [2, 3, 9], True, None),
    ('avg-pool1d', lambda: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [2, 3, 8], True, None),
    ('avg-pool1d-unbatched', lambda: nn.AvgPool1d(2), [3, 7], True, None),
    ('adaptive-max-pool2d', lambda: nn.AdaptiveMaxPool2d((3, None)), [2, 3, 7, 5], True, None),
    ('adaptive-max-pool2d-global', lambda: nn.AdaptiveMaxPool2d(1), [2, 3, 4, 4], True, None),
    ('conv-transpose1d', lambda: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), [2, 4, 5], True, None),
    ('conv-transpose1d-dilated-unbatched', lambda: nn.ConvTranspose1d(3, 2, 2, dilation=3, bias=False), [3, 4], True, None),
    ('silu', nn.SiLU, [3, 4], True, None),
    ('mish', nn.Mish, [3, 4], True, None),
    ('relu6', nn.ReLU6, [3, 4], True, None),
    ('selu', nn.SELU, [3, 4], True, None),
    ('log-sigmoid', nn.LogSigmoid, [3, 4], True, None),
    ('softsign', nn.Softsign, [3, 4], True, None),
    ('hardsigmoid', nn.Hardsigmoid, [3, 4], True, None),
    ('hardswish', nn.Hardswish, [3, 4], True, None),
    ('tanhshrink', nn.Tanhshrink, [3, 4], True, None),
    ('elu', lambda: nn.ELU(0.5), [3, 4], True, None),
    ('celu', lambda: nn.CELU(0.7), [3, 4], True, None),
    ('hardtanh', lambda: nn.Hardtanh(-0.5, 0.8), [3, 4], True, None),
    ('prelu', lambda: randomize_norm(nn.PReLU()), [3, 4], True, None),
    ('prelu-channels', lambda: randomize_norm(nn.PReLU(3)), [2, 3, 2, 2], True, None),
    ('prelu-channels-2d', lambda: randomize_norm(nn.PReLU(4, init=0.1)), [2, 4], True, None),
]


def run_case(name, build, shape, training, vocab):
    module = build()
    module.train(training)
    # The state PyTorch starts from, before the forward changes running statistics or renormalises rows.
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    if vocab is None:
        x = torch.randn(shape, dtype=torch.float32, requires_grad=True)
    else:
        x = torch.randint(0, vocab, shape, dtype=torch.int64)
        if name == 'embedding-padding':
            x[0, 1] = 2
            x[1, 0] = 2
        else:
            with torch.no_grad():
                module.weight.mul_(2)  # rows of norm > 1, so max_norm has work to do
            state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    y = module(x)
    cot = torch.randn(y.shape, dtype=torch.float32)
    (y * cot).sum().backward()
    case = {
        'name': name,
        'training': training,
        'input': flat(x),
        'cotangent': flat(cot),
        'output': flat(y),
        'gradInput': None if vocab is not None else flat(x.grad),
        'gradParams': {k: flat(p.grad) for k, p in module.named_parameters()},
        'stateAfter': {k: flat(v) for k, v in module.state_dict().items() if not torch.equal(v, state[k])},
        'stateDict': [[k, list(v.shape), DTYPE_NAMES[v.dtype]] for k, v in state.items()],
    }
    return case, {f'{name}.{k}': v for k, v in state.items()}


def main():
    torch.manual_seed(91)
    cases = []
    tensors = {}
    for name, build, shape, training, vocab in CASES:
        case, state = run_case(name, build, shape, training, vocab)
        cases.append(case)
        tensors.update(state)
    os.makedirs(OUT, exist_ok=True)
    write_atomic(os.path.join(OUT, 'torch-layers.safetensors'), safetensors_bytes(tensors))
    path = os.path.join(OUT, 'torch-layers.json')
    with open(path + '.tmp', 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    os.replace(path + '.tmp', path)
    print(f'wrote {len(cases)} cases, {len(tensors)} tensors')


if __name__ == '__main__':
    import sys
    sys.exit(check() if '--check' in sys.argv[1:] else main())
