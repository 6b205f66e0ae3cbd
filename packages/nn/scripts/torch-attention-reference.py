#!/usr/bin/env python3
"""PyTorch reference models for chainrule's attention and transformer modules. For each case: the
module's weights as PyTorch initialised them (float32 .safetensors, PyTorch's state-dict keys),
seeded inputs and masks, PyTorch's outputs, and the gradients of every input and parameter for a
seeded upstream gradient (JSON). Dropout is 0 and the modules are in training mode, so the
outputs are deterministic. test/torch-attention.test.ts builds the chainrule module of the same
configuration, loads the weights with loadStateDict, and compares.

    apt-get install python3-torch      # or pip install torch
    /usr/bin/python3 packages/nn/scripts/torch-attention-reference.py

Writes packages/nn/test/fixtures/attention/{reference.json, <case>.safetensors}.
"""
import json
import math
import os

import torch
import torch.nn as nn

from safetensors_io import safetensors_bytes, write_atomic

HERE = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'attention')


def encode(t):
    if t is None:
        return None
    if t.dtype == torch.bool:
        return {'shape': list(t.shape), 'dtype': 'bool', 'data': [int(v) for v in t.flatten().tolist()]}
    return {'shape': list(t.shape), 'dtype': 'float32',
            'data': ['-Infinity' if v == -math.inf else v for v in t.detach().flatten().tolist()]}


CASES = []


def case(name, module, config, inputs, masks, forward, output_names=('output',)):
    """inputs: name -> float tensor (gets a gradient); masks: name -> tensor or None;
    forward(**inputs, **masks) -> output or a tuple of outputs (None skipped)."""
    write_atomic(os.path.join(HERE, name + '.safetensors'), safetensors_bytes(module.state_dict()))
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    result = forward(**leaves, **masks)
    outputs = result if isinstance(result, tuple) else (result,)
    total = 0
    upstream = []
    for y in outputs:
        if y is None:
            upstream.append(None)
            continue
        g = torch.randn(*y.shape)
        upstream.append(g)
        total = total + (y * g).sum()
    params = dict(module.named_parameters())
    grads = torch.autograd.grad(total, list(leaves.values()) + list(params.values()))
    CASES.append({
        'name': name,
        'config': config,
        'stateDict': {k: list(v.shape) for k, v in module.state_dict().items()},
        'inputs': {k: encode(v) for k, v in inputs.items()},
        'masks': {k: encode(v) for k, v in masks.items() if v is not None},
        'outputs': [None if y is None else encode(y) for y in outputs],
        'upstream': [None if g is None else g.flatten().tolist() for g in upstream],
        'inputGrads': {k: g.flatten().tolist() for k, g in zip(leaves, grads[:len(leaves)])},
        'paramGrads': {k: g.flatten().tolist() for k, g in zip(params, grads[len(leaves):])},
    })


def causal(n):
    return torch.triu(torch.full((n, n), -math.inf), diagonal=1)


def padding(batch, length, lengths):
    """True at padding: position >= the sequence's length."""
    return torch.arange(length).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)


torch.manual_seed(0)

# Self-attention, [L, N, E], bool key-padding and bool attention masks, weights averaged.
mha = nn.MultiheadAttention(8, 2)
x = torch.randn(5, 3, 8)
am = torch.rand(5, 5) < 0.3
am.fill_diagonal_(False)
case('mha_self', mha, {'embedDim': 8, 'numHeads': 2}, {'x': x},
     {'keyPaddingMask': padding(3, 5, [5, 3, 4]), 'attnMask': am},
     lambda x, keyPaddingMask, attnMask: mha(x, x, x, key_padding_mask=keyPaddingMask, attn_mask=attnMask),
     ('output', 'weights'))

