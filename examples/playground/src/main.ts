/**
 * The playground page: wires the controls to a Trainer and trains a little in each animation
 * frame, so the page keeps answering clicks while the network learns. The current numbers are
 * mirrored on #stats (data-step, data-loss, ...) and on `window.playground` for tests. The
 * loss's computation graph is drawn below by Graphviz compiled to WebAssembly, fetched as a
 * chunk of its own on the first drawing, so the page does not wait for it.
 */
import { wasmGemmFlavour, type WasmGemmFlavour } from '@chainrule/autograd';
import { toSvg } from '@chainrule/autograd/viz';
import type { ActivationName } from '@chainrule/nn';
import { drawBoundary, drawLossCurve } from './draw.js';
import { DEFAULT_CONFIG, Trainer, type DatasetName, type OptimizerName, type TrainerConfig } from './trainer.js';

/** What the page exposes for scripts and tests. */
export interface PlaygroundState {
  readonly step: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly running: boolean;
  readonly config: Readonly<TrainerConfig>;
  /** Which WebAssembly gemm build loaded from the embedded base64, or null for JS kernels only. */
  readonly wasmGemm: WasmGemmFlavour | null;
}

declare global {
  interface Window {
    playground: PlaygroundState;
  }
}

/** Training time per frame: leaves a 60 Hz frame a few milliseconds for drawing and input. */
const FRAME_BUDGET_MS = 12;
/**
 * The boundary costs a forward pass over the grid, so it is redrawn at most this often, and
 * for a wide network no more than a fifth of the time goes to it.
 */
const BOUNDARY_INTERVAL_MS = 80;
const BOUNDARY_SHARE = 0.2;
/**
 * Cells per side of the probability grid, scaled up smoothly on the canvas: coarser while
 * training (a forward pass over every cell each redraw), finer once paused.
 */
const GRID_RUNNING = 64;
const GRID_PAUSED = 128;

function element<T extends HTMLElement>(selector: string, type: new () => T): T {
  const found = document.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`playground: ${selector} is missing from the page`);
  return found;
}

const form = element('#controls', HTMLFormElement);
const field = <T extends HTMLElement>(name: string, type: new () => T): T => {
  const found = form.elements.namedItem(name);
  if (!(found instanceof type)) throw new Error(`playground: control '${name}' is missing from the page`);
  return found;
};
const controls = {
  dataset: field('dataset', HTMLSelectElement),
  hidden: field('hidden', HTMLInputElement),
  activation: field('activation', HTMLSelectElement),
  optimizer: field('optimizer', HTMLSelectElement),
  lr: field('lr', HTMLInputElement),
  lrValue: field('lrValue', HTMLOutputElement),
  seed: field('seed', HTMLInputElement),
};
const startButton = element('#start', HTMLButtonElement);
const boundaryCanvas = element('#boundary', HTMLCanvasElement);
const lossCanvas = element('#loss', HTMLCanvasElement);
const stats = element('#stats', HTMLElement);
const graph = element('#graph', HTMLElement);
const text = {
  step: element('#stat-step', HTMLElement),
  loss: element('#stat-loss', HTMLElement),
  accuracy: element('#stat-accuracy', HTMLElement),
  speed: element('#stat-speed', HTMLElement),
  network: element('#stat-network', HTMLElement),
  kernels: element('#kernels', HTMLElement),
};

/** Hidden widths from "16, 16" (empty: no hidden layer, a linear classifier); null if invalid. */
function parseHidden(value: string): number[] | null {
  const parts = value.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length > 4) return null;
  const widths = parts.map(Number);
  return widths.every((w) => Number.isInteger(w) && w >= 1 && w <= 64) ? widths : null;
}

/** The slider moves in log10 steps: -4..0 is 0.0001..1. */
function learningRate(): number {
  return Number((10 ** Number(controls.lr.value)).toPrecision(2));
}

/** The configuration the controls show, or null while the hidden-layer field is invalid. */
function readConfig(): TrainerConfig | null {
  const hidden = parseHidden(controls.hidden.value);
  controls.hidden.setAttribute('aria-invalid', String(hidden === null));
  if (hidden === null) return null;
  const seed = Math.max(0, Math.floor(Number(controls.seed.value) || 0));
  return {
    dataset: controls.dataset.value as DatasetName,
    hidden,
    activation: controls.activation.value as ActivationName,
    optimizer: controls.optimizer.value as OptimizerName,
    lr: learningRate(),
    seed,
  };
}

let trainer = new Trainer(readConfig() ?? DEFAULT_CONFIG);
let running = false;
let accuracy = Number.NaN;
let diverged = false;
let lastBoundary = -Infinity;
/** How long the last boundary took to compute and draw. */
let boundaryCost = 0;
let needsDraw = true;
/** (time, step) a second ago or so, for the steps-per-second readout. */
let speedMark = { time: performance.now(), step: 0 };

function describeNetwork(t: Trainer): string {
  const sizes = [2, ...t.config.hidden, t.classes];
  const params = t.model.parameters().reduce((n, p) => n + p.size, 0);
  return `Network ${sizes.join(' → ')}, ${params} parameters.`;
}

/** The model and step the graph shows or is being drawn for: each is drawn once. */
let graphOf: { trainer: Trainer; step: number } | undefined;
/** Counts drawings, so that one finishing after a newer one started is dropped. */
let graphDrawing = 0;

