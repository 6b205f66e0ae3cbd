import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, shapesEqual, sizeOf } from '../shape.js';
import { expectTensor, Tensor } from '../tensor.js';
import { promoteAll } from './operands.js';
import { gather } from './gather.js';
import { matmulT } from './matmul.js';
import { sum } from './reduce.js';
import { permute, reshape } from './shape.js';
import { primitive } from '../engine/dispatch.js';

// Letters are labels 0..51 (A-Z, then a-z); the axes an ellipsis stands for are 52, 53, ...,
// counted from the left of the widest ellipsis, so they line up from the right as broadcasting does.
const LETTERS = 52;

/** Upper case first, as in ASCII: the implicit output's order. */
function labelOf(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 97 + 26;
  return -1;
}

function nameOf(label: number): string {
  return label < 26 ? String.fromCharCode(65 + label) : label < LETTERS ? String.fromCharCode(97 + label - 26) : `...${label - LETTERS}`;
}

interface Subscripts {
  letters: number[];
  /** Position of the ellipsis among the letters, or -1. */
  ellipsisAt: number;
}

function parseSubscripts(equation: string, part: string): Subscripts {
  const letters: number[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === ' ') continue;
    if (c === '.') {
      if (part.slice(i, i + 3) !== '...' || ellipsisAt >= 0) {
        throw new ArgumentError(`einsum: '${equation}' has a '.' that is not part of one '...' per term`);
      }
      ellipsisAt = letters.length;
      i += 2;
      continue;
    }
    const label = labelOf(c);
    if (label < 0) throw new ArgumentError(`einsum: '${equation}' holds '${c}'; subscripts are letters a-z, A-Z and '...'`);
    letters.push(label);
  }
  return { letters, ellipsisAt };
}

/**
 * Einstein summation (`torch.einsum`): `'ij,jk->ik'` multiplies matrices, `'bij,bjk->bik'`
 * batches them, `'ii->i'` takes a diagonal, `'ii'` a trace, `'...ij->...ji'` transposes behind
 * any batch axes. Labels are letters (a-z, A-Z); a label repeated in one operand takes that
 * diagonal; without '->' the output is the ellipsis axes, then the labels that appear once in
 * ASCII order (A-Z before a-z). Labels (and ellipsis axes) of size 1 broadcast against other
 * sizes, as in PyTorch. Labels absent from the output are summed.
 *
 * Labels only one operand has are summed away first; then operands are contracted two at a
 * time, the pair whose result is smallest first (opt_einsum's 'greedy' order; ties go to the
 * pair with fewer multiply-adds). Each pairwise step is a permute, a reshape and a batched
 * matmul (or a broadcast multiply when nothing is summed), so gradients are contractions of the
 * same kind, differentiable again. The plan (parsing, checks, order, permutations) is kept per
 * equation and operand shapes, so a call in a loop only runs the steps.
 *
 * @throws ArgumentError for a malformed equation, a wrong number of operands, or an output label that no operand has or that repeats.
 * @throws ShapeError if an operand's rank does not match its subscripts or a label's sizes disagree (other than 1).
 * @throws DTypeError if float32 meets float64 (int32 and bool operands are computed in float).
 * @example einsum('bij,bjk->bik', a, b)
 * @example einsum('i,i->', x, y) // dot product
 */
export const einsum = primitive('einsum', { kind: 'contraction', rule: 'einsum' }, function (equation: string, ...operands: Tensor[]): Tensor {
  if (typeof equation !== 'string') throw new ArgumentError(`einsum: the equation must be a string, got ${typeof equation}`);
  const given = operands.map((t, i) => expectTensor('einsum', `operands[${i}]`, t));
  if (given.length === 0) throw new ArgumentError(`einsum: '${equation}' needs at least one operand`);
  const xs = promoteAll('einsum', given, 'float');
  let key = equation;
  for (const x of xs) key += `|${x.shape.join(',')}`;
  let found = plans.get(key);
  if (found === undefined) {
    found = plan(equation, xs.map((x) => x.shape));
    if (plans.size >= MAX_PLANS) plans.clear();
    plans.set(key, found);
  }
  return run(found, xs);
});

/** Plans by equation and operand shapes; cleared when full (a loop reuses a handful). */
const plans = new Map<string, Plan>();
const MAX_PLANS = 256;

/**
 * One step of a plan, on registers that start as the operands: reshape, permute, sum or take
 * the diagonal (a gather at flat positions) of register `at`; combine `a` and `b` into `a`.
 */
