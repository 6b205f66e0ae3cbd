/**
 * Modules, losses, optimisers, schedulers, safetensors I/O and a training loop, built on
 * @chainrule/autograd's public API. Names, state-dict keys and semantics follow torch.nn; each
 * item's comment says where chainrule differs. Browser-safe: file I/O lives in '@chainrule/nn/node'.
 * @document ../README.md
 * @module @chainrule/nn
 */
import * as init from './init.js';

export { Module, functionalCall, type AnyModule, type LoadStateDictOptions, type LoadStateDictResult, type ParameterSelector } from './module.js';
export { type ZeroGradOptions } from './zero-grad.js';
export { StateDictError, SafetensorsError } from './errors.js';
export { locateError } from './locate.js';
export { init };
export type { RandomSource, Nonlinearity, FanMode, XavierOptions, KaimingOptions, OrthogonalOptions, TruncNormalOptions } from './init.js';

export { Linear, Dense, type LinearOptions } from './layers/linear.js';
export { Sequential } from './layers/sequential.js';
export { ModuleList, ModuleDict } from './layers/containers.js';
export { MLP, activation, type MLPOptions, type ActivationName, type ActivationSpec } from './layers/mlp.js';
export {
  ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softplus, Softmax, LogSoftmax, Identity, Flatten, Unflatten,
  type GELUOptions, type SoftplusOptions,
} from './layers/activations.js';
export {
  SiLU, Mish, ReLU6, SELU, LogSigmoid, Softsign, Hardsigmoid, Hardswish, Tanhshrink, ELU, CELU, Hardtanh, PReLU, type PReLUOptions,
} from './layers/activations.js';
export { Dropout, Dropout2d, type DropoutOptions } from './layers/dropout.js';
export { LayerNorm, type LayerNormOptions } from './layers/layer-norm.js';
export { NormBase, BatchNorm1d, BatchNorm2d, type BatchNormOptions, type NormBaseOptions } from './layers/batch-norm.js';

// Convolution, pooling, normalisation and embedding layers.
export { ConvTransposeNd, ConvTranspose1d } from './layers/conv.js';
export { ConvNd, Conv1d, Conv2d, ConvTranspose2d, type ConvLayerOptions, type ConvTransposeLayerOptions, type PaddingMode } from './layers/conv.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './layers/pooling.js';
export { MaxPoolNd, MaxPool1d, AvgPoolNd, AvgPool1d, AdaptiveMaxPool2d } from './layers/pooling.js';
export { InstanceNorm2d, type InstanceNormOptions } from './layers/instance-norm.js';
export { GroupNorm, type GroupNormOptions } from './layers/group-norm.js';
export { RMSNorm, type RMSNormOptions } from './layers/rms-norm.js';
export { Embedding, type EmbeddingLayerOptions } from './layers/embedding.js';

// Attention and transformers.
export { MultiheadAttention, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions } from './layers/attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderLayer,
  type TransformerActivation, type TransformerLayerOptions, type TransformerEncoderLayerForwardOptions, type TransformerDecoderLayerForwardOptions,
} from './layers/transformer-layers.js';
export {
  TransformerEncoder, TransformerDecoder, Transformer,
  type TransformerStackOptions, type TransformerOptions, type TransformerForwardOptions,
} from './layers/transformer.js';
export {
  SinusoidalPositionalEncoding, LearnedPositionalEmbedding, sinusoidalPositionalEncoding,
  type PositionalEncodingOptions, type LearnedPositionalEmbeddingOptions,
} from './layers/positional.js';
// Recurrent networks.
export { RecurrentCell, RNNCell, LSTMCell, GRUCell, type RecurrentCellOptions, type RNNCellOptions } from './layers/rnn-cell.js';
export { RNNBase, RNN, LSTM, GRU, type RecurrentOptions, type LSTMOptions, type RNNOptions, type SequenceLengths } from './layers/rnn.js';

export { type Reduction, type LossFunction } from './losses/reduction.js';
export { mseLoss, sseLoss, l1Loss, huberLoss, type ReductionOptions, type HuberOptions } from './losses/regression.js';
export { bceLoss, bceWithLogitsLoss, type BCEOptions, type BCEWithLogitsOptions } from './losses/binary.js';
export { crossEntropyLoss, nllLoss, type ClassTarget, type NLLOptions, type CrossEntropyOptions } from './losses/classification.js';
export { multiMarginLoss, multilabelSoftMarginLoss, type MultiMarginOptions, type MultilabelSoftMarginOptions } from './losses/classification.js';
export { ctcLoss, type CTCOptions } from './losses/ctc.js';
export {
  smoothL1Loss, klDivLoss, poissonNllLoss, gaussianNllLoss,
  type SmoothL1Options, type KLDivOptions, type PoissonNLLOptions, type GaussianNLLOptions,
} from './losses/regression.js';
export {
  marginRankingLoss, hingeEmbeddingLoss, softMarginLoss, cosineEmbeddingLoss, tripletMarginLoss,
  type MarginOptions, type TripletMarginOptions,
} from './losses/margin.js';

export {
  Optimizer,
  type BaseOptions, type OptionValue, type ParamGroup, type ParamGroupSpec, type ParamsInput,
  type ParamState, type GroupStateDict, type OptimizerStateDict,
} from './optim/optimizer.js';
export { checkOptions, optionProblems, rules, type OptionRule, type OptionRules, type OptionSchema, type CheckOptionsSettings } from './optim/options.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { Adam, AdamW, type AdamOptions } from './optim/adam.js';
export { RMSprop, type RMSpropOptions } from './optim/rmsprop.js';
export { Adagrad, type AdagradOptions } from './optim/adagrad.js';

export { LRScheduler, type Scheduler, type Schedulable, type SchedulerStateDict, type LrFormula } from './schedulers/scheduler.js';
export {
  StepLR, ExponentialLR, CosineAnnealingLR,
  type StepLROptions, type ExponentialLROptions, type CosineAnnealingLROptions,
} from './schedulers/closed-form.js';
export {
  MultiStepLR, LambdaLR, CosineAnnealingWarmRestarts,
  type MultiStepLROptions, type LambdaLROptions, type CosineAnnealingWarmRestartsOptions,
} from './schedulers/closed-form.js';
export { LinearWarmup, type LinearWarmupOptions } from './schedulers/warmup.js';
export { OneCycleLR, type OneCycleLROptions } from './schedulers/one-cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type PlateauStateDict } from './schedulers/plateau.js';

export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip.js';

export {
  serializeSafetensors, parseSafetensors, parseSafetensorsFile,
  type SafetensorsMetadata, type SafetensorsContents, type SafetensorsWriteOptions,
} from './serialize/safetensors.js';
export { serializeCheckpoint, parseCheckpoint, type Checkpoint } from './serialize/checkpoint.js';

export {
  fit, evaluate,
  type TensorBatch, type BatchSource, type OptimizerLike, type EpochLog, type Callbacks, type FitOptions, type History,
  type EvaluateOptions, type EvaluateResult,
} from './train/fit.js';
export { accuracy, confusionMatrix, type MetricFunction, type ClassificationOptions } from './train/metrics.js';
export { type ProgressOutput } from './train/env.js';
