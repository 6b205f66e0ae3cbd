// What fdlibm's exponential functions (e_exp.c, s_expm1.c) share, for the WebAssembly kernels that
// reproduce Math.exp's and Math.tanh's bits: V8 computes both with fdlibm's algorithms.

/** ln 2 split in a high part with trailing zero bits and the rest, so k·LN2_HI is exact. */
export const LN2_HI = 6.93147180369123816490e-1;
export const LN2_LO = 1.90821492927058770002e-10;
/** 1 / ln 2. */
export const INV_LN2 = 1.44269504088896338700;

/** The float64 whose high word is `high` and low word 0 (fdlibm compares high words with these). */
export function highWord(high: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, high >>> 0);
  return view.getFloat64(0);
}