# Cross-attention, batch first, kdim and vdim apart (q/k/v_proj_weight), a float 3-D mask, weights per head.
mha = nn.MultiheadAttention(8, 4, kdim=6, vdim=4, batch_first=True)
case('mha_kdim_vdim', mha, {'embedDim': 8, 'numHeads': 4, 'kdim': 6, 'vdim': 4, 'batchFirst': True},
     {'q': torch.randn(2, 3, 8), 'k': torch.randn(2, 5, 6), 'v': torch.randn(2, 5, 4)},
     {'attnMask': torch.randn(2 * 4, 3, 5)},
     lambda q, k, v, attnMask: mha(q, k, v, attn_mask=attnMask, average_attn_weights=False),
     ('output', 'weights'))

# Packed weights, three different tensors, unbatched, a float key-padding mask, no weights.
mha = nn.MultiheadAttention(6, 3, bias=False)
case('mha_unbatched', mha, {'embedDim': 6, 'numHeads': 3, 'bias': False},
     {'q': torch.randn(4, 6), 'k': torch.randn(7, 6), 'v': torch.randn(7, 6)},
     {'keyPaddingMask': torch.randn(7)},
     lambda q, k, v, keyPaddingMask: mha(q, k, v, key_padding_mask=keyPaddingMask, need_weights=False),
     ('output', 'weights'))

# Encoder layer, post-norm (default), relu, [L, N, E], key padding.
layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
case('encoder_layer_post', layer, {'dModel': 8, 'nhead': 2, 'dimFeedforward': 16},
     {'src': torch.randn(6, 2, 8)}, {'srcKeyPaddingMask': padding(2, 6, [6, 4])},
     lambda src, srcKeyPaddingMask: layer(src, src_key_padding_mask=srcKeyPaddingMask))

# Encoder layer, pre-norm, gelu, batch first, a causal float mask.
layer = nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.0, activation='gelu', batch_first=True, norm_first=True, layer_norm_eps=1e-6)
case('encoder_layer_pre', layer, {'dModel': 8, 'nhead': 4, 'dimFeedforward': 12, 'activation': 'gelu', 'batchFirst': True, 'normFirst': True, 'layerNormEps': 1e-6},
     {'src': torch.randn(2, 5, 8)}, {'mask': causal(5)},
     lambda src, mask: layer(src, src_mask=mask))

# Decoder layer, post-norm, batch first, causal target mask and memory padding.
layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
case('decoder_layer_post', layer, {'dModel': 8, 'nhead': 2, 'dimFeedforward': 16, 'batchFirst': True},
     {'tgt': torch.randn(2, 4, 8), 'memory': torch.randn(2, 6, 8)},
     {'tgtMask': causal(4), 'memoryKeyPaddingMask': padding(2, 6, [6, 5])},
     lambda tgt, memory, tgtMask, memoryKeyPaddingMask: layer(tgt, memory, tgt_mask=tgtMask, memory_key_padding_mask=memoryKeyPaddingMask))

# Decoder layer, pre-norm, [T, N, E].
layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=True)
case('decoder_layer_pre', layer, {'dModel': 8, 'nhead': 2, 'dimFeedforward': 16, 'normFirst': True},
     {'tgt': torch.randn(4, 2, 8), 'memory': torch.randn(3, 2, 8)}, {'tgtMask': causal(4)},
     lambda tgt, memory, tgtMask: layer(tgt, memory, tgt_mask=tgtMask))

# A 2-layer encoder with a final LayerNorm.
enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), 2, norm=nn.LayerNorm(8))
case('encoder_2', enc, {'dModel': 8, 'nhead': 2, 'dimFeedforward': 16, 'numLayers': 2, 'norm': True},
     {'src': torch.randn(5, 2, 8)}, {'mask': causal(5), 'srcKeyPaddingMask': padding(2, 5, [5, 4])},
     lambda src, mask, srcKeyPaddingMask: enc(src, mask=mask, src_key_padding_mask=srcKeyPaddingMask))

