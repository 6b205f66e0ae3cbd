/**
 * Recurrent modules initialised and saved by chainrule, for the other direction of the PyTorch
 * check: scripts/torch-rnn-reference.py loads each file into the PyTorch module its metadata
 * names (strictly: the same keys and shapes) and records PyTorch's outputs and gradients on it,
 * which test/recurrent-torch.test.ts compares with chainrule's on the same file.
 *
 *   node scripts/run.mjs packages/nn/scripts/chainrule-rnn-weights.ts   # then the .py script
 *
 * Writes packages/nn/test/fixtures/torch-rnn/chainrule_*.safetensors.
 */
import { fileURLToPath } from 'node:url';
import { GRU, LSTM, RNN, type LSTMOptions, type RNNOptions } from '@chainrule/nn';
import { save } from '@chainrule/nn/node';

const CASES: { name: string; module: 'RNN' | 'LSTM' | 'GRU'; options: RNNOptions & LSTMOptions }[] = [
  { name: 'chainrule_lstm_2layer_bidir', module: 'LSTM', options: { numLayers: 2, bidirectional: true, batchFirst: true } },
  { name: 'chainrule_gru_2layer_bidir', module: 'GRU', options: { numLayers: 2, bidirectional: true } },
  { name: 'chainrule_rnn_relu', module: 'RNN', options: { nonlinearity: 'relu', batchFirst: true } },
  { name: 'chainrule_lstm_proj_2layer_bidir', module: 'LSTM', options: { numLayers: 2, bidirectional: true, projSize: 2 } },
];

CASES.forEach(({ name, module, options }, i) => {
  const seeded = { ...options, seed: 100 + i };
  const model = module === 'LSTM' ? new LSTM(3, 4, seeded) : module === 'GRU' ? new GRU(3, 4, seeded) : new RNN(3, 4, seeded);
  const path = fileURLToPath(new URL(`../test/fixtures/torch-rnn/${name}.safetensors`, import.meta.url));
  save(path, model.stateDict(), { module, options: JSON.stringify(options), inputSize: '3', hiddenSize: '4' });
});
