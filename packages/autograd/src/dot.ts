import { Tensor } from './tensor.js';
import { Value } from './value.js';
import { topoSort } from './engine/topo-sort.js';
import { formatShape } from './shape.js';

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function norm(t: Tensor): number {
  let s = 0;
  for (let i = 0; i < t.data.length; i++) s += t.data[i]! * t.data[i]!;
  return Math.sqrt(s);
}

function tensorLabel(t: Tensor): { label: string; shape: string } {
  const grad = t.grad === null ? '' : `\n|grad| ${norm(t.grad).toPrecision(4)}`;
  if (t.gradFn !== null) return { label: `${t.gradFn.op}\n${formatShape(t.shape)} ${t.dtype}${grad}`, shape: 'box' };
  return { label: `leaf\n${formatShape(t.shape)} ${t.dtype}${t.requiresGrad ? '\nrequiresGrad' : ''}${grad}`, shape: 'ellipse' };
}

function valueLabel(v: Value): { label: string; shape: string } {
  const name = v.label === '' ? '' : `${v.label}\n`;
  const body = `${name}data ${v.data.toPrecision(4)}\ngrad ${v.grad.toPrecision(4)}`;
  return v.op === 'leaf' ? { label: `leaf\n${body}`, shape: 'ellipse' } : { label: `${v.op}\n${body}`, shape: 'box' };
}

/**
 * Graphviz DOT text of the graph behind a Tensor or Value: one box per op (name, output shape,
 * dtype) and one ellipse per leaf (shape, requiresGrad), with the gradient's norm when present.
 * `toSvg` in `@chainrule/autograd/viz` draws it as SVG with no Graphviz installed; `dot -Tsvg`
 * renders the text too. @example writeFileSync('graph.dot', toDot(loss))
 */
export function toDot(root: Tensor | Value): string {
  const order = topoSort<Tensor | Value>([root]);
  const ids = new Map<Tensor | Value, string>(order.map((n, i) => [n, `n${i}`]));
  const lines = ['digraph chainrule {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const n of order) {
    const { label, shape } = n instanceof Tensor ? tensorLabel(n) : valueLabel(n);
    lines.push(`  ${ids.get(n)} [label="${escape(label)}", shape=${shape}];`);
  }
  for (const n of order) {
    for (const p of n.parents) lines.push(`  ${ids.get(p as Tensor | Value)} -> ${ids.get(n)};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
