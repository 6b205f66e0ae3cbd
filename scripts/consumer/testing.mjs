// '@chainrule/autograd/testing' once fast-check is installed: a gradient property holds, and a
// wrong gradient is caught. Run by scripts/consumer-test.mjs.
import assert from 'node:assert/strict';
import { customOp } from '@chainrule/autograd';
import { checkGradProperty, shapeArb, unaryArb } from '@chainrule/autograd/testing';

const shapes = unaryArb(shapeArb({ maxRank: 2 }), { dtype: 'float64' });
checkGradProperty((x) => x.tanh().sum(), shapes, { numRuns: 10 });
const wrong = customOp({ name: 'wrongSquare', forward: (x) => x.mul(x), backward: (g, { inputs: [x] }) => g.mul(x) });
assert.throws(() => checkGradProperty((x) => wrong(x).sum(), shapes, { numRuns: 10, propertySeed: 0 }));
console.log('testing entry ok');
