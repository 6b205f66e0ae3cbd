#!/usr/bin/env python3
"""PyTorch's half-precision roundings, for test/safetensors-dtypes.test.ts: each value's F16 and
BF16 bits as torch's .half() and .bfloat16() give them from float64 and from float32 storage, and
the values those bits read back as.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/nn/scripts/half-precision-reference.py

Writes packages/nn/test/fixtures/half-precision.json. Values past the half's range are left out:
chainrule refuses to write them instead of storing Infinity.
"""
import json
import math
import os

import torch

VALUES = [
    0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 2 / 3, 1e-3, -2.5e-5, 6.1035156e-05, 6.0975552e-05, 5.96e-08,
    2.98e-08, 2.99e-08, 1e-9, 3.14159265358979, 65504.0, 65519.99, 1024.5, 2049.0, 2051.0, -12345.678,
    1.00048828125, 1.000732421875, 0.333251953125, 1e30, -3e38, 1.17549435e-38, 1e-40, 255.5,
]


def bits(t, dtype):
    return [int(b) & 0xFFFF for b in t.to(dtype).view(torch.int16).tolist()]


def back(t, dtype):
    return [float(v) for v in t.to(dtype).to(torch.float64).tolist()]


def encode(v):
    return 'NaN' if math.isnan(v) else ('Infinity' if v == math.inf else ('-Infinity' if v == -math.inf else v))


def main():
    out = {'torch': torch.__version__, 'values': [], 'f16': {}, 'bf16': {}}
    x64 = torch.tensor(VALUES, dtype=torch.float64)
    x32 = x64.to(torch.float32)
    out['values'] = VALUES
    out['float32'] = [float(v) for v in x32.tolist()]
    for name, dtype in (('f16', torch.float16), ('bf16', torch.bfloat16)):
        out[name] = {
            'from64': bits(x64, dtype),
            'from32': bits(x32, dtype),
            'value': [encode(v) for v in back(x32, dtype)],
        }
    special = torch.tensor([math.inf, -math.inf, math.nan], dtype=torch.float32)
    out['special'] = {'f16': bits(special, torch.float16), 'bf16': bits(special, torch.bfloat16)}
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'half-precision.json')
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


main()
