// The entries that need an optional peer, once it is installed: '@chainrule/autograd/testing'
// (fast-check) checks a gradient property and catches a wrong gradient; '@chainrule/autograd/viz'
// (@viz-js/viz) draws a graph as SVG. Run by scripts/consumer-test.mjs.
import assert from 'node:assert/strict';
import { customOp, tensor } from '@chainrule/autograd';
import { checkGradProperty, shapeArb, unaryArb } from '@chainrule/autograd/testing';
import { toSvg } from '@chainrule/autograd/viz';

const shapes = unaryArb(shapeArb({ maxRank: 2 }), { dtype: 'float64' });
checkGradProperty((x) => x.tanh().sum(), shapes, { numRuns: 10 });
const wrong = customOp({ name: 'wrongSquare', forward: (x) => x.mul(x), backward: (g, { inputs: [x] }) => g.mul(x) });
assert.throws(() => checkGradProperty((x) => wrong(x).sum(), shapes, { numRuns: 10, propertySeed: 0 }));

const x = tensor([1, 2, 3], { requiresGrad: true });
const svg = await toSvg(x.mul(2).sum());
assert.match(svg, /^<svg[\s>]/);
console.log(`testing and viz entries ok (an SVG of ${svg.length} characters)`);