# A small Transformer, batch first.
tr = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0, batch_first=True)
case('transformer', tr, {'dModel': 8, 'nhead': 2, 'numEncoderLayers': 2, 'numDecoderLayers': 1, 'dimFeedforward': 16, 'batchFirst': True},
     {'src': torch.randn(2, 5, 8), 'tgt': torch.randn(2, 4, 8)},
     {'tgtMask': causal(4), 'srcKeyPaddingMask': padding(2, 5, [5, 3]), 'memoryKeyPaddingMask': padding(2, 5, [5, 3])},
     lambda src, tgt, tgtMask, srcKeyPaddingMask, memoryKeyPaddingMask: tr(src, tgt, tgt_mask=tgtMask, src_key_padding_mask=srcKeyPaddingMask, memory_key_padding_mask=memoryKeyPaddingMask))

# add_bias_kv and add_zero_attn (after the cases above, so their random numbers stay as they are).
# bias_k/bias_v join the keys and values, then the zero key; the masks cover the keys given and
# are padded by PyTorch. Self-attention, [L, N, E], bool masks, query 0 masked from every key given
# (the bias key still takes it), weights averaged.
mha = nn.MultiheadAttention(8, 2, add_bias_kv=True)
x = torch.randn(5, 3, 8)
am = torch.rand(5, 5) < 0.3
am[0] = True
case('mha_bias_kv', mha, {'embedDim': 8, 'numHeads': 2, 'addBiasKv': True}, {'x': x},
     {'keyPaddingMask': padding(3, 5, [5, 2, 4]), 'attnMask': am},
     lambda x, keyPaddingMask, attnMask: mha(x, x, x, key_padding_mask=keyPaddingMask, attn_mask=attnMask),
     ('output', 'weights'))

# Both, batch first, kdim and vdim apart, a float 3-D attention mask beside a bool key-padding mask, weights per head.
mha = nn.MultiheadAttention(8, 4, kdim=6, vdim=4, batch_first=True, add_bias_kv=True, add_zero_attn=True)
case('mha_bias_kv_zero_attn', mha, {'embedDim': 8, 'numHeads': 4, 'kdim': 6, 'vdim': 4, 'batchFirst': True, 'addBiasKv': True, 'addZeroAttn': True},
     {'q': torch.randn(2, 3, 8), 'k': torch.randn(2, 5, 6), 'v': torch.randn(2, 5, 4)},
     {'attnMask': torch.randn(2 * 4, 3, 5), 'keyPaddingMask': padding(2, 5, [3, 5])},
     lambda q, k, v, attnMask, keyPaddingMask: mha(q, k, v, attn_mask=attnMask, key_padding_mask=keyPaddingMask, average_attn_weights=False),
     ('output', 'weights'))

# add_zero_attn alone, no biases, [L, N, E] and unbatched, a bool key-padding mask.
mha = nn.MultiheadAttention(6, 3, bias=False, add_zero_attn=True)
case('mha_zero_attn', mha, {'embedDim': 6, 'numHeads': 3, 'bias': False, 'addZeroAttn': True},
     {'q': torch.randn(4, 2, 6), 'k': torch.randn(7, 2, 6), 'v': torch.randn(7, 2, 6)},
     {'keyPaddingMask': padding(2, 7, [7, 3])},
     lambda q, k, v, keyPaddingMask: mha(q, k, v, key_padding_mask=keyPaddingMask),
     ('output', 'weights'))
mha = nn.MultiheadAttention(6, 3, add_bias_kv=True, add_zero_attn=True)
case('mha_bias_kv_zero_attn_unbatched', mha, {'embedDim': 6, 'numHeads': 3, 'addBiasKv': True, 'addZeroAttn': True},
     {'q': torch.randn(4, 6), 'k': torch.randn(7, 6), 'v': torch.randn(7, 6)},
     {'keyPaddingMask': torch.arange(7) >= 5},
     lambda q, k, v, keyPaddingMask: mha(q, k, v, key_padding_mask=keyPaddingMask),
     ('output', 'weights'))

text = json.dumps({'torch': torch.__version__, 'cases': CASES}).encode('utf-8')
write_atomic(os.path.join(HERE, 'reference.json'), text)
