/**
 * Backpropagation by hand, next to the engine. A 5-8-6-5 sigmoid network (two hidden layers)
 * with mean squared error. For one input it prints each layer in matrix form, z = W @ a + b,
 * then runs one backward pass twice: by hand with matrices,
 *
 *   δ3 = ∂L/∂a3 ⊙ σ'(z3),   δ2 = (W3ᵀ δ3) ⊙ σ'(z2),   δ1 = (W2ᵀ δ2) ⊙ σ'(z1),
 *   ∂L/∂W_l = δ_l a_{l-1}ᵀ,  ∂L/∂b_l = δ_l,
 *
 * and by the engine (the pre-activations keep their gradients with retainGrad, so z_l.grad is
 * δ_l), and shows they agree. Then it trains the network to reverse its input vector.
 *
 *   pnpm example:two-hidden
 */
import { rand, tensor, type Tensor } from '@chainrule/autograd';
import { Adam, Linear, MLP, fit, mseLoss } from '@chainrule/nn';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

/** What the run found. */
export interface TwoHiddenResult {
  /** Per layer (1 to 3): max |δ by hand - z.grad from the engine|. */
  deltaDifferences: number[];
  /** Largest difference over every weight and bias gradient. */
  maxGradDifference: number;
  /** Mean training loss per epoch. */
  trainLoss: number[];
  seconds: number;
}

const SIZES = [5, 8, 6, 5] as const;

type Matrix = number[][];

/** A Tensor's numbers as rows (a 1-D tensor becomes a column). */
function rows(t: Tensor): Matrix {
  if (t.ndim === 1) return Array.from(t.data, (v) => [v]);
  const [r, c] = t.shape as [number, number];
  return Array.from({ length: r }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
}

const column = (v: readonly number[]): Matrix => v.map((x) => [x]);
const flat = (m: Matrix): number[] => m.flat();
const transpose = (m: Matrix): Matrix => m[0]!.map((_, j) => m.map((row) => row[j]!));
const matmul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const add = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((v, j) => v + b[i]![j]!));
const hadamard = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((v, j) => v * b[i]![j]!));
const map = (a: Matrix, f: (v: number) => number): Matrix => a.map((row) => row.map(f));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Matrices printed side by side, with a caption over each: `W (8×5)   a0 (5)   ...`. */
function sideBySide(blocks: [string, Matrix][], separators: string[]): string {
  const cells = blocks.map(([, m]) => m.map((row) => row.map((v) => v.toFixed(3).padStart(7)).join(' ')));
  const widths = cells.map((c, i) => Math.max(blocks[i]![0].length, ...c.map((line) => line.length + 4)));
  const height = Math.max(...cells.map((c) => c.length));
  const lines = [blocks.map(([caption], i) => caption.padEnd(widths[i]!) + ' '.repeat(separators[i]?.length ?? 0)).join('')];
  for (let r = 0; r < height; r++) {
    lines.push(
      cells
        .map((c, i) => {
          const body = c[r] === undefined ? '' : `[ ${c[r]} ]`;
          const sep = separators[i] ?? '';
          return body.padEnd(widths[i]!) + (r === 0 ? sep : ' '.repeat(sep.length));
        })
        .join(''),
    );
  }
  return lines.join('\n');
}

