import { broadcastShape, size, sourceIndex, unravel, type Flat } from './reference.js';

/**
 * Scaled dot-product attention by plain loops: for each batch index and query i, the scores
 * s_j = scale·Σ_e q[i,e]·k[j,e] (+ float mask, or -Infinity where a bool mask is false or j > i
 * when causal), w = exp(s - max)/Σ exp(s - max) (0 for a row of -Infinity), out = Σ_j w_j·v[j].
 * Leading axes broadcast by explicit index mapping.
 */
export function attentionRef(
  q: Flat, k: Flat, v: Flat,
  options: { mask?: Flat & { bool: boolean }; isCausal?: boolean; scale?: number } = {},
): { data: Float64Array; shape: number[]; weights: Float64Array } {
  const rank = (s: readonly number[]) => s.length;
  const e = q.shape[rank(q.shape) - 1]!, lq = q.shape[rank(q.shape) - 2]!, lk = k.shape[rank(k.shape) - 2]!, ev = v.shape[rank(v.shape) - 1]!;
  const batch = broadcastShape(q.shape.slice(0, -2), k.shape.slice(0, -2), v.shape.slice(0, -2));
  if (batch === null) throw new Error('attentionRef: leading axes do not broadcast');
  const scale = options.scale ?? 1 / Math.sqrt(e);
  const out = new Float64Array(size(batch) * lq * ev);
  const weightsAll = new Float64Array(size(batch) * lq * lk);
  const read = (t: Flat, b: number[], i: number, j: number) => t.data[sourceIndex([...b, i, j], t.shape)]!;
  for (let bi = 0; bi < size(batch); bi++) {
    const b = unravel(bi, batch);
    for (let i = 0; i < lq; i++) {
      const s = new Array<number>(lk);
      for (let j = 0; j < lk; j++) {
        let dot = 0;
        for (let c = 0; c < e; c++) dot += read(q, b, i, c) * read(k, b, j, c);
        s[j] = dot * scale;
        if (options.isCausal && j > i) s[j] = -Infinity;
        const m = options.mask;
        if (m !== undefined) {
          const mv = m.data[sourceIndex([...b, i, j], m.shape)]!;
          s[j] = m.bool ? (mv ? s[j]! : -Infinity) : s[j]! + mv;
        }
      }
      const top = Math.max(...s);
      const w = top === -Infinity ? s.map(() => 0) : s.map((x) => Math.exp(x - top));
      const total = w.reduce((a, x) => a + x, 0);
      for (let j = 0; j < lk; j++) {
        const wj = total === 0 ? 0 : w[j]! / total;
        weightsAll[(bi * lq + i) * lk + j] = wj;
        for (let c = 0; c < ev; c++) out[(bi * lq + i) * ev + c] = out[(bi * lq + i) * ev + c]! + wj * read(v, b, j, c);
      }
    }
  }
  return { data: out, shape: [...batch, lq, ev], weights: weightsAll };
}
