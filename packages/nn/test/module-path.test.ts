// Bad input deep in a model: the error keeps its class and names the failing module's path in the
// model, the parameter and both shapes or dtypes; the model's parameters and buffers are left
// bit-identical.
import { ArgumentError, DTypeError, ShapeError, ones, randn, tensor, zeros, type Tensor } from '@chainrule/autograd';
import { describe, expect, test } from 'vitest';
import {
  BatchNorm2d, Conv2d, Flatten, LSTM, Linear, MaxPool2d, Module, ReLU, SGD, Sequential, StateDictError,
  TransformerEncoder, TransformerEncoderLayer, crossEntropyLoss, fit, locateError,
} from '../src/index.js';

/** A copy of every parameter's and buffer's bytes, by state-dict key. */
function snapshot(model: Module<never[], unknown>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [key, t] of Object.entries(model.stateDict())) {
    const d = t.data;
    out.set(key, new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
  }
  return out;
}

/** Runs `f`, which must throw; returns what it threw, after checking the model was left bit-identical. */
function failsLeavingUnchanged(model: Module<never[], unknown>, f: () => unknown): Error {
  const before = snapshot(model);
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(Error);
  expect(snapshot(model)).toEqual(before);
  return thrown as Error;
}

/** LeNet's feature extractor and classifier as two named children, locating its children's errors. */
class Net extends Module {
  readonly features = this.registerModule('features', new Sequential(
    new Conv2d(1, 6, 5, { padding: 2, seed: 0 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5, { seed: 1 }), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
  ));
  readonly head = this.registerModule('head', new Sequential(new Flatten(), new Linear(400, 10, { seed: 2 })));

  forward(x: Tensor): Tensor {
    try {
      return this.head.forward(this.features.forward(x));
    } catch (e) {
      throw locateError(this, e);
    }
  }
}

/** The same network without the try/catch: a custom root that does not locate errors itself. */
class PlainNet extends Module {
  readonly features = this.registerModule('features', new Sequential(new Conv2d(1, 6, 5, { seed: 0 }), new ReLU(), new Conv2d(6, 16, 5, { seed: 1 }), new BatchNorm2d(16)));
  readonly head = this.registerModule('head', new Sequential(new Flatten(), new Linear(16 * 20 * 20, 10, { seed: 2 })));

  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

describe('errors in a forward name the module path', () => {
  test('a convolution given the wrong number of channels: features.0, the weight and both shapes; a ShapeError; the model unchanged', () => {
    const net = new Net();
    const e = failsLeavingUnchanged(net, () => net.forward(randn([2, 3, 28, 28], { seed: 0 })));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe(
      'features.0 (in Net): Conv2d(1, 6, kernelSize=[5, 5], stride=[1, 1], padding=[2, 2]): conv2d: input [2,3,28,28] and weight [6,1,5,5]: weight expects 1 input channels (1 per group × groups=1), input has 3',
    );
  });

  test('a kernel larger than the padded input at features.3 (the 28x28 network given 8x8 images), in training mode', () => {
    const net = new Net().train();
    const e = failsLeavingUnchanged(net, () => net.forward(randn([2, 1, 8, 8], { seed: 0 })));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/^features\.3 \(in Net\): Conv2d\(6, 16, kernelSize=\[5, 5\].*input \[2,6,4,4\] and weight \[16,6,5,5\]: kernel of size 5 \(dilation 1\) is larger than the padded input 4/);
  });

  test('the head: a Linear given the wrong number of features names head.1 and its sizes', () => {
    const net = new Net();
    const features = new Sequential(...net.features.children().slice(0, 3) as Module[]);
    const e = failsLeavingUnchanged(net, () => net.head.forward(features.forward(randn([2, 1, 28, 28], { seed: 0 }))));
    expect(e.message).toBe('1 (in Sequential): Linear(400 -> 10): input of shape [2,1176] must end in 400 features');
    expect(e).toBeInstanceOf(ShapeError);
  });

  test('the error keeps its identity, class, cause and stack, whose first line is the new message', () => {
    const net = new Net();
    let e: unknown;
    try {
      net.forward(randn([2, 3, 28, 28], { seed: 0 }));
    } catch (caught) {
      e = caught;
    }
    expect(e).toBeInstanceOf(ShapeError);
    const err = e as ShapeError;
    expect(err.name).toBe('ShapeError');
    // The op's own error is kept as the cause, unchanged.
    expect((err.cause as Error).message).toMatch(/^conv2d: input \[2,3,28,28\]/);
    expect(err.stack!.split('\n')[0]).toBe(`ShapeError: ${err.message}`);
    // Located again from the same module, the message does not grow.
    expect((locateError(net, err) as Error).message).toBe(err.message);
  });

  test('a module called on its own names no path (it has none); a non-Error is passed through', () => {
    const conv = new Conv2d(1, 6, 5);
    expect(() => conv.forward(randn([1, 3, 8, 8]))).toThrow(/^Conv2d\(1, 6, kernelSize=\[5, 5\], stride=\[1, 1\]\): conv2d: /);
    expect(locateError(conv, 'not an error')).toBe('not an error');
  });

  test('a custom root that does not locate errors: the innermost container names the path below it, and fit names the full path', () => {
    const net = new PlainNet();
    const x = randn([2, 1, 28, 28], { seed: 0 });
    const bad = randn([2, 2, 28, 28], { seed: 0 });
    expect(() => net.forward(bad)).toThrow(/^0 \(in Sequential\): Conv2d\(1, 6/);
    const y = tensor([0, 1], { dtype: 'int32' });
    const before = snapshot(net);
    const optimizer = new SGD(net.parameters(), { lr: 0.1 });
    expect(() => fit(net, [{ x: bad, y }], { loss: crossEntropyLoss, optimizer, quiet: true })).toThrow(
      /^features\.0 \(in PlainNet\): Conv2d\(1, 6, kernelSize=\[5, 5\].*input \[2,2,28,28\] and weight \[6,1,5,5\]/,
    );
    expect(snapshot(net)).toEqual(before);
    // The same network trains when the input fits.
    expect(() => fit(net, [{ x, y }], { loss: crossEntropyLoss, optimizer, quiet: true })).not.toThrow();
  });
});

describe('attention and recurrent layers in a stack', () => {
  const encoder = (): TransformerEncoder => new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }), 2);
  const src = randn([5, 2, 8], { seed: 0 });

  test('an attention mask of the wrong shape: layers.0.self_attn, attnMask and both shapes', () => {
    const enc = encoder();
    const e = failsLeavingUnchanged(enc, () => enc.forward(src, { mask: ones([4, 4], { dtype: 'bool' }) }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe(
      'layers.0.self_attn (in TransformerEncoder): MultiheadAttention(embedDim=8, numHeads=2): attnMask must be [L, S] = [5,5] or [batch·numHeads, L, S] = [4,5,5], got [4,4]',
    );
  });

  test('an attention mask of the wrong dtype: a DTypeError naming both dtypes', () => {
    const enc = encoder();
    const e = failsLeavingUnchanged(enc, () => enc.forward(src, { mask: zeros([5, 5], { dtype: 'int32' }) }));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toBe(
      "layers.0.self_attn (in TransformerEncoder): MultiheadAttention(embedDim=8, numHeads=2): attnMask must be bool or float32 (the layer's dtype), got int32 of shape [5,5]",
    );
  });

  test('a key-padding mask of the wrong shape', () => {
    const enc = encoder();
    const e = failsLeavingUnchanged(enc, () => enc.forward(src, { srcKeyPaddingMask: zeros([2, 4], { dtype: 'bool' }) }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe(
      'layers.0.self_attn (in TransformerEncoder): MultiheadAttention(embedDim=8, numHeads=2): keyPaddingMask must be [batch, S] = [2,5], got [2,4]',
    );
  });

  test('an input of the wrong width reaches the first layer that reads it', () => {
    const enc = encoder();
    const e = failsLeavingUnchanged(enc, () => enc.forward(randn([5, 2, 6], { seed: 0 })));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/^layers\.0\.self_attn \(in TransformerEncoder\): MultiheadAttention\(embedDim=8, numHeads=2\): query must be \[seq, batch, 8\]/);
  });

  test('an RNN input of the wrong size: the path, weight_ih_l0 and both shapes', () => {
    const lstm = new LSTM(3, 5, { seed: 1 });
    const e = failsLeavingUnchanged(lstm, () => lstm.forward(randn([7, 2, 4])));
    expect(e.message).toBe('LSTM: input must be [seq, batch, 3] or, unbatched, [seq, 3] (weight_ih_l0 is [20,3]); got [7,2,4]');
    class Tagger extends Module<[Tensor], Tensor> {
      readonly rnn = this.registerModule('rnn', new LSTM(3, 5, { seed: 1 }));
      forward(x: Tensor): Tensor {
        try {
          return this.rnn.forward(x)[0];
        } catch (err) {
          throw locateError(this, err);
        }
      }
    }
    const tagger = new Tagger();
    const located = failsLeavingUnchanged(tagger, () => tagger.forward(randn([7, 2, 4])));
    expect(located).toBeInstanceOf(ShapeError);
    expect(located.message).toBe('rnn (in Tagger): LSTM: input must be [seq, batch, 3] or, unbatched, [seq, 3] (weight_ih_l0 is [20,3]); got [7,2,4]');
  });
});

describe('at construction and loading', () => {
  test('channels that do not divide by groups: an ArgumentError naming the layer, groups and both channel counts', () => {
    // A module has no path before it is registered in a model, so the constructor names its class.
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(ArgumentError);
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow('Conv2d: groups=4 must divide inChannels=4 and outChannels=6');
  });

  test('a state dict from a different architecture: missing, unexpected and mis-shaped keys all listed at once, with module paths; the model unchanged', () => {
    const model = new Net();
    const other = new Sequential(new Conv2d(1, 8, 3, { seed: 5 }), new BatchNorm2d(8), new Linear(4, 2, { seed: 6 }));
    const dict = { ...other.stateDict(), 'features.0.weight': zeros([6, 1, 3, 3]), 'head.1.bias': zeros([10], { dtype: 'float64' }) };
    const e = failsLeavingUnchanged(model, () => model.loadStateDict(dict));
    expect(e).toBeInstanceOf(StateDictError);
    expect(e.message).toMatch(/^loadStateDict: Net cannot load the state dict \(\d+ problem\(s\)\): /);
    for (const key of ['features.0.bias', 'features.3.weight', 'features.4.running_mean', 'features.4.num_batches_tracked', 'head.1.weight']) {
      expect(e.message).toContain(`missing key '${key}'`);
    }
    for (const key of ['0.weight', '1.running_var', '2.bias']) expect(e.message).toContain(`unexpected key '${key}'`);
    expect(e.message).toContain("'features.0.weight': shape [6,1,3,3] in the dict, [6,1,5,5] in the module (parameter 'weight' of features.0 (Conv2d))");
    expect(e.message).toContain("'head.1.bias': dtype float64 in the dict, float32 in the module (parameter 'bias' of head.1 (Linear))");
  });
});
