// Bad use: a page that imports a Node-only entry. scripts/consumer-test.mjs bundles this for the
// browser; the bundle must hold nothing of Node and must fail at load with a message that says
// what to import instead.
import { save } from '@chainrule/nn/node';
import { mnistDigits } from '@chainrule/datasets/node';

export const unreachable = [save, mnistDigits];
