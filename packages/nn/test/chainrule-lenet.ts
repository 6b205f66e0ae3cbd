// The chainrule side of the PyTorch round trip (scripts/chainrule-lenet.ts writes it, the tests
// check it is still what chainrule writes).
import { randn, type Tensor } from '@chainrule/autograd';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@chainrule/nn';

/** The LeNet-style CNN of torch-layers-reference.py, seeded, after one training forward, in evaluation mode; and an input. */
export function chainruleLenet(): { model: Sequential; input: Tensor } {
  const model = new Sequential(
    new Conv2d(1, 6, 5, { padding: 2, seed: 1 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 3, { seed: 2 }), new BatchNorm2d(16), new ReLU(),
    new AdaptiveAvgPool2d(2), new Flatten(), new Linear(64, 10, { seed: 3 }),
  );
  model.forward(randn([4, 1, 16, 16], { seed: 4 }));
  model.eval();
  return { model, input: randn([2, 1, 16, 16], { seed: 5 }) };
}
