// TensorFlow.js on its WebAssembly backend (XNNPACK, SIMD; one thread in Node).
import { tfjsContender } from './tfjs-common.js';

export const contender = tfjsContender('tfjs-wasm', 'wasm');
