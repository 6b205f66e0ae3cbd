// Run by value.test.ts in a child process with --expose-gc: builds 30 training-like steps of
// ~3,000 Values each, keeps one leaf per step (as a loss history of Values would) and the last
// graph, then reports which graphs the collector freed. Prints one JSON line.
import { Value } from '@chainrule/autograd';

declare const gc: () => void;

const params = Array.from({ length: 20 }, (_, i) => new Value(0.01 * i));
const history: Value[] = [];
const roots: WeakRef<Value>[] = [];
let last: Value | null = null;
for (let step = 0; step < 30; step++) {
  let loss = new Value(0);
  for (let j = 0; j < 1500; j++) loss = loss.add(params[j % 20]!.mul(step).tanh());
  loss.backward();
  history.push(new Value(loss.data));
  roots.push(new WeakRef(loss));
  last = loss;
}
// WeakRef targets are kept until the current job ends: let it end before collecting.
await new Promise((resolve) => setTimeout(resolve, 0));
gc();
await new Promise((resolve) => setTimeout(resolve, 0));
gc();
console.log(
  JSON.stringify({
    firstGraphFreed: roots[0]!.deref() === undefined,
    middleGraphFreed: roots[15]!.deref() === undefined,
    lastGraphAlive: roots[29]!.deref() === last && history.length === 30,
  }),
);
