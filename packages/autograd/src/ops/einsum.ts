import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { constant, expectTensor, type Tensor } from '../tensor.js';
import { checkSameDType } from './operands.js';
import { gather } from './gather.js';
import { matmulT } from './matmul.js';
import { sum } from './reduce.js';
import { permute, reshape } from './shape.js';

/**
 * An operand on its way through the contraction: its tensor and one label per axis (distinct).
 * Letters are labels 0..51 (A-Z, then a-z); the axes an ellipsis stands for are 52, 53, ..., counted from the
 * left of the widest ellipsis, so they line up from the right as broadcasting does.
 */
interface Term {
  t: Tensor;
  labels: number[];
}

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
 * same kind, differentiable again.
 *
 * @throws ArgumentError for a malformed equation, a wrong number of operands, or an output label that no operand has or that repeats.
 * @throws ShapeError if an operand's rank does not match its subscripts or a label's sizes disagree (other than 1).
 * @throws DTypeError if the operands' dtypes differ.
 * @example einsum('bij,bjk->bik', a, b)
 * @example einsum('i,i->', x, y) // dot product
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (typeof equation !== 'string') throw new ArgumentError(`einsum: the equation must be a string, got ${typeof equation}`);
  const xs = operands.map((t, i) => expectTensor('einsum', `operands[${i}]`, t));
  if (xs.length === 0) throw new ArgumentError(`einsum: '${equation}' needs at least one operand`);
  checkSameDType('einsum', ...xs);
  const arrow = equation.indexOf('->');
  const lhs = arrow >= 0 ? equation.slice(0, arrow) : equation;
  if (arrow >= 0 && equation.indexOf('->', arrow + 2) >= 0) throw new ArgumentError(`einsum: '${equation}' has more than one '->'`);
  const parts = lhs.split(',').map((p) => parseSubscripts(equation, p));
  if (parts.length !== xs.length) {
    throw new ArgumentError(`einsum: '${equation}' has ${parts.length} term(s) but ${xs.length} operand(s) were given (shapes ${xs.map((t) => formatShape(t.shape)).join(', ')})`);
  }
  const shapes = () => xs.map((t) => formatShape(t.shape)).join(', ');

  // Each operand's full label list, ellipsis axes numbered from the left of the widest one.
  const ellipsisRanks = parts.map((p, i) => {
    const rank = xs[i]!.ndim - p.letters.length;
    if (p.ellipsisAt < 0 ? rank !== 0 : rank < 0) {
      throw new ShapeError(`einsum: term ${i} of '${equation}' has ${p.letters.length} subscript(s)${p.ellipsisAt >= 0 ? ' and ...' : ''} but operand ${i} has shape ${formatShape(xs[i]!.shape)}`);
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
    const n = xs[i]!.shape[d]!;
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

  // Diagonals of repeated labels; size-1 axes of labels that are larger elsewhere dropped (broadcast).
  const terms: Term[] = xs.map((t, i) => dropBroadcastAxes(takeDiagonals({ t, labels: fullLabels[i]! }), sizes));
  const result = contractAll(terms, output, sizes);
  // Output labels of size 1 that every operand dropped, and ellipsis axes no operand had.
  const present = result.labels;
  const perm = output.filter((l) => present.includes(l)).map((l) => present.indexOf(l));
  const arranged = permute(result.t, perm);
  return reshape(arranged, output.map((l) => sizes.get(l) ?? 1));
}

/** Replaces each label repeated in a term by its diagonal, as one gather over the flattened operand. */
function takeDiagonals(term: Term): Term {
  const { t, labels } = term;
  const unique = labels.filter((l, i) => labels.indexOf(l) === i);
  if (unique.length === labels.length) return term;
  const shape = unique.map((l) => t.shape[labels.indexOf(l)]!);
  const strides = new Array<number>(labels.length);
  for (let d = labels.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= t.shape[d]!;
  }
  // Each unique label's stride in the flat operand: the sum of the strides of its axes.
  const uniqueStrides = unique.map((l) => labels.reduce((s, m, d) => (m === l ? s + strides[d]! : s), 0));
  for (const l of unique) {
    const dims = labels.flatMap((m, d) => (m === l ? [t.shape[d]!] : []));
    if (dims.some((n) => n !== dims[0])) {
      throw new ShapeError(`einsum: label ${nameOf(l)} repeats in an operand of shape ${formatShape(t.shape)} over axes of different sizes ${JSON.stringify(dims)}`);
    }
  }
  const count = sizeOf(shape);
  const index = new Float64Array(count);
  for (let flat = 0; flat < count; flat++) {
    let rest = flat, at = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rest % shape[d]!;
      rest = (rest - i) / shape[d]!;
      at += i * uniqueStrides[d]!;
    }
    index[flat] = at;
  }
  const picked = gather(reshape(t, [t.size]), 0, constant(index, [count]));
  return { t: reshape(picked, shape), labels: unique };
}

function dropBroadcastAxes(term: Term, sizes: Map<number, number>): Term {
  const keep = term.labels.map((l, d) => term.t.shape[d] === sizes.get(l));
  if (keep.every(Boolean)) return term;
  return { t: reshape(term.t, term.t.shape.filter((_, d) => keep[d])), labels: term.labels.filter((_, d) => keep[d]) };
}

/** Sums the labels of `term` that are not in `needed`. */
function sumAway(term: Term, needed: Set<number>): Term {
  const axes = term.labels.flatMap((l, d) => (needed.has(l) ? [] : [d]));
  if (axes.length === 0) return term;
  return { t: sum(term.t, axes), labels: term.labels.filter((l) => needed.has(l)) };
}

/** Labels needed after combining: those of the output and of the terms other than `skip`. */
function neededBeyond(terms: readonly Term[], skip: readonly number[], output: readonly number[]): Set<number> {
  const needed = new Set(output);
  terms.forEach((term, i) => {
    if (!skip.includes(i)) for (const l of term.labels) needed.add(l);
  });
  return needed;
}

function contractAll(initial: Term[], output: readonly number[], sizes: Map<number, number>): Term {
  let terms = initial.map((term, i) => sumAway(term, neededBeyond(initial, [i], output)));
  const sizeOfLabels = (labels: Iterable<number>): number => {
    let s = 1;
    for (const l of labels) s *= sizes.get(l)!;
    return s;
  };
  while (terms.length > 1) {
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
    const combined = contractPair(terms[i]!, terms[j]!, neededBeyond(terms, [i, j], output));
    terms = [...terms.filter((_, k) => k !== i && k !== j), combined];
  }
  return terms[0]!;
}

/**
 * One pairwise step: batch labels (in both, kept), left-only, right-only and contracted labels
 * (in both, not kept), as [batch, left, contracted] · [batch, contracted, right] on the batched
 * matmul; without contracted labels, a broadcast multiply.
 */
function contractPair(a: Term, b: Term, needed: Set<number>): Term {
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && needed.has(l));
  const contracted = a.labels.filter((l) => inB.has(l) && !needed.has(l));
  const left = a.labels.filter((l) => !inB.has(l));
  const right = b.labels.filter((l) => !inA.has(l));
  const dims = (t: Term, labels: readonly number[]): number[] => labels.map((l) => t.t.shape[t.labels.indexOf(l)]!);
  const arrange = (t: Term, labels: readonly number[]): Tensor => permute(t.t, labels.map((l) => t.labels.indexOf(l)));
  const batchDims = dims(a, batch);
  const m = sizeOf(dims(a, left)), n = sizeOf(dims(b, right)), k = sizeOf(dims(a, contracted));
  const outLabels = [...batch, ...left, ...right];
  const outShape = [...batchDims, ...dims(a, left), ...dims(b, right)];
  let product: Tensor;
  if (contracted.length === 0) {
    const x = reshape(arrange(a, [...batch, ...left]), [...batchDims, m, 1]);
    const y = reshape(arrange(b, [...batch, ...right]), [...batchDims, 1, n]);
    product = x.mul(y);
  } else {
    // Each side read in place, transposed or not, whichever needs no copy.
    const transA = !isIdentity(a, [...batch, ...left, ...contracted]) && isIdentity(a, [...batch, ...contracted, ...left]);
    const transB = !isIdentity(b, [...batch, ...contracted, ...right]) && isIdentity(b, [...batch, ...right, ...contracted]);
    const x = transA
      ? reshape(a.t, [sizeOf(batchDims), k, m])
      : reshape(arrange(a, [...batch, ...left, ...contracted]), [sizeOf(batchDims), m, k]);
    const y = transB
      ? reshape(b.t, [sizeOf(batchDims), n, k])
      : reshape(arrange(b, [...batch, ...contracted, ...right]), [sizeOf(batchDims), k, n]);
    product = matmulT(x, y, transA, transB);
  }
  return { t: reshape(product, outShape), labels: outLabels };
}

function isIdentity(t: Term, order: readonly number[]): boolean {
  return order.every((l, i) => t.labels[i] === l);
}
