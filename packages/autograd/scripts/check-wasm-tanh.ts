// Checks the generated WebAssembly tanh of jit's float32 loops (src/jit/wasm-tanh.ts) against
// the eager float32 kernel, Math.tanh rounded to float32, on every float32 input (all 2³² bit
// patterns; a few minutes): prints the mismatches (NaN for NaN counts as a match) and exits 1
// if there is any.
//   node scripts/run.mjs packages/autograd/scripts/check-wasm-tanh.ts
import { jit, setKernelBackend, tensor, type Tensor } from '../src/index.js';

setKernelBackend('wasm');
const CHUNK = 1 << 22;
const bits = new Uint32Array(CHUNK);
const x = new Float32Array(bits.buffer);
const f = jit((v: Tensor) => v.tanh());
let mismatches = 0;
for (let start = 0; start < 2 ** 32; start += CHUNK) {
  for (let i = 0; i < CHUNK; i++) bits[i] = start + i;
  const got = f(tensor(x, { shape: [CHUNK] })).data as Float32Array;
  for (let i = 0; i < CHUNK; i++) {
    const want = Math.fround(Math.tanh(x[i]!));
    const y = got[i]!;
    if (want !== y && !(want !== want && y !== y) && !(want === 0 && Object.is(want, y))) {
      if (mismatches++ < 20) console.log(`tanh(${x[i]}) (bits 0x${(start + i).toString(16)}): Math.tanh gives ${want}, the loop ${y}`);
    }
    if (want === 0 && !Object.is(want, y)) {
      if (mismatches++ < 20) console.log(`tanh(${x[i]}): signed zero differs`);
    }
  }
}
console.log(`${mismatches} mismatches over all 2^32 float32 inputs`);
process.exit(mismatches === 0 ? 0 : 1);
