#!/usr/bin/env python3
"""PyTorch's recurrent modules as reference, for test/recurrent-torch.test.ts: for RNN, LSTM, GRU
(two layers, bidirectional, batch_first both ways, initial states, a packed variable-length batch),
LSTMs with proj_size, and the three cells, the weights PyTorch initialises (its state_dict, as .safetensors) and, for a
fixed input and output cotangents, PyTorch's outputs, final states and gradients with respect to
the inputs, initial states and every parameter, computed in float32 and again in float64 from the
same (float32-representable) numbers.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/nn/scripts/torch-rnn-reference.py

Writes packages/nn/test/fixtures/torch-rnn.json and packages/nn/test/fixtures/torch-rnn/*.safetensors.
The safetensors files are written and read here by hand (the format is a JSON header and raw
little-endian data), so only torch is needed.

The other direction: the chainrule_*.safetensors files, written by chainrule
(scripts/chainrule-rnn-weights.ts, run first), are loaded strictly into the PyTorch module their
metadata names, and PyTorch's results on them are recorded the same way.
"""
import json
import os

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from safetensors_io import read_safetensors, safetensors_bytes, write_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'test', 'fixtures')
WEIGHTS_DIR = os.path.join(FIXTURES, 'torch-rnn')

# name, class, constructor keyword arguments, (seq, batch), initial states given, lengths (or None).
MODULE_CASES = [
    ('rnn_tanh_2layer_bidir', 'RNN', dict(num_layers=2, bidirectional=True), (4, 3), True, None),
    ('rnn_relu_batch_first', 'RNN', dict(nonlinearity='relu', batch_first=True), (4, 2), True, None),
    ('rnn_tanh_packed', 'RNN', dict(num_layers=2, bidirectional=True, batch_first=True), (5, 3), True, [3, 5, 1]),
    ('lstm_2layer_bidir_batch_first', 'LSTM', dict(num_layers=2, bidirectional=True, batch_first=True), (4, 3), True, None),
    ('lstm_seq_first_no_bias', 'LSTM', dict(bias=False), (3, 2), False, None),
    ('lstm_packed', 'LSTM', dict(num_layers=2, bidirectional=True), (5, 3), True, [2, 5, 4]),
    ('gru_2layer_bidir', 'GRU', dict(num_layers=2, bidirectional=True), (4, 3), True, None),
    ('gru_batch_first', 'GRU', dict(batch_first=True), (3, 2), False, None),
    ('gru_packed_all_shorter', 'GRU', dict(num_layers=2, bidirectional=True, batch_first=True), (5, 3), True, [4, 1, 3]),
]
# LSTMs with a projected hidden state (proj_size), as MODULE_CASES. They are made last, after the
# cells, so that the random numbers of every case above do not depend on them.
PROJ_CASES = [
    ('lstm_proj_2layer_bidir_batch_first', 'LSTM', dict(num_layers=2, bidirectional=True, batch_first=True, proj_size=2), (4, 3), True, None),
    ('lstm_proj_packed_no_bias', 'LSTM', dict(num_layers=2, bidirectional=True, bias=False, proj_size=3), (5, 3), True, [2, 5, 4]),
    ('lstm_proj_seq_first', 'LSTM', dict(proj_size=1), (3, 2), False, None),
]
CELL_CASES = [
    ('rnn_cell_tanh', 'RNNCell', dict(), True),
    ('rnn_cell_relu', 'RNNCell', dict(nonlinearity='relu'), True),
    ('lstm_cell', 'LSTMCell', dict(), True),
    ('gru_cell', 'GRUCell', dict(), True),
    ('gru_cell_no_bias_no_state', 'GRUCell', dict(bias=False), False),
]
INPUT_SIZE = 3
HIDDEN_SIZE = 4

CAMEL = {'num_layers': 'numLayers', 'batch_first': 'batchFirst', 'bidirectional': 'bidirectional', 'bias': 'bias', 'nonlinearity': 'nonlinearity', 'proj_size': 'projSize'}


def flat(t):
    """Shape and row-major data; float32 values in their shortest float32 form (they read back exactly through Math.fround)."""
    values = t.detach().reshape(-1)
    if values.dtype == torch.float32:
        data = [float(repr(v)) for v in values.numpy()]
    else:
        data = [float(v) for v in values.tolist()]
    return {'shape': list(t.shape), 'data': data}


