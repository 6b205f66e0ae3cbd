import { describe, expect, test } from 'vitest';
import { ArgumentError, tensor, type Tensor } from '@chainrule/autograd';
import { type AnyModule, BatchNorm1d, Linear, Module, ModuleDict, ModuleList, ReLU, SGD, Sequential } from '@chainrule/nn';

class Tower extends Module {
  readonly blocks = this.registerModule('blocks', new ModuleList([new Linear(2, 3, { seed: 1 }), new Linear(3, 2, { seed: 2 })]));
  readonly heads = this.registerModule('heads', new ModuleDict({ cls: new Linear(2, 4, { seed: 3 }), box: new Linear(2, 1, { seed: 4 }) }));

  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.blocks) h = b.forward(h).relu();
    return this.heads.get('cls').forward(h);
  }
}

describe('ModuleList and ModuleDict', () => {
  test('name their children as PyTorch (blocks.0.weight, heads.cls.bias) in insertion order', () => {
    const t = new Tower();
    expect(Object.keys(t.stateDict())).toEqual([
      'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias',
      'heads.cls.weight', 'heads.cls.bias', 'heads.box.weight', 'heads.box.bias',
    ]);
    expect(t.forward(tensor([[1, -1]])).shape).toEqual([1, 4]);
  });

  test('ModuleList appends, extends, indexes from either end and iterates', () => {
    const a = new Linear(1, 1), b = new ReLU(), c = new Linear(1, 2);
    const list = new ModuleList<Module>([a]).append(b).extend([c]);
    expect(list.length).toBe(3);
    expect([...list]).toEqual([a, b, c]);
    expect(list.at(0)).toBe(a);
    expect(list.at(-1)).toBe(c);
    expect(list.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2']);
    expect(() => list.at(3)).toThrow('ModuleList: index 3 is out of range for 3 module(s)');
    expect(() => list.at(0.5)).toThrow(ArgumentError);
    expect(() => list.append({} as Module)).toThrow('ModuleList: item 3 is not a Module');
    expect(() => list.forward(tensor([1]))).toThrow(/ModuleList has no forward/);
  });

  test('ModuleDict gets, lists keys, refuses a taken or dotted key and names the keys it has', () => {
    const d = new ModuleDict([['enc', new Linear(2, 2)], ['dec', new Linear(2, 2)]] as const);
    expect(d.size).toBe(2);
    expect([...d.keys()]).toEqual(['enc', 'dec']);
    expect([...d].map(([k]) => k)).toEqual(['enc', 'dec']);
    expect(d.has('enc')).toBe(true);
    expect(() => d.get('mid')).toThrow(`ModuleDict: no module "mid"; keys are ["enc","dec"]`);
    expect(() => d.set('enc', new Linear(1, 1))).toThrow(/'enc' is already registered/);
    expect(() => d.set('a.b', new Linear(1, 1))).toThrow(/without '\.'/);
    expect(() => d.forward(tensor([1]))).toThrow(/ModuleDict has no forward/);
  });
});

describe('apply, requiresGrad_ and parameter selection', () => {
  test('apply visits children before their parent, each module once, and returns the module', () => {
    const shared = new Linear(1, 1);
    const inner = new Sequential(shared, new ReLU());
    const outer = new Sequential(inner, shared);
    const seen: AnyModule[] = [];
    expect(outer.apply((m) => seen.push(m))).toBe(outer);
    expect(seen).toEqual([shared, inner.at(1), inner, outer]);
  });

  test('requiresGrad_(false) freezes every parameter: backward leaves their grad null and SGD leaves them as they were', () => {
    const net = new Sequential(new Linear(2, 2, { seed: 0 }), new BatchNorm1d(2), new Linear(2, 1, { seed: 1 }));
    const frozen = net.at(0) as Linear;
    expect(frozen.requiresGrad_(false)).toBe(frozen);
    expect(frozen.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(net.at(2).parameters().every((p) => p.requiresGrad)).toBe(true);
    const before = Array.from(frozen.weight.data);
    const opt = new SGD(net.parameters(), { lr: 0.5 });
    net.forward(tensor([[1, 2], [3, -1]])).sum().backward();
    expect(frozen.weight.grad).toBeNull();
    expect(net.at(2).parameters().every((p) => p.grad !== null)).toBe(true);
    opt.step();
    expect(Array.from(frozen.weight.data)).toEqual(before);
    net.requiresGrad_();
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    // Buffers stay what they were.
    expect(net.namedBuffers().every(([, b]) => !b.requiresGrad)).toBe(true);
  });

  test('parameters(select) picks a subtree by path, one parameter by name, or by predicate', () => {
    const t = new Tower();
    expect(t.namedParameters('heads').map(([n]) => n)).toEqual(['heads.cls.weight', 'heads.cls.bias', 'heads.box.weight', 'heads.box.bias']);
    expect(t.namedParameters('blocks.1').map(([n]) => n)).toEqual(['blocks.1.weight', 'blocks.1.bias']);
    expect(t.parameters('heads.box.bias')).toEqual([(t.heads.get('box') as Linear).bias]);
    expect(t.namedParameters((n) => n.endsWith('bias')).map(([n]) => n)).toEqual(['blocks.0.bias', 'blocks.1.bias', 'heads.cls.bias', 'heads.box.bias']);
    // A path is a whole name segment: 'block' is not a prefix of 'blocks.0.weight'.
    expect(() => t.parameters('block')).toThrow(`Tower.namedParameters: no module or parameter named 'block'`);
    // A module without parameters is a valid, empty selection.
    expect(new Sequential(new ReLU()).parameters('0')).toEqual([]);
  });

  test('parameter groups by name give each group its own learning rate', () => {
    const t = new Tower();
    const opt = new SGD([{ params: t.parameters('heads'), lr: 1 }, { params: t.parameters((n) => !n.startsWith('heads.')) }], { lr: 0 });
    // The head's bias gets gradient 1 whatever the relus do.
    const head = Array.from((t.heads.get('cls') as Linear).bias!.data);
    const body = Array.from((t.blocks.at(0) as Linear).weight.data);
    t.forward(tensor([[1, 2]])).sum().backward();
    opt.step();
    expect(Array.from((t.blocks.at(0) as Linear).weight.data)).toEqual(body);
    expect(Array.from((t.heads.get('cls') as Linear).bias!.data)).toEqual(head.map((v) => Math.fround(v - 1)));
  });
});