/** One backward pass by hand and by the engine, for a single sample; returns the differences. */
function compareBackward(model: MLP, x: number[], y: number[], log: (line: string) => void): Pick<TwoHiddenResult, 'deltaDifferences' | 'maxGradDifference'> {
  const layers = [0, 2, 4].map((i) => model.layers.at(i) as Linear);

  // Forward by hand: column vectors, z_l = W_l @ a_{l-1} + b_l, a_l = σ(z_l).
  const a: Matrix[] = [column(x)];
  const z: Matrix[] = [];
  layers.forEach((layer, l) => {
    z.push(add(matmul(rows(layer.weight), a[l]!), rows(layer.bias!)));
    a.push(map(z[l]!, sigmoid));
    log(`\nLayer ${l + 1}: z${l + 1} = W${l + 1} @ a${l} + b${l + 1}, a${l + 1} = σ(z${l + 1})`);
    log(
      sideBySide(
        [
          [`W${l + 1} (${layer.outFeatures}×${layer.inFeatures})`, rows(layer.weight)],
          [`a${l} (${layer.inFeatures})`, a[l]!],
          [`b${l + 1} (${layer.outFeatures})`, rows(layer.bias!)],
          [`z${l + 1}`, z[l]!],
          [`a${l + 1}`, a[l + 1]!],
        ],
        [' @ ', ' + ', ' = ', ' → '],
      ),
    );
  });

  // Backward by hand. L = mean over the 5 outputs of (a3 - y)², so ∂L/∂a3 = 2(a3 - y)/5.
  const n = y.length;
  const dA3 = a[3]!.map((row, i) => [(2 * (row[0]! - y[i]!)) / n]);
  const sigmoidPrime = (m: Matrix): Matrix => map(m, (v) => sigmoid(v) * (1 - sigmoid(v)));
  const deltas: Matrix[] = [];
  deltas[2] = hadamard(dA3, sigmoidPrime(z[2]!));
  deltas[1] = hadamard(matmul(transpose(rows(layers[2]!.weight)), deltas[2]!), sigmoidPrime(z[1]!));
  deltas[0] = hadamard(matmul(transpose(rows(layers[1]!.weight)), deltas[1]!), sigmoidPrime(z[0]!));

  // The engine, on the same sample as a [1, 5] row: Linear computes a @ Wᵀ + b, the same numbers.
  model.zeroGrad();
  let act = tensor([x], { dtype: 'float64' });
  const zs: Tensor[] = [];
  for (const layer of layers) {
    const zl = layer.forward(act).retainGrad(); // keep ∂L/∂z_l, which is δ_l
    zs.push(zl);
    act = zl.sigmoid();
  }
  mseLoss(act, tensor([y], { dtype: 'float64' })).backward();

  const deltaDifferences: number[] = [0, 0, 0];
  let maxGradDifference = 0;
  log('\nError terms δ_l = ∂L/∂z_l, output layer first: by hand (matrices) and from the engine (z_l.grad)');
  for (let l = 2; l >= 0; l--) {
    const hand = flat(deltas[l]!);
    const engine = Array.from(zs[l]!.grad!.data);
    deltaDifferences[l] = maxAbsDiff(hand, engine);
    log(`δ${l + 1} by hand: [${hand.map((v) => v.toExponential(6)).join(', ')}]`);
    log(`δ${l + 1} engine:  [${engine.map((v) => v.toExponential(6)).join(', ')}]`);
    const dW = flat(matmul(deltas[l]!, transpose(a[l]!))); // δ_l a_{l-1}ᵀ
    const wDiff = maxAbsDiff(dW, layers[l]!.weight.grad!.data);
    const bDiff = maxAbsDiff(hand, layers[l]!.bias!.grad!.data);
    maxGradDifference = Math.max(maxGradDifference, wDiff, bDiff, deltaDifferences[l]!);
    log(`   max |difference|: δ${l + 1} ${deltaDifferences[l]!.toExponential(2)}, ∂L/∂W${l + 1} = δ${l + 1} a${l}ᵀ ${wDiff.toExponential(2)}, ∂L/∂b${l + 1} = δ${l + 1} ${bDiff.toExponential(2)}`);
  }
  return { deltaDifferences, maxGradDifference };
}

/** Compares hand and engine backward passes, then trains; `quick` trains 50 epochs instead of 200. @example main().maxGradDifference */
export function main(options: ExampleOptions = {}): TwoHiddenResult {
  const { quick = false, seed = 0, log = silent } = options;
  const start = performance.now();
  const model = new MLP([...SIZES], { activation: 'sigmoid', outputActivation: 'sigmoid', dtype: 'float64', seed });

  // The task: output the input vector reversed (inputs uniform in [0, 1], as sigmoid outputs can reach).
  const n = 512;
  const x = rand([n, 5], { dtype: 'float64', seed: seed + 1 });
  const y = tensor(Float64Array.from(x.data, (_, k) => x.data[k - (k % 5) + 4 - (k % 5)]!), { shape: [n, 5] });

  const sample = Array.from(x.data.subarray(0, 5));
  const target = Array.from(y.data.subarray(0, 5));
  log(`One sample: x = [${sample.map((v) => v.toFixed(3)).join(', ')}], target y = [${target.map((v) => v.toFixed(3)).join(', ')}]`);
  const compared = compareBackward(model, sample, target, log);

  // Training: mini-batches of 32, Adam.
  const epochs = quick ? 50 : 200;
  const batchList = Array.from({ length: n / 32 }, (_, i) => ({ x: x.slice(0, 32 * i, 32 * (i + 1)), y: y.slice(0, 32 * i, 32 * (i + 1)) }));
  log('\nTraining to reverse the input vector:');
  const history = fit(model, batchList, {
    loss: mseLoss,
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
    epochs,
    quiet: true,
    callbacks: {
      onEpochEnd: (e) => {
        if (e.epoch % (epochs / 10) === 0 || e.epoch === epochs - 1) log(`epoch ${String(e.epoch + 1).padStart(3)}: MSE ${e.loss.toFixed(5)}`);
      },
    },
  });
  return { ...compared, trainLoss: history.loss, seconds: secondsSince(start) };
}

if (isMain(import.meta.url)) main({ log: console.log });