/**
 * Draws the current model's loss graph into #graph, unless it shows it already; its data-state
 * says 'drawing', 'drawn' or 'failed' (with the reason shown in its place).
 */
async function drawGraph(): Promise<void> {
  if (graphOf?.trainer === trainer && graphOf.step === trainer.step) return;
  graphOf = { trainer, step: trainer.step };
  const mine = ++graphDrawing;
  graph.dataset['state'] = 'drawing';
  let svg: string;
  try {
    svg = await toSvg(trainer.lossGraph());
  } catch (e) {
    if (mine !== graphDrawing) return;
    graphOf = undefined;
    graph.textContent = `The graph could not be drawn: ${e instanceof Error ? e.message : String(e)}`;
    graph.dataset['state'] = 'failed';
    return;
  }
  if (mine !== graphDrawing) return;
  // Graphviz's output of our own labels (op names, shapes, numbers), its text escaped by Graphviz.
  graph.innerHTML = svg;
  graph.dataset['state'] = 'drawn';
}

function setRunning(on: boolean): void {
  running = on;
  startButton.textContent = on ? 'Pause' : trainer.step > 0 ? 'Resume' : 'Start';
  speedMark = { time: performance.now(), step: trainer.step };
  needsDraw = true;
  // Paused: the gradient norms in the graph catch up with the training.
  if (!on) void drawGraph();
}

/** Starts over with what the controls say, keeping the run going if it was. */
function reset(): void {
  const config = readConfig();
  if (config === null) return;
  trainer = new Trainer(config);
  accuracy = Number.NaN;
  diverged = false;
  lastBoundary = -Infinity;
  boundaryCost = 0;
  text.network.textContent = describeNetwork(trainer);
  void drawGraph();
  setRunning(running);
}

function trainFor(budgetMs: number): void {
  const start = performance.now();
  do trainer.train(1);
  while (performance.now() - start < budgetMs && Number.isFinite(trainer.loss));
  if (!Number.isFinite(trainer.loss)) {
    diverged = true;
    setRunning(false);
  }
}

function render(now: number): void {
  if (!running || now - lastBoundary >= Math.max(BOUNDARY_INTERVAL_MS, boundaryCost / BOUNDARY_SHARE)) {
    const start = performance.now();
    if (!diverged) accuracy = trainer.accuracy();
    const res = running ? GRID_RUNNING : GRID_PAUSED;
    drawBoundary(boundaryCanvas, trainer.grid(res), res, trainer.classes, trainer.data.x, trainer.data.y, trainer.bounds);
    lastBoundary = now;
    if (running) boundaryCost = performance.now() - start;
  }
  drawLossCurve(lossCanvas, trainer.history);

  const loss = trainer.loss;
  text.step.textContent = trainer.step.toLocaleString('en');
  text.loss.textContent = diverged ? 'diverged' : Number.isNaN(loss) ? '–' : loss < 1e-3 ? loss.toExponential(2) : loss.toFixed(4);
  text.accuracy.textContent = Number.isNaN(accuracy) ? '–' : `${(accuracy * 100).toFixed(1)}%`;
  if (running && now - speedMark.time >= 1000) {
    text.speed.textContent = Math.round(((trainer.step - speedMark.step) * 1000) / (now - speedMark.time)).toLocaleString('en');
    speedMark = { time: now, step: trainer.step };
  } else if (!running) {
    text.speed.textContent = '–';
  }
  if (diverged) text.network.textContent = 'The loss diverged: lower the learning rate, then reset.';

  stats.dataset['step'] = String(trainer.step);
  stats.dataset['loss'] = Number.isNaN(loss) ? '' : String(loss);
  stats.dataset['accuracy'] = Number.isNaN(accuracy) ? '' : String(accuracy);
  stats.dataset['running'] = String(running);
}

function frame(now: number): void {
  if (running) trainFor(FRAME_BUDGET_MS);
  if (running || needsDraw) {
    needsDraw = false;
    render(now);
  }
  requestAnimationFrame(frame);
}

startButton.addEventListener('click', () => setRunning(!running && !diverged));
element('#step', HTMLButtonElement).addEventListener('click', () => {
  if (diverged) return;
  trainer.train(1);
  diverged = !Number.isFinite(trainer.loss);
  setRunning(false);
});
element('#reset', HTMLButtonElement).addEventListener('click', () => {
  reset();
  setRunning(false);
});
// Structural choices start over; the learning rate changes in place, mid-run.
for (const control of [controls.dataset, controls.activation, controls.optimizer, controls.seed, controls.hidden]) {
  control.addEventListener('change', reset);
}
controls.lr.addEventListener('input', () => {
  controls.lrValue.value = String(learningRate());
  trainer.setLearningRate(learningRate());
});
form.addEventListener('submit', (event) => event.preventDefault());

window.playground = {
  get step() { return trainer.step; },
  get loss() { return trainer.loss; },
  get accuracy() { return accuracy; },
  get running() { return running; },
  get config() { return trainer.config; },
  wasmGemm: wasmGemmFlavour(),
};
const flavour = window.playground.wasmGemm;
text.kernels.textContent = flavour === null
  ? 'Kernels: TypeScript (no WebAssembly SIMD here).'
  : `Kernels: TypeScript, and WebAssembly ${flavour === 'relaxed-simd' ? 'relaxed SIMD' : 'SIMD'} for large matrix products.`;
controls.lrValue.value = String(learningRate());
text.network.textContent = describeNetwork(trainer);
void drawGraph();
requestAnimationFrame(frame);
