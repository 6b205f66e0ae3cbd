/** A vertex of a computation graph: a Tensor or a Value. */
export interface Vertex {
  /** The vertices this one was computed from. */
  readonly parents: readonly Vertex[];
  /** Visit stamp of the last sort that reached this vertex. */
  visitStamp: number;
}

let stamp = 0;

/**
 * Orders every vertex reachable from `roots` so that each comes after all of its parents
 * (post-order DFS, parents in their recorded order, so the order is deterministic).
 * NOTE: iterative with an explicit stack; a recursive walk overflows the JS stack on long chains.
 */
export function topoSort<V extends Vertex>(roots: readonly V[]): V[] {
  const mark = ++stamp;
  const order: V[] = [];
  const stack: V[] = [];
  const next: number[] = [];
  for (const root of roots) {
    if (root.visitStamp === mark) continue;
    root.visitStamp = mark;
    stack.push(root);
    next.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const v = stack[top]!;
      const parents = v.parents;
      const i = next[top]!;
      if (i < parents.length) {
        next[top] = i + 1;
        const p = parents[i] as V;
        if (p.visitStamp !== mark) {
          p.visitStamp = mark;
          stack.push(p);
          next.push(0);
        }
      } else {
        stack.pop();
        next.pop();
        order.push(v);
      }
    }
  }
  return order;
}