type Step =
  | { op: 'reshape'; at: number; shape: number[] }
  | { op: 'permute'; at: number; perm: number[] }
  | { op: 'sum'; at: number; axes: number[] }
  | { op: 'gather'; at: number; index: Int32Array }
  | { op: 'matmul'; a: number; b: number; transA: boolean; transB: boolean }
  | { op: 'mul'; a: number; b: number };

/** Steps that leave the result in register `result`. */
interface Plan {
  steps: Step[];
  result: number;
}

function run(plan: Plan, xs: Tensor[]): Tensor {
  const r = [...xs];
  for (const s of plan.steps) {
    switch (s.op) {
      case 'reshape': r[s.at] = reshape(r[s.at]!, s.shape); break;
      case 'permute': r[s.at] = permute(r[s.at]!, s.perm); break;
      case 'sum': r[s.at] = sum(r[s.at]!, s.axes); break;
      // The index is only read, so one array serves every call.
      case 'gather': r[s.at] = gather(reshape(r[s.at]!, [r[s.at]!.size]), 0, new Tensor(s.index, [s.index.length])); break;
      case 'matmul': r[s.a] = matmulT(r[s.a]!, r[s.b]!, s.transA, s.transB); break;
      case 'mul': r[s.a] = r[s.a]!.mul(r[s.b]!); break;
    }
  }
  return r[plan.result]!;
}

/** Checks the equation against the shapes and plans its steps. */
function plan(equation: string, shapeList: readonly (readonly number[])[]): Plan {
  const arrow = equation.indexOf('->');
  const lhs = arrow >= 0 ? equation.slice(0, arrow) : equation;
  if (arrow >= 0 && equation.indexOf('->', arrow + 2) >= 0) throw new ArgumentError(`einsum: '${equation}' has more than one '->'`);
  const parts = lhs.split(',').map((p) => parseSubscripts(equation, p));
  const shapes = (): string => shapeList.map((s) => formatShape(s)).join(', ');
  if (parts.length !== shapeList.length) {
    throw new ArgumentError(`einsum: '${equation}' has ${parts.length} term(s) but ${shapeList.length} operand(s) were given (shapes ${shapes()})`);
  }
  // Each operand's full label list, ellipsis axes numbered from the left of the widest one.
  const ellipsisRanks = parts.map((p, i) => {
    const rank = shapeList[i]!.length - p.letters.length;
    if (p.ellipsisAt < 0 ? rank !== 0 : rank < 0) {
      throw new ShapeError(`einsum: term ${i} of '${equation}' has ${p.letters.length} subscript(s)${p.ellipsisAt >= 0 ? ' and ...' : ''} but operand ${i} has shape ${formatShape(shapeList[i]!)}`);
    }
    return p.ellipsisAt < 0 ? 0 : rank;
  });
  const ellipsisRank = Math.max(0, ...ellipsisRanks);
  const fullLabels = parts.map((p, i) => {
    if (p.ellipsisAt < 0) return p.letters;
    const e = ellipsisRanks[i]!;
    const ell = Array.from({ length: e }, (_, k) => LETTERS + ellipsisRank - e + k);
    return [...p.letters.slice(0, p.ellipsisAt), ...ell, ...p.letters.slice(p.ellipsisAt)];
  });

  // The size of each label: sizes must agree, except 1, which broadcasts.
  const sizes = new Map<number, number>();
  fullLabels.forEach((labels, i) => labels.forEach((label, d) => {
    const n = shapeList[i]![d]!;
    const known = sizes.get(label);
    if (known === undefined || known === 1) sizes.set(label, n);
    else if (n !== 1 && n !== known) {
      throw new ShapeError(`einsum: label ${nameOf(label)} of '${equation}' has sizes ${known} and ${n} (shapes ${shapes()})`);
    }
  }));

  let output: number[];
  if (arrow >= 0) {
    const out = parseSubscripts(equation, equation.slice(arrow + 2));
    const ell = Array.from({ length: ellipsisRank }, (_, k) => LETTERS + k);
    output = out.ellipsisAt < 0 ? out.letters : [...out.letters.slice(0, out.ellipsisAt), ...ell, ...out.letters.slice(out.ellipsisAt)];
    // Ellipsis axes the output leaves out are summed, as any label it leaves out.
    for (let i = 0; i < output.length; i++) {
      const label = output[i]!;
      if (!sizes.has(label) && label < LETTERS) throw new ArgumentError(`einsum: output label ${nameOf(label)} of '${equation}' appears in no operand`);
      if (output.indexOf(label) !== i) throw new ArgumentError(`einsum: output label ${nameOf(label)} of '${equation}' appears more than once`);
    }
  } else {
    const counts = new Map<number, number>();
    for (const labels of parts) for (const l of labels.letters) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l).sort((a, b) => a - b);
    output = [...Array.from({ length: ellipsisRank }, (_, k) => LETTERS + k), ...once];
  }

  const steps: Step[] = [];
  // Diagonals of repeated labels; size-1 axes of labels that are larger elsewhere dropped (broadcast).
  const terms: Sym[] = shapeList.map((shape, i) => dropBroadcastAxes(i, takeDiagonals(i, { shape: [...shape], labels: fullLabels[i]! }, steps), sizes, steps));
  const { at, term } = contractAll(terms, output, sizes, steps);
  // Output labels of size 1 that every operand dropped, and ellipsis axes no operand had, come back as size 1.
  const perm = output.filter((l) => term.labels.includes(l)).map((l) => term.labels.indexOf(l));
  if (perm.some((p, i) => p !== i)) steps.push({ op: 'permute', at, perm });
  const final = output.map((l) => sizes.get(l) ?? 1);
  if (!shapesEqual(final, perm.map((p) => term.shape[p]!))) steps.push({ op: 'reshape', at, shape: final });
  return { steps, result: at };
}

