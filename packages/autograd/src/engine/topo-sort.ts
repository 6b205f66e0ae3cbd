/** A vertex of a computation graph: a Tensor or a Value. */
export interface Vertex {
  /** How many vertices this one was computed from. */
  readonly arity: number;
  /** The i-th of them, for i < arity. */
  parentAt(i: number): Vertex;
  /** Visit stamp of the last sort that reached this vertex. */
  visitStamp: number;
}

let stamp = 0;

/**
 * A visit stamp no earlier pass has used. Every walk that marks vertices takes its stamp from
 * here (this sort, and Value's backward), so a mark left by one is never mistaken for another's.
 */
export function nextVisitStamp(): number {
  return ++stamp;
}

/**
 * Orders every vertex reachable from `roots` so that each comes after all of its parents
 * (post-order DFS, parents in their recorded order, so the order is deterministic).
 * NOTE: iterative with an explicit stack; a recursive walk overflows the JS stack on long chains.
 */
export function topoSort<V extends Vertex>(roots: readonly V[]): V[] {
  const mark = nextVisitStamp();
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
      const i = next[top]!;
      if (i < v.arity) {
        next[top] = i + 1;
        const p = v.parentAt(i) as V;
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
