// TensorFlow.js on its plain-JavaScript CPU backend.
import { tfjsContender } from './tfjs-common.js';

export const contender = tfjsContender('tfjs-cpu', 'cpu');