/** An operand as planning sees it: its shape and one label per axis. */
interface Sym {
  shape: number[];
  labels: number[];
}

/** Plans the diagonal of each label repeated in term `at`: one gather over the flattened operand. */
function takeDiagonals(at: number, term: Sym, steps: Step[]): Sym {
  const { shape: full, labels } = term;
  const unique = labels.filter((l, i) => labels.indexOf(l) === i);
  if (unique.length === labels.length) return term;
  for (const l of unique) {
    const dims = labels.flatMap((m, d) => (m === l ? [full[d]!] : []));
    if (dims.some((n) => n !== dims[0])) {
      throw new ShapeError(`einsum: label ${nameOf(l)} repeats in an operand of shape ${formatShape(full)} over axes of different sizes ${JSON.stringify(dims)}`);
    }
  }
  const shape = unique.map((l) => full[labels.indexOf(l)]!);
  const strides = new Array<number>(labels.length);
  for (let d = labels.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= full[d]!;
  }
  // Each unique label's stride in the flat operand: the sum of the strides of its axes.
  const uniqueStrides = unique.map((l) => labels.reduce((s, m, d) => (m === l ? s + strides[d]! : s), 0));
  const count = sizeOf(shape);
  const index = new Int32Array(count);
  for (let flat = 0; flat < count; flat++) {
    let rest = flat, offset = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rest % shape[d]!;
      rest = (rest - i) / shape[d]!;
      offset += i * uniqueStrides[d]!;
    }
    index[flat] = offset;
  }
  steps.push({ op: 'gather', at, index }, { op: 'reshape', at, shape });
  return { shape, labels: unique };
}

function dropBroadcastAxes(at: number, term: Sym, sizes: Map<number, number>, steps: Step[]): Sym {
  const keep = term.labels.map((l, d) => term.shape[d] === sizes.get(l));
  if (keep.every(Boolean)) return term;
  const shape = term.shape.filter((_, d) => keep[d]);
  steps.push({ op: 'reshape', at, shape });
  return { shape, labels: term.labels.filter((_, d) => keep[d]) };
}

/** Plans the sum of the labels of term `at` that are not in `needed`. */
function sumAway(at: number, term: Sym, needed: Set<number>, steps: Step[]): Sym {
  const axes = term.labels.flatMap((l, d) => (needed.has(l) ? [] : [d]));
  if (axes.length === 0) return term;
  steps.push({ op: 'sum', at, axes });
  return { shape: term.shape.filter((_, d) => !axes.includes(d)), labels: term.labels.filter((l) => needed.has(l)) };
}

/** Labels needed after combining: those of the output and of the terms other than `skip`. */
function neededBeyond(terms: readonly Sym[], skip: readonly number[], output: readonly number[]): Set<number> {
  const needed = new Set(output);
  terms.forEach((term, i) => {
    if (!skip.includes(i)) for (const l of term.labels) needed.add(l);
  });
  return needed;
}

