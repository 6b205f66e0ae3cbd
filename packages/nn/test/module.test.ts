import { describe, expect, test } from 'vitest';
import { ones, tensor, zeros, type Tensor } from '@chainrule/autograd';
import {
  BatchNorm1d, Dropout, Linear, MLP, Module, Sequential, StateDictError, Tanh, functionalCall,
} from '@chainrule/nn';

class Scale extends Module {
  constructor() {
    super();
    this.registerParameter('scale', ones([3]));
    this.registerBuffer('count', zeros([1]));
  }

  forward(x: Tensor): Tensor {
    return x.mul(this.param('scale'));
  }
}

class Net extends Module {
  readonly body = this.registerModule('body', new Sequential(new Linear(3, 4, { seed: 1 }), new Tanh(), new BatchNorm1d(4)));
  readonly head = this.registerModule('head', new Scale());

  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x).slice(1, 0, 3));
  }
}

describe('Module', () => {
  test('names parameters, buffers and children with dotted paths in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias', 'head.scale']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['body.2.running_mean', 'body.2.running_var', 'body.2.num_batches_tracked', 'head.count']);
    expect(Object.keys(net.stateDict())).toEqual([
      'body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias',
      'body.2.running_mean', 'body.2.running_var', 'body.2.num_batches_tracked', 'head.scale', 'head.count',
    ]);
    expect(net.children()).toEqual([net.body, net.head]);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'body', 'body.0', 'body.1', 'body.2', 'head']);
    expect(net.numParameters()).toBe(12 + 4 + 4 + 4 + 3);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  test('MLP names its layers layers.i', () => {
    const m = new MLP([2, 8, 8, 1], { seed: 0 });
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias', 'layers.4.weight', 'layers.4.bias',
    ]);
  });

  test('a shared parameter is listed once', () => {
    const shared = new Linear(2, 2, { seed: 0 });
    const seq = new Sequential(shared, shared);
    expect(seq.parameters()).toHaveLength(2);
  });

  test('rejects bad and duplicate names', () => {
    const m = new Scale();
    expect(() => m.registerParameter('scale', ones([1]))).toThrow(/already registered/);
    expect(() => m.registerParameter('a.b', ones([1]))).toThrow(/without '\.'/);
    expect(() => m.registerParameter('a\ud800', ones([1]))).toThrow(/well-formed/);
    expect(() => m.registerModule('\udfff', new Scale())).toThrow(/well-formed/);
    expect(() => m.registerParameter('x', ones([1], { requiresGrad: true }).mul(2))).toThrow(/leaf/);
  });

  test('train/eval set the flag recursively; zeroGrad clears gradients', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.forward(tensor([[1, 2, 3], [3, 2, 1]])).sum().backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  test('stateDict shares storage, carries no graph; loadStateDict copies in place', () => {
    const a = new Net();
    const b = new Net();
    b.parameters().forEach((p) => p.data.fill(0.5));
    const weightBefore = a.body.at(0) as Linear;
    const ref = weightBefore.weight;
    const result = a.loadStateDict(b.stateDict());
    expect(result.loaded).toHaveLength(9);
    expect(weightBefore.weight).toBe(ref); // same tensor object: optimisers stay valid
    expect(Array.from(ref.data)).toEqual(new Array(12).fill(0.5));
    const sd = a.stateDict();
    expect(sd['head.scale']!.requiresGrad).toBe(false);
    sd['head.scale']!.data[0] = 7;
    expect(a.head.stateDict()['scale']!.data[0]).toBe(7);
  });

  test('strict load lists every offending key and loads nothing', () => {
    const net = new Net();
    const before = net.parameters().map((p) => Float32Array.from(p.data));
    const dict = { ...net.stateDict() };
    delete dict['body.0.bias'];
    delete dict['head.count'];
    dict['extra.weight'] = ones([2]);
    dict['body.0.weight'] = ones([4, 4]);
    dict['head.scale'] = ones([3], { dtype: 'float64' });
    dict['body.2.bias'] = zeros([4]);
    let message = '';
    try {
      net.loadStateDict(dict);
    } catch (e) {
      expect(e).toBeInstanceOf(StateDictError);
      message = (e as Error).message;
    }
    for (const key of ["missing key 'body.0.bias'", "missing key 'head.count'", "unexpected key 'extra.weight'", "'body.0.weight': shape [4,4] in the dict, [4,3] in the module", "'head.scale': dtype float64 in the dict, float32 in the module"]) {
      expect(message).toContain(key);
    }
    expect(message).toContain('5 problem(s)');
    // body.2.bias was fine but nothing is half-loaded.
    net.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(before[i]!)));
  });

  test('non-strict load reports missing and unexpected keys, still rejects shape mismatches', () => {
    const net = new Net();
    const dict: Record<string, Tensor> = { 'head.scale': tensor([1, 2, 3]), 'nope': ones([1]) };
    const r = net.loadStateDict(dict, { strict: false });
    expect(r.loaded).toEqual(['head.scale']);
    expect(r.unexpected).toEqual(['nope']);
    expect(r.missing).toHaveLength(8);
    expect(Array.from(net.head.stateDict()['scale']!.data)).toEqual([1, 2, 3]);
    expect(() => net.loadStateDict({ 'head.scale': ones([2]) }, { strict: false })).toThrow(StateDictError);
  });

  test('functionalCall swaps tensors for one call and restores them', () => {
    const lin = new Linear(2, 1, { seed: 0, dtype: 'float64' });
    const x = tensor([[1, 2]], { dtype: 'float64' });
    const w = tensor([[3, 4]], { dtype: 'float64', requiresGrad: true });
    const y = functionalCall(lin, { weight: w }, x);
    expect(y.item()).toBeCloseTo(11 + lin.bias!.data[0]!, 12);
    y.backward();
    expect(Array.from(w.grad!.data)).toEqual([1, 2]);
    expect(lin.weight).not.toBe(w);
    expect(() => functionalCall(lin, { weight: tensor([1, 2, 3], { dtype: 'float64' }) }, x)).toThrow(/shape/);
    expect(() => functionalCall(lin, { nope: w }, x)).toThrow(/no parameter or buffer 'nope'/);
  });

  test('forward takes and returns what the class declares, through functionalCall too', () => {
    // Bilinear-ish: x·s + (y·s when given), returning both the result and its sum.
    class Pair extends Module<[Tensor, Tensor?], { out: Tensor; total: Tensor }> {
      constructor() {
        super();
        this.registerParameter('s', tensor([2, 3], { dtype: 'float64' }));
      }

      forward(x: Tensor, y?: Tensor): { out: Tensor; total: Tensor } {
        const s = this.param('s');
        const out = y === undefined ? x.mul(s) : x.mul(s).add(y.mul(s));
        return { out, total: out.sum() };
      }
    }
    const m = new Pair();
    const x = tensor([1, 1], { dtype: 'float64' });
    const y = tensor([10, 100], { dtype: 'float64' });
    expect(Array.from(m.forward(x).out.data)).toEqual([2, 3]);
    expect(m.forward(x, y).total.item()).toBe(2 + 3 + 20 + 300);
    const s = tensor([1, -1], { dtype: 'float64', requiresGrad: true });
    const r = functionalCall(m, { s }, x, y);
    expect(Array.from(r.out.data)).toEqual([11, -101]);
    r.total.backward();
    expect(Array.from(s.grad!.data)).toEqual([11, 101]);
    // @ts-expect-error: Pair's forward takes tensors, not a number.
    expect(() => functionalCall(m, {}, 3)).toThrow();
    // A container holds modules of any signature.
    const holder = new Sequential();
    holder.registerModule('pair', m);
    expect(holder.namedModules().map(([name]) => name)).toEqual(['', 'pair']);
  });

  test('toString shows the tree', () => {
    expect(new Sequential(new Linear(2, 3), new Dropout(0.1)).toString()).toBe(
      'Sequential(\n  (0): Linear(inFeatures=2, outFeatures=3, bias=true)\n  (1): Dropout(p=0.1)\n)',
    );
  });
});
