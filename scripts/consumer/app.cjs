// CommonJS in the consumer project: Node >= 20.19 loads the ES-module packages through require().
const assert = require('node:assert/strict');
const { tensor } = require('@chainrule/autograd');
const { Linear, mseLoss } = require('@chainrule/nn');
const { moons } = require('@chainrule/datasets');
const { californiaHousing } = require('@chainrule/datasets/node');
const { save } = require('@chainrule/nn/node');
const { exportOnnx } = require('@chainrule/nn/onnx');

const data = moons({ n: 8, seed: 0 });
const layer = new Linear(2, 1, { seed: 0 });
const loss = mseLoss(layer.forward(tensor(data.x, { shape: data.shape })), tensor(Float32Array.from(data.y), { shape: [8, 1] }));
loss.backward();
assert.deepEqual(layer.weight.grad.shape, [1, 2]);
assert.equal(californiaHousing().shape[1], 8);
assert.ok(save(null, layer.stateDict()).length > 0);
assert.ok(exportOnnx(layer, { inputShape: [null, 2] }).length > 0);

// The '/testing' entry awaits its optional peer at load: an async module, which require() refuses.
assert.throws(() => require('@chainrule/autograd/testing'), { code: 'ERR_REQUIRE_ASYNC_MODULE' });
console.log('require() ok');