/** Plans the contraction of every term into one register (a pair's result goes to the first one's). */
function contractAll(initial: Sym[], output: readonly number[], sizes: Map<number, number>, steps: Step[]): { at: number; term: Sym } {
  let live = initial.map((term, i) => ({ at: i, term: sumAway(i, term, neededBeyond(initial, [i], output), steps) }));
  const sizeOfLabels = (labels: Iterable<number>): number => {
    let s = 1;
    for (const l of labels) s *= sizes.get(l)!;
    return s;
  };
  while (live.length > 1) {
    const terms = live.map((x) => x.term);
    // Greedy: the pair whose result is smallest relative to what it consumes; among equals, the
    // one with the fewest multiply-adds (one per combination of all its labels).
    let best: [number, number] = [0, 1];
    let bestCost = Infinity, bestWork = Infinity;
    for (let i = 0; i < terms.length; i++) {
      for (let j = i + 1; j < terms.length; j++) {
        const needed = neededBeyond(terms, [i, j], output);
        const all = new Set([...terms[i]!.labels, ...terms[j]!.labels]);
        const kept = [...all].filter((l) => needed.has(l));
        const cost = sizeOfLabels(kept) - sizeOfLabels(terms[i]!.labels) - sizeOfLabels(terms[j]!.labels);
        const work = sizeOfLabels(all);
        if (cost < bestCost || (cost === bestCost && work < bestWork)) {
          bestCost = cost;
          bestWork = work;
          best = [i, j];
        }
      }
    }
    const [i, j] = best;
    const a = live[i]!, b = live[j]!;
    const term = contractPair(a.at, a.term, b.at, b.term, neededBeyond(terms, [i, j], output), steps);
    live = [...live.filter((_, k) => k !== i && k !== j), { at: a.at, term }];
  }
  return live[0]!;
}

/**
 * Plans one pairwise step into register `ra`: batch labels (in both, kept), left-only,
 * right-only and contracted labels (in both, not kept), as [batch, left, contracted] ·
 * [batch, contracted, right] on the batched matmul; without contracted labels, a broadcast multiply.
 */
function contractPair(ra: number, a: Sym, rb: number, b: Sym, needed: Set<number>, steps: Step[]): Sym {
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && needed.has(l));
  const contracted = a.labels.filter((l) => inB.has(l) && !needed.has(l));
  const left = a.labels.filter((l) => !inB.has(l));
  const right = b.labels.filter((l) => !inA.has(l));
  const dims = (t: Sym, labels: readonly number[]): number[] => labels.map((l) => t.shape[t.labels.indexOf(l)]!);
  const arrange = (at: number, t: Sym, labels: readonly number[], shape: number[]): void => {
    const perm = labels.map((l) => t.labels.indexOf(l));
    if (perm.some((p, k) => p !== k)) steps.push({ op: 'permute', at, perm });
    if (!shapesEqual(shape, perm.map((p) => t.shape[p]!))) steps.push({ op: 'reshape', at, shape });
  };
  const batchDims = dims(a, batch);
  // Without batch labels the matrices stay 2-D: a plain matrix product then needs no reshape at all.
  const flatBatch = batch.length === 0 ? [] : [sizeOf(batchDims)];
  const m = sizeOf(dims(a, left)), n = sizeOf(dims(b, right)), k = sizeOf(dims(a, contracted));
  if (contracted.length === 0) {
    arrange(ra, a, [...batch, ...left], [...batchDims, m, 1]);
    arrange(rb, b, [...batch, ...right], [...batchDims, 1, n]);
    steps.push({ op: 'mul', a: ra, b: rb });
  } else {
    // Each side read in place, transposed or not, whichever needs no copy.
    const transA = !inOrder(a, [...batch, ...left, ...contracted]) && inOrder(a, [...batch, ...contracted, ...left]);
    const transB = !inOrder(b, [...batch, ...contracted, ...right]) && inOrder(b, [...batch, ...right, ...contracted]);
    arrange(ra, a, transA ? a.labels : [...batch, ...left, ...contracted], [...flatBatch, ...(transA ? [k, m] : [m, k])]);
    arrange(rb, b, transB ? b.labels : [...batch, ...contracted, ...right], [...flatBatch, ...(transB ? [n, k] : [k, n])]);
    steps.push({ op: 'matmul', a: ra, b: rb, transA, transB });
  }
  const shape = [...batchDims, ...dims(a, left), ...dims(b, right)];
  const produced = contracted.length === 0 ? [...batchDims, m, n] : [...flatBatch, m, n];
  if (!shapesEqual(shape, produced)) steps.push({ op: 'reshape', at: ra, shape });
  return { shape, labels: [...batch, ...left, ...right] };
}

function inOrder(t: Sym, order: readonly number[]): boolean {
  return order.every((l, i) => t.labels[i] === l);
}
