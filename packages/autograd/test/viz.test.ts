// toSvg draws through Graphviz compiled to WebAssembly: these tests read the drawn SVG back
// (node groups, edge groups, their text and positions) and compare it with graphs whose ops,
// edges and gradient norms are counted or computed by hand here.
import { describe, expect, test } from 'vitest';
import { ArgumentError, Value, tensor } from '@chainrule/autograd';
import { dotToSvg, toSvg } from '@chainrule/autograd/viz';

interface DrawnNode {
  /** Lines of text in the node, unescaped: op or `leaf` first. */
  lines: string[];
  /** Horizontal centre of the node's text. */
  x: number;
}

const unescape = (s: string): string =>
  s.replace(/&#45;/g, '-').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Nodes (by Graphviz id) and edges (as pairs of ids) of an SVG drawn by Graphviz. */
function readSvg(svg: string): { nodes: Map<string, DrawnNode>; edges: [string, string][] } {
  const nodes = new Map<string, DrawnNode>();
  const edges: [string, string][] = [];
  for (const [, kind, body] of svg.matchAll(/<g id="\w+" class="(node|edge)">([\s\S]*?)<\/g>/g)) {
    const title = unescape(/<title>([^<]*)<\/title>/.exec(body!)![1]!);
    if (kind === 'edge') {
      const [from, to] = title.split('->');
      edges.push([from!, to!]);
      continue;
    }
    const texts = [...body!.matchAll(/<text[^>]* x="([-\d.]+)"[^>]*>([^<]*)<\/text>/g)];
    nodes.set(title, { lines: texts.map((t) => unescape(t[2]!)), x: Number(texts[0]![1]) });
  }
  return { nodes, edges };
}

/** Edges named by the first line of each end's label (op name or `leaf`) plus the given extra line. */
function namedEdges(svg: string, name: (n: DrawnNode) => string): string[] {
  const { nodes, edges } = readSvg(svg);
  return edges.map(([a, b]) => `${name(nodes.get(a)!)} -> ${name(nodes.get(b)!)}`).sort();
}

describe('toSvg', () => {
  test('a Value graph: one node per leaf and op, one edge per input, a used twice', async () => {
    const a = new Value(2, 'a');
    const b = new Value(-3, 'b');
    const c = a.mul(b).add(a.tanh());
    c.backward();
    const svg = await toSvg(c);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<\?xml|<!DOCTYPE/);

    const { nodes, edges } = readSvg(svg);
    expect(nodes.size).toBe(5);
    expect(edges).toHaveLength(5);
    // Leaves are named by their label, ops by their name.
    const name = (n: DrawnNode): string => (n.lines[0] === 'leaf' ? n.lines[1]! : n.lines[0]!);
    expect(namedEdges(svg, name)).toEqual(['a -> mul', 'a -> tanh', 'b -> mul', 'mul -> add', 'tanh -> add']);
    // ∂c/∂a = b + 1 - tanh²(2) = -2.0707, ∂c/∂b = a = 2, drawn to 4 significant digits.
    const leafA = [...nodes.values()].find((n) => n.lines[1] === 'a')!;
    expect(leafA.lines).toContain(`grad ${(-3 + 1 - Math.tanh(2) ** 2).toPrecision(4)}`);
    expect([...nodes.values()].find((n) => n.lines[1] === 'b')!.lines).toContain('grad 2.000');
  });

  test('a tensor graph: ops with shape and dtype, leaves left of the ops they feed, gradient norms', async () => {
    const x = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const w = tensor([[0.5], [-1]], { dtype: 'float64', requiresGrad: true });
    const bias = tensor([0.25], { dtype: 'float64', requiresGrad: true });
    const loss = x.matmul(w).add(bias).relu().sum();
    loss.backward({ retainGraph: true });
    const svg = await toSvg(loss);

    const { nodes, edges } = readSvg(svg);
    expect(nodes.size).toBe(7);
    const ops = [...nodes.values()].map((n) => n.lines[0]).sort();
    expect(ops).toEqual(['add', 'leaf', 'leaf', 'leaf', 'matmul', 'relu', 'sum']);
    const byOp = (op: string): DrawnNode => [...nodes.values()].find((n) => n.lines[0] === op)!;
    expect(byOp('matmul').lines.slice(1)).toEqual(['[2,1] float64']);
    expect(byOp('sum').lines.slice(1)).toEqual(['[] float64']);
    const name = (n: DrawnNode): string => (n.lines[0] === 'leaf' ? `leaf ${n.lines[1]}` : n.lines[0]!);
    expect(namedEdges(svg, name)).toEqual([
      'add -> relu', 'leaf [1] float64 -> add', 'leaf [2,1] float64 -> matmul', 'leaf [2,2] float64 -> matmul', 'matmul -> add', 'relu -> sum',
    ]);
    // rankdir=LR: every edge runs rightwards.
    for (const [from, to] of edges) expect(nodes.get(from)!.x).toBeLessThan(nodes.get(to)!.x);
    // x @ w = [-1.5, -2.5] + 0.25 < 0: relu passes no gradient, so |grad| is 0 for w and bias; x has none.
    const leaves = [...nodes.values()].filter((n) => n.lines[0] === 'leaf');
    expect(leaves.map((n) => n.lines.slice(1).join(' ')).sort()).toEqual([
      '[1] float64 requiresGrad |grad| 0.000', '[2,1] float64 requiresGrad |grad| 0.000', '[2,2] float64',
    ]);
  });

  test('gradient norms are drawn from the gradients: d sum(x @ w) / dw is the column sums of x', async () => {
    const x = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const w = tensor([[0.5], [-1]], { dtype: 'float64', requiresGrad: true });
    const loss = x.matmul(w).sum();
    loss.backward({ retainGraph: true });
    const leafW = [...readSvg(await toSvg(loss)).nodes.values()].find((n) => n.lines.includes('requiresGrad'))!;
    expect(leafW.lines).toContain(`|grad| ${Math.hypot(4, 6).toPrecision(4)}`);
  });

  test('labels with quotes, backslashes and markup come through as text, escaped in the SVG', async () => {
    const label = 'say "<b>hi</b>" \\ & bye';
    const svg = await toSvg(new Value(1, label).exp());
    expect(svg).not.toContain('<b>');
    const leaf = [...readSvg(svg).nodes.values()].find((n) => n.lines[0] === 'leaf')!;
    expect(leaf.lines[1]).toBe(label);
  });

  test('a chain of 200 ops draws every node and edge', async () => {
    let v = new Value(0.5, 'x');
    for (let i = 0; i < 200; i++) v = i % 2 === 0 ? v.tanh() : v.mul(1.01);
    const { nodes, edges } = readSvg(await toSvg(v));
    // 100 tanh, 100 mul and their 100 constants, and x.
    expect(nodes.size).toBe(301);
    expect(edges).toHaveLength(300);
  });
});

describe('dotToSvg', () => {
  test('renders DOT text of any origin', async () => {
    const { nodes, edges } = readSvg(await dotToSvg('digraph { x -> y; y -> z; x -> z }'));
    expect([...nodes.keys()].sort()).toEqual(['x', 'y', 'z']);
    expect(edges.map((e) => e.join('->')).sort()).toEqual(['x->y', 'x->z', 'y->z']);
  });

  test('DOT that does not parse is an ArgumentError carrying Graphviz\'s message', async () => {
    const error = await dotToSvg('digraph { a -> }').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(/^dotToSvg: Graphviz could not render the DOT text: syntax error in line 1/);
  });

  test('something other than a string is an ArgumentError naming its type', async () => {
    await expect(dotToSvg(42 as unknown as string)).rejects.toThrow(new ArgumentError('dotToSvg: expected DOT text as a string, got number'));
  });
});