def run(module, inputs, cotangents, names_out, forward):
    """Outputs, then gradients of sum(output_k * cotangent_k) over the inputs and parameters."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in inputs.items()}
    outs = forward(module, leaves)
    loss = sum((o * c).sum() for o, c in zip(outs, cotangents))
    params = dict(module.named_parameters())
    grads = torch.autograd.grad(loss, list(leaves.values()) + list(params.values()))
    result = {name: flat(o) for name, o in zip(names_out, outs)}
    result['grads'] = {k: flat(g) for k, g in zip(list(leaves.keys()) + list(params.keys()), grads)}
    return result


def module_forward(kind, batch_first, lengths):
    def forward(module, leaves):
        x = leaves['input']
        hx = None
        if 'h0' in leaves:
            hx = (leaves['h0'], leaves['c0']) if kind == 'LSTM' else leaves['h0']
        if lengths is None:
            out, state = module(x, hx)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
            out, state = module(packed, hx)
            out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=x.shape[1 if batch_first else 0])
        return [out, *state] if kind == 'LSTM' else [out, state]
    return forward


def cell_forward(kind):
    def forward(module, leaves):
        x = leaves['input']
        if 'h0' not in leaves:
            out = module(x)
        elif kind == 'LSTMCell':
            out = module(x, (leaves['h0'], leaves['c0']))
        else:
            out = module(x, leaves['h0'])
        return list(out) if kind == 'LSTMCell' else [out]
    return forward


def case(name, kind, kwargs, inputs, names_out, forward, extra, weights=None):
    module = getattr(torch.nn, kind)(INPUT_SIZE, HIDDEN_SIZE, **kwargs)
    if weights is None:
        write_atomic(os.path.join(WEIGHTS_DIR, name + '.safetensors'), safetensors_bytes(module.state_dict(), {'format': 'pt'}))
    else:
        # strict: every key of the file is one of PyTorch's, with PyTorch's shape, and none is missing.
        module.load_state_dict(weights, strict=True)
    state = module.state_dict()
    with torch.no_grad():
        probe = forward(module, {k: v.clone() for k, v in inputs.items()})
    cotangents = [torch.randn(o.shape) for o in probe]
    entry = {
        'name': name,
        'module': kind,
        'options': {CAMEL[k]: v for k, v in kwargs.items()},
        'inputSize': INPUT_SIZE,
        'hiddenSize': HIDDEN_SIZE,
        'weights': 'torch-rnn/' + name + '.safetensors',
        'keys': [[k, list(v.shape)] for k, v in state.items()],
        'inputs': {k: flat(v) for k, v in inputs.items()},
        'cotangents': {n: flat(c) for n, c in zip(names_out, cotangents)},
        'float32': run(module, inputs, cotangents, names_out, forward),
        'float64': run(module.double(), {k: v.double() for k, v in inputs.items()}, [c.double() for c in cotangents], names_out, forward),
        **extra,
    }
    return entry


def chainrule_cases(projected):
    """PyTorch's module cases for the files chainrule wrote, those with proj_size or those without:
    (name, class, kwargs, (seq, batch), with_state, lengths, weights)."""
    out = []
    for file in sorted(os.listdir(WEIGHTS_DIR)):
        if not (file.startswith('chainrule_') and file.endswith('.safetensors')):
            continue
        weights, metadata = read_safetensors(os.path.join(WEIGHTS_DIR, file))
        assert int(metadata['inputSize']) == INPUT_SIZE and int(metadata['hiddenSize']) == HIDDEN_SIZE, metadata
        snake = {v: k for k, v in CAMEL.items()}
        kwargs = {snake[k]: v for k, v in json.loads(metadata['options']).items()}
        if ('proj_size' in kwargs) != projected:
            continue
        lengths = [4, 2, 3] if metadata['module'] == 'LSTM' else None
        out.append((file[:-len('.safetensors')], metadata['module'], kwargs, (4, 3), True, lengths, weights))
    return out


def module_cases(specs):
    """The fixture entries of multi-layer module cases (name, class, kwargs, (seq, batch), with_state, lengths, weights)."""
    cases = []
    for name, kind, kwargs, (seq, batch), with_state, lengths, weights in specs:
        directions = 2 if kwargs.get('bidirectional') else 1
        layers = kwargs.get('num_layers', 1)
        batch_first = kwargs.get('batch_first', False)
        inputs = {'input': torch.randn((batch, seq, INPUT_SIZE) if batch_first else (seq, batch, INPUT_SIZE))}
        if with_state:
            # h is proj_size wide with a projection; c is always hidden_size wide.
            inputs['h0'] = torch.randn(layers * directions, batch, kwargs.get('proj_size', 0) or HIDDEN_SIZE)
            if kind == 'LSTM':
                inputs['c0'] = torch.randn(layers * directions, batch, HIDDEN_SIZE)
        names_out = ['output', 'h_n', 'c_n'] if kind == 'LSTM' else ['output', 'h_n']
        cases.append(case(name, kind, kwargs, inputs, names_out, module_forward(kind, batch_first, lengths), {'lengths': lengths}, weights))
    return cases


def main():
    torch.manual_seed(0)
    os.makedirs(WEIGHTS_DIR, exist_ok=True)
    cases = module_cases([c + (None,) for c in MODULE_CASES] + chainrule_cases(projected=False))
    for name, kind, kwargs, with_state in CELL_CASES:
        batch = 3
        inputs = {'input': torch.randn(batch, INPUT_SIZE)}
        if with_state:
            inputs['h0'] = torch.randn(batch, HIDDEN_SIZE)
            if kind == 'LSTMCell':
                inputs['c0'] = torch.randn(batch, HIDDEN_SIZE)
        names_out = ['h', 'c'] if kind == 'LSTMCell' else ['h']
        cases.append(case(name, kind, kwargs, inputs, names_out, cell_forward(kind), {'lengths': None}))
    cases += module_cases([c + (None,) for c in PROJ_CASES] + chainrule_cases(projected=True))
    out = {'torch': torch.__version__, 'cases': cases}
    write_atomic(os.path.join(FIXTURES, 'torch-rnn.json'), (json.dumps(out, indent=None, separators=(',', ':')) + '\n').encode('utf-8'))


main()
