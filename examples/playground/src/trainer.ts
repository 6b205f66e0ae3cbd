/**
 * The playground's model and training loop, apart from the page: a seeded 2-D dataset, an MLP
 * and an optimiser, trained full-batch a few steps at a time. Nothing here touches the DOM, so
 * the same code runs under Node in the tests.
 */
import { noGrad, tensor, type Tensor } from '@chainrule/autograd';
import { moons, spirals, standardize, type ClassificationDataset } from '@chainrule/datasets';
import { Adam, Adagrad, MLP, RMSprop, SGD, crossEntropyLoss, type ActivationName } from '@chainrule/nn';

/** The datasets on offer: 2-D points with a class each. */
export type DatasetName = 'spirals' | 'spirals3' | 'moons';
/** The optimisers on offer. */
export type OptimizerName = 'adam' | 'sgd' | 'rmsprop' | 'adagrad';

/** What the controls choose. */
export interface TrainerConfig {
  dataset: DatasetName;
  /** Widths of the hidden layers, e.g. [16, 16]. */
  hidden: number[];
  activation: ActivationName;
  optimizer: OptimizerName;
  lr: number;
  /** Seeds the data and the initial weights. */
  seed: number;
}

/** The defaults the page opens with: a 2-arm spiral that a small tanh net learns in seconds. */
export const DEFAULT_CONFIG: TrainerConfig = {
  dataset: 'spirals',
  hidden: [16, 16],
  activation: 'tanh',
  optimizer: 'adam',
  lr: 0.03,
  seed: 0,
};

/** Points per dataset: enough to draw the shape, few enough for a full batch per step. */
const SAMPLES = 300;

function makeData(name: DatasetName, seed: number): ClassificationDataset {
  switch (name) {
    case 'spirals':
      return spirals({ n: SAMPLES, classes: 2, turns: 1.75, noise: 0.05, seed });
    case 'spirals3':
      return spirals({ n: SAMPLES, classes: 3, turns: 1, noise: 0.05, seed });
    case 'moons':
      return moons({ n: SAMPLES, noise: 0.15, seed });
  }
}

type AnyOptimizer = Adam | SGD | RMSprop | Adagrad;

function makeOptimizer(name: OptimizerName, model: MLP, lr: number): AnyOptimizer {
  switch (name) {
    case 'adam':
      return new Adam(model.parameters(), { lr });
    case 'sgd':
      return new SGD(model.parameters(), { lr, momentum: 0.9 });
    case 'rmsprop':
      return new RMSprop(model.parameters(), { lr });
    case 'adagrad':
      return new Adagrad(model.parameters(), { lr });
  }
}

/** Axis-aligned box of the plot, in the dataset's own coordinates. */
export interface Bounds {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/**
 * One model learning one dataset. `train(steps)` runs that many full-batch steps; `grid(res)`
 * gives the class probabilities over the plot for drawing the decision boundary.
 * @example const t = new Trainer(DEFAULT_CONFIG); t.train(100); t.loss
 */
export class Trainer {
  readonly config: Readonly<TrainerConfig>;
  /** Raw points (for drawing) and labels. */
  readonly data: ClassificationDataset;
  readonly classes: number;
  readonly bounds: Bounds;
  readonly model: MLP;
  /** Steps taken so far. */
  step = 0;
  /** Loss of the latest step (before its update), NaN before the first. */
  loss = Number.NaN;
  /** Loss after each step, for the curve. */
  readonly history: number[] = [];

  private readonly optimizer: AnyOptimizer;
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly scale: (x: Float32Array) => Float32Array;

  constructor(config: TrainerConfig) {
    this.config = { ...config, hidden: [...config.hidden] };
    this.data = makeData(config.dataset, config.seed);
    this.classes = Math.max(...this.data.y) + 1;
    this.bounds = boundsOf(this.data.x);
    // Standardised inputs: the raw moons sit off-centre, which slows every optimiser down.
    const standardized = standardize({ x: this.data.x, shape: this.data.shape });
    this.scale = (x) => standardized.transform({ x, shape: [x.length / 2, 2] }).x;
    this.x = tensor(standardized.train.x, { shape: this.data.shape });
    this.y = tensor(this.data.y);
    this.model = new MLP([2, ...config.hidden, this.classes], { activation: config.activation, seed: config.seed });
    this.optimizer = makeOptimizer(config.optimizer, this.model, config.lr);
  }

  /** Changes the learning rate without starting over (the optimiser keeps its state). */
  setLearningRate(lr: number): void {
    for (const group of this.optimizer.paramGroups) group.lr = lr;
  }

  /**
   * The loss over the whole training set, with the graph that computes it: what `train` steps
   * on, and what the page draws (its parameters show the gradient norms of the latest step).
   */
  lossGraph(): Tensor {
    return crossEntropyLoss(this.model.forward(this.x), this.y);
  }

  /** Runs `steps` full-batch steps and returns the last loss. */
  train(steps: number): number {
    for (let i = 0; i < steps; i++) {
      this.optimizer.zeroGrad();
      const loss = this.lossGraph();
      loss.backward();
      this.optimizer.step();
      this.loss = loss.item();
      this.history.push(this.loss);
      this.step++;
    }
    return this.loss;
  }

  /** Share of the training points the model classifies right. */
  accuracy(): number {
    const predicted = noGrad(() => this.model.forward(this.x).data);
    let right = 0;
    for (let i = 0; i < this.data.y.length; i++) {
      if (argmax(predicted, i * this.classes, this.classes) === this.data.y[i]) right++;
    }
    return right / this.data.y.length;
  }

  /**
   * Softmax probabilities on a `res`×`res` grid over `bounds`, row by row from the top:
   * element (row·res + col)·classes + c is P(class c) at that cell's centre.
   */
  grid(res: number): Float32Array {
    const { xMin, xMax, yMin, yMax } = this.bounds;
    const points = new Float32Array(res * res * 2);
    for (let row = 0; row < res; row++) {
      for (let col = 0; col < res; col++) {
        const k = (row * res + col) * 2;
        points[k] = xMin + ((col + 0.5) / res) * (xMax - xMin);
        points[k + 1] = yMax - ((row + 0.5) / res) * (yMax - yMin);
      }
    }
    const input = tensor(this.scale(points), { shape: [res * res, 2] });
    return noGrad(() => this.model.forward(input).softmax(1).data) as Float32Array;
  }
}

function argmax(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let c = 1; c < count; c++) if (values[offset + c]! > values[offset + best]!) best = c;
  return best;
}

/** The data's bounding box plus a margin, widened to a square so the plot is not stretched. */
function boundsOf(x: Float32Array): Bounds {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < x.length; i += 2) {
    xMin = Math.min(xMin, x[i]!);
    xMax = Math.max(xMax, x[i]!);
    yMin = Math.min(yMin, x[i + 1]!);
    yMax = Math.max(yMax, x[i + 1]!);
  }
  const half = (Math.max(xMax - xMin, yMax - yMin) / 2) * 1.15;
  const cx = (xMin + xMax) / 2, cy = (yMin + yMax) / 2;
  return { xMin: cx - half, xMax: cx + half, yMin: cy - half, yMax: cy + half };
}
