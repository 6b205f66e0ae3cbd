"""The fixture generators' .safetensors reader and writer, by hand (an 8-byte little-endian header
length, a JSON header padded to 8 bytes, then the tensors' raw little-endian bytes): the Python
these scripts run on has no safetensors package. Files are written atomically."""

import json
import os
import struct

import torch

DTYPE_NAMES = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64', torch.int32: 'I32'}
DTYPES = {name: dtype for dtype, name in DTYPE_NAMES.items()}


def write_atomic(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def safetensors_bytes(tensors, metadata=None):
    """The bytes of a .safetensors file of `tensors` (name -> tensor), with `metadata` if given."""
    header = {} if metadata is None else {'__metadata__': metadata}
    chunks, offset = [], 0
    for key, t in tensors.items():
        raw = t.detach().contiguous().cpu().numpy().tobytes()
        header[key] = {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(chunks)


def read_safetensors(path):
    """The tensors (name -> tensor) and the metadata ({} if none) of a .safetensors file."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for key, info in header.items():
        start, end = info['data_offsets']
        data = bytearray(raw[8 + n + start:8 + n + end])
        tensors[key] = torch.frombuffer(data, dtype=DTYPES[info['dtype']]).reshape(info['shape']).clone()
    return tensors, metadata
