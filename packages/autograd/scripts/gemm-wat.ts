/**
 * Source of the WebAssembly gemm kernels: emits WebAssembly text (assembled by `wabt` in
 * build-wasm.ts). A generator rather than a hand-written .wat because the 4×8 micro-kernel is
 * fully unrolled (one local per accumulator) and exists in four variants: float32/float64 ×
 * plain SIMD128/relaxed-SIMD fused multiply-add. The text is kept readable: one instruction
 * per line, folded S-expressions.
 *
 * The scheme (GotoBLAS/BLIS): for each NC-column block of op(B) and KC-deep slice of k, pack
 * that slice of B into NR-column micro-panels (KC×NR contiguous, stays in L1); for each
 * MC-row block of op(A), pack it into MR-row micro-panels (stays in L2); then run the MR×NR
 * micro-kernel over every pair of micro-panels. Packing reads A and B through (row, column)
 * strides, so all four transpose combinations run the same micro-kernel at the same speed.
 */

import {
  BINARY_OPS,
  type GemmBlocking,
  JOB,
  JOB_STATE,
  MAX_PAGES,
  scratchLayout,
  type ScratchLayout,
  UNARY_OPS,
  type WasmDType,
} from '../src/kernels/wasm/layout.js';

export type { GemmBlocking, WasmDType };

/** The blocking each dtype is built with; the loader sizes its scratch from these. */
export const GEMM_BLOCKING: Readonly<Record<WasmDType, GemmBlocking>> = {
  f32: { mr: 4, nr: 8, kc: 256, mc: 128, nc: 2048 },
  f64: { mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024 },
};

const SIZE: Record<WasmDType, number> = { f32: 4, f64: 8 };
const VEC: Record<WasmDType, string> = { f32: 'f32x4', f64: 'f64x2' };
const SPLAT: Record<WasmDType, string> = { f32: 'v128.load32_splat', f64: 'v128.load64_splat' };

const get = (name: string): string => `(local.get $${name})`;
const i32 = (value: number): string => `(i32.const ${value})`;
const add = (x: string, y: string): string => `(i32.add ${x} ${y})`;
const mul = (x: string, y: string): string => `(i32.mul ${x} ${y})`;
const set = (name: string, value: string): string => `(local.set $${name} ${value})`;
const min = (x: string, y: string): string => `(select ${x} ${y} (i32.lt_u ${x} ${y}))`;

/** `for (name = 0; name < limit; name += step) body` as a do-while (every limit here is ≥ 1). */
function loop(name: string, limit: string, step: string, body: string[]): string[] {
  return [
    set(name, i32(0)),
    `(loop $${name}_loop`,
    ...body.map((line) => '  ' + line),
    '  ' + set(name, add(get(name), step)),
    `  (br_if $${name}_loop (i32.lt_u ${get(name)} ${limit})))`,
  ];
}

/**
 * A vector loop, then a scalar loop over the elements left: `vector` runs while `cursor` is
 * below `whole`, then `scalar` while it is below `end`. Each body moves the cursor on itself.
 */
function vectorsThenScalars(cursor: string, whole: string, end: string, vector: string[], scalar: string[]): string[] {
  return [
    '(block $vectors_done',
    '  (loop $vectors',
    `    (br_if $vectors_done (i32.ge_u ${cursor} ${whole}))`,
    ...vector.map((line) => '    ' + line),
    '    (br $vectors)))',
    '(block $scalars_done',
    '  (loop $scalars',
    `    (br_if $scalars_done (i32.ge_u ${cursor} ${end}))`,
    ...scalar.map((line) => '    ' + line),
    '    (br $scalars)))',
  ];
}

/**
 * Lines that transpose the 4×4 f32 block in v128 locals r0..r3 (rows) into c0..c3 (columns),
 * through t0..t3: interleave the low and high lanes of row pairs, then join their halves. Each
 * shuffle is one V8 recognises (unpcklps, unpckhps, movlhps, movhlps on x64).
 */
function transpose4x4(): string[] {
  const shuffle = (lanes: number[], x: string, y: string): string =>
    `(i8x16.shuffle ${lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(' ')} ${get(x)} ${get(y)})`;
  const low = [0, 4, 1, 5];
  const high = [2, 6, 3, 7];
  const lowHalves = [0, 1, 4, 5];
  const highHalves = [2, 3, 6, 7];
  return [
    set('t0', shuffle(low, 'r0', 'r1')),
    set('t1', shuffle(low, 'r2', 'r3')),
    set('t2', shuffle(high, 'r0', 'r1')),
    set('t3', shuffle(high, 'r2', 'r3')),
    set('c0', shuffle(lowHalves, 't0', 't1')),
    set('c1', shuffle(highHalves, 't0', 't1')),
    set('c2', shuffle(lowHalves, 't2', 't3')),
    set('c3', shuffle(highHalves, 't2', 't3')),
  ];
}

/**
 * Packs 4 strided f32 rows into 4-lane columns: for p < kc, the 4 values at q + r·stride + p·4
 * (r < 4) go to d + p·step, 4 p at a time through a 4×4 transpose, then one by one. Advances
 * q and d. What packing a row-major A and a transposed B have in common: their packed panels
 * interleave rows that are contiguous in memory.
 */
function transposeRows(step: number): string[] {
  const row = (r: number): string => (r === 0 ? get('q') : add(get('q'), get(`st${r}`)));
  return [
    set('p', i32(0)),
    '(block $blocks_done',
    '  (loop $blocks',
    `    (br_if $blocks_done (i32.gt_u ${add(get('p'), i32(4))} ${get('kc')}))`,
    ...[0, 1, 2, 3].map((r) => '    ' + set(`r${r}`, `(v128.load ${row(r)})`)),
    ...transpose4x4().map((line) => '    ' + line),
    ...[0, 1, 2, 3].map((r) => `    (v128.store offset=${r * step} ${get('d')} ${get(`c${r}`)})`),
    '    ' + set('q', add(get('q'), i32(16))),
    '    ' + set('d', add(get('d'), i32(4 * step))),
    '    ' + set('p', add(get('p'), i32(4))),
    '    (br $blocks)))',
    '(block $rest_done',
    '  (loop $rest',
    `    (br_if $rest_done (i32.ge_u ${get('p')} ${get('kc')}))`,
    ...[0, 1, 2, 3].map((r) => `    (f32.store offset=${r * 4} ${get('d')} (f32.load ${row(r)}))`),
    '    ' + set('q', add(get('q'), i32(4))),
    '    ' + set('d', add(get('d'), i32(step))),
    '    ' + set('p', add(get('p'), i32(1))),
    '    (br $rest)))',
  ];
}

function locals(type: string, names: string[]): string {
  return names.map((n) => `(local $${n} ${type})`).join(' ');
}

/**
 * The micro-kernel: C[0:mr, 0:nr] (=|+=) Ap·Bp over kc steps. Ap holds mr values per step,
 * Bp nr values per step. `acc` = 0 stores the product, otherwise adds it to C (row stride ldc
 * bytes). With mr=4, nr=8 in f32: 8 accumulators, 2 loads of B and 4 splats of A per step.
 */
function kernel(t: WasmDType, b: GemmBlocking, relaxed: boolean): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const nv = b.nr / lanes;
  const accs: string[] = [];
  for (let i = 0; i < b.mr; i++) for (let j = 0; j < nv; j++) accs.push(`c${i}_${j}`);
  const bs = Array.from({ length: nv }, (_, j) => `b${j}`);
  const fma = (x: string, y: string, z: string): string =>
    relaxed ? `(${v}.relaxed_madd ${x} ${y} ${z})` : `(${v}.add ${z} (${v}.mul ${x} ${y}))`;
  const step: string[] = [];
  for (let j = 0; j < nv; j++) step.push(set(`b${j}`, `(v128.load offset=${j * 16} ${get('pb')})`));
  for (let i = 0; i < b.mr; i++) {
    step.push(set('av', `(${SPLAT[t]} offset=${i * s} ${get('pa')})`));
    for (let j = 0; j < nv; j++) step.push(set(`c${i}_${j}`, fma(get('av'), get(`b${j}`), get(`c${i}_${j}`))));
  }
  step.push(set('pa', add(get('pa'), i32(b.mr * s))));
  step.push(set('pb', add(get('pb'), i32(b.nr * s))));
  // C row i is at cp + i·ldc; `row` walks it. With acc, add what C holds first.
  const addC: string[] = [set('row', get('cp'))];
  const store: string[] = [set('row', get('cp'))];
  for (let i = 0; i < b.mr; i++) {
    for (let j = 0; j < nv; j++) {
      const c = `c${i}_${j}`;
      addC.push(set(c, `(${v}.add (v128.load offset=${j * 16} ${get('row')}) ${get(c)})`));
      store.push(`(v128.store offset=${j * 16} ${get('row')} ${get(c)})`);
    }
    if (i + 1 < b.mr) {
      addC.push(set('row', add(get('row'), get('ldc'))));
      store.push(set('row', add(get('row'), get('ldc'))));
    }
  }
  return [
    `(func $kernel_${t} (param $kc i32) (param $pa i32) (param $pb i32) (param $cp i32) (param $ldc i32) (param $acc i32)`,
    `  ${locals('v128', [...accs, ...bs, 'av'])} (local $end i32) (local $row i32)`,
    '  ' + set('end', add(get('pa'), mul(get('kc'), i32(b.mr * s)))),
    '  (loop $p_loop',
    ...step.map((line) => '    ' + line),
    `    (br_if $p_loop (i32.lt_u ${get('pa')} ${get('end')})))`,
    `  (if ${get('acc')}`,
    '    (then',
    ...addC.map((line) => '      ' + line),
    '    ))',
    ...store.map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The packing function `pack_<side>_<t>(count, kc, src, across, along, dst)`, for A (side 'a',
 * panels of width mr) and B (side 'b', width nr): packs a count×kc block whose element (o, p)
 * is at src + o·across + p·along bytes into micro-panels of `width` consecutive o, p-major
 * (kc·width contiguous values each), zero-padding the last. For A, o is a row of op(A) and p
 * its column; for B, o is a column of op(B) and p its row, so one function serves both.
 * Fast paths: o contiguous (a row of B, a column of transposed A) copies a vector at a time;
 * in f32, p contiguous (a row-major A, a transposed B) transposes 4×4 blocks.
 */
function pack(t: WasmDType, width: number, side: 'a' | 'b'): string[] {
  const s = SIZE[t];
  const load = `${t}.load`;
  const store = `${t}.store`;
  const panel = width * s;
  const copyVectors = loop('p', get('kc'), i32(1), [
    ...Array.from({ length: panel / 16 }, (_, j) =>
      `(v128.store offset=${j * 16} ${get('d')} (v128.load offset=${j * 16} ${get('q')}))`,
    ),
    set('q', add(get('q'), get('along'))),
    set('d', add(get('d'), i32(panel))),
  ]);
  const gather = loop('oo', i32(width), i32(1), [
    set('q', add(get('base'), mul(get('oo'), get('across')))),
    set('d', add(get('dst'), mul(get('oo'), i32(s)))),
    `(if (i32.lt_u ${get('oo')} ${get('h')})`,
    '  (then',
    ...loop('p', get('kc'), i32(1), [
      `(${store} ${get('d')} (${load} ${get('q')}))`,
      set('q', add(get('q'), get('along'))),
      set('d', add(get('d'), i32(panel))),
    ]).map((line) => '    ' + line),
    '  )',
    '  (else',
    ...loop('p', get('kc'), i32(1), [
      `(${store} ${get('d')} (${t}.const 0))`,
      set('d', add(get('d'), i32(panel))),
    ]).map((line) => '    ' + line),
    '  ))',
  ]);
  // p contiguous in f32: each group of 4 o is 4 contiguous rows in memory, transposed 4 p at
  // a time into lanes 4g..4g+3 of the panel.
  const transposed = t === 'f32' && width % 4 === 0;
  const groups = Array.from({ length: width / 4 }, (_, g) => [
    set('q', g === 0 ? get('base') : add(get('base'), mul(i32(4 * g), get('across')))),
    set('d', g === 0 ? get('dst') : add(get('dst'), i32(16 * g))),
    ...transposeRows(panel),
  ]).flat();
  const otherwise = transposed
    ? [
        `(if (i32.and (i32.eq ${get('along')} ${i32(s)}) (i32.eq ${get('h')} ${i32(width)}))`,
        '  (then',
        ...groups.map((line) => '    ' + line),
        '  )',
        '  (else',
        ...gather.map((line) => '    ' + line),
        '  ))',
      ]
    : gather;
  return [
    `(func $pack_${side}_${t} (param $count i32) (param $kc i32) (param $src i32) (param $across i32) (param $along i32) (param $dst i32)`,
    `  ${locals('i32', ['o0', 'oo', 'p', 'h', 'base', 'q', 'd', 'st1', 'st2', 'st3'])}`,
    ...(transposed ? [`  ${locals('v128', ['r0', 'r1', 'r2', 'r3', 't0', 't1', 't2', 't3', 'c0', 'c1', 'c2', 'c3'])}`] : []),
    ...(transposed ? [1, 2, 3].map((r) => `  ${set(`st${r}`, mul(get('across'), i32(r)))}`) : []),
    ...loop('o0', get('count'), i32(width), [
      set('h', min(i32(width), `(i32.sub ${get('count')} ${get('o0')})`)),
      set('base', add(get('src'), mul(get('o0'), get('across')))),
      ...(panel % 16 !== 0
        ? gather
        : [
            `(if (i32.and (i32.eq ${get('across')} ${i32(s)}) (i32.eq ${get('h')} ${i32(width)}))`,
            '  (then',
            '    ' + set('q', get('base')),
            '    ' + set('d', get('dst')),
            ...copyVectors.map((line) => '    ' + line),
            '  )',
            '  (else',
            ...otherwise.map((line) => '    ' + line),
            '  ))',
          ]),
      set('dst', add(get('dst'), mul(get('kc'), i32(panel)))),
    ]).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The driver: C = op(A)·op(B) with A, B, C and the thread's scratch area (edge tile, packed A,
 * packed B) in linear memory (byte addresses and byte strides, so any slab of a product is a
 * product too). m, n, k ≥ 1. Edge tiles are computed into the tile buffer and merged element
 * by element, so the micro-kernel never branches.
 */
function driver(t: WasmDType, b: GemmBlocking, layout: ScratchLayout): string[] {
  const s = SIZE[t];
  const load = `${t}.load`;
  const store = `${t}.store`;
  const merge = loop('r', get('h'), i32(1), [
    ...loop('q', get('w'), i32(1), [
      set('x', add(get('cp'), mul(get('q'), i32(s)))),
      set('y', add(get('tile'), mul(add(mul(get('r'), i32(b.nr)), get('q')), i32(s)))),
      `(if ${get('acc')}`,
      `  (then (${store} ${get('x')} (${t}.add (${load} ${get('x')}) (${load} ${get('y')}))))`,
      `  (else (${store} ${get('x')} (${load} ${get('y')}))))`,
    ]),
    set('cp', add(get('cp'), get('ldc'))),
  ]);
  const micro = [
    set('h', min(i32(b.mr), `(i32.sub ${get('mcur')} ${get('ir')})`)),
    set('cp', add(get('c'), add(mul(add(get('ic'), get('ir')), get('ldc')), mul(add(get('jc'), get('jr')), i32(s))))),
    set('apan', add(get('pa'), mul(mul(get('ir'), get('kcur')), i32(s)))),
    `(if (i32.and (i32.eq ${get('h')} ${i32(b.mr)}) (i32.eq ${get('w')} ${i32(b.nr)}))`,
    `  (then (call $kernel_${t} ${get('kcur')} ${get('apan')} ${get('bpan')} ${get('cp')} ${get('ldc')} ${get('acc')}))`,
    '  (else',
    `    (call $kernel_${t} ${get('kcur')} ${get('apan')} ${get('bpan')} ${get('tile')} ${i32(b.nr * s)} ${i32(0)})`,
    ...merge.map((line) => '    ' + line),
    '  ))',
  ];
  const overA = loop('ic', get('m'), i32(b.mc), [
    set('mcur', min(i32(b.mc), `(i32.sub ${get('m')} ${get('ic')})`)),
    `(call $pack_a_${t} ${get('mcur')} ${get('kcur')} ${add(get('a'), add(mul(get('ic'), get('rsa')), mul(get('pc'), get('csa'))))} ${get('rsa')} ${get('csa')} ${get('pa')})`,
    ...loop('jr', get('ncur'), i32(b.nr), [
      set('w', min(i32(b.nr), `(i32.sub ${get('ncur')} ${get('jr')})`)),
      set('bpan', add(get('pb'), mul(mul(get('jr'), get('kcur')), i32(s)))),
      ...loop('ir', get('mcur'), i32(b.mr), micro),
    ]),
  ]);
  const overK = loop('pc', get('k'), i32(b.kc), [
    set('kcur', min(i32(b.kc), `(i32.sub ${get('k')} ${get('pc')})`)),
    set('acc', `(i32.ne ${get('pc')} ${i32(0)})`),
    `(call $pack_b_${t} ${get('ncur')} ${get('kcur')} ${add(get('b'), add(mul(get('pc'), get('rsb')), mul(get('jc'), get('csb'))))} ${get('csb')} ${get('rsb')} ${get('pb')})`,
    ...overA,
  ]);
  const overN = loop('jc', get('n'), i32(b.nc), [
    set('ncur', min(i32(b.nc), `(i32.sub ${get('n')} ${get('jc')})`)),
    ...overK,
  ]);
  const names = ['pa', 'pb', 'tile', 'jc', 'pc', 'ic', 'jr', 'ir', 'ncur', 'kcur', 'mcur', 'acc'];
  return [
    `(func $gemm_${t} (param $m i32) (param $n i32) (param $k i32)`,
    '  (param $a i32) (param $rsa i32) (param $csa i32) (param $b i32) (param $rsb i32) (param $csb i32)',
    '  (param $c i32) (param $ldc i32) (param $scratch i32)',
    `  ${locals('i32', names)}`,
    `  ${locals('i32', ['h', 'w', 'cp', 'apan', 'bpan', 'r', 'q', 'x', 'y'])}`,
    `  ${set('tile', add(get('scratch'), i32(layout.tile)))}`,
    `  ${set('pa', add(get('scratch'), i32(layout.packA)))}`,
    `  ${set('pb', add(get('scratch'), i32(layout.packB)))}`,
    ...overN.map((line) => '  ' + line),
    ')',
  ];
}

/** `(i32.load offset=… job)` of one job field. */
const field = (name: keyof typeof JOB): string => `(i32.load offset=${4 * JOB[name]} ${get('job')})`;

/**
 * The exported `gemm_<t>(job, scratch)`: takes slabs of the job at byte address `job` (see
 * layout.ts) with an atomic add on its counter and computes each with this thread's scratch
 * area, until none is left. Every thread working on a job runs this same loop; alone, it
 * simply does every slab. A slab's elements get exactly the arithmetic they get unsplit
 * (each is its own sum over k, block by block), so the result does not depend on the split.
 */
function run(t: WasmDType): string[] {
  const s = SIZE[t];
  const call = (args: string[]): string => `(call $gemm_${t} ${args.join(' ')} ${get('scratch')})`;
  return [
    `(func $run_${t} (export "gemm_${t}") (param $job i32) (param $scratch i32)`,
    `  ${locals('i32', ['chunk', 'start', 'len'])}`,
    '  (block $done',
    '    (loop $next',
    `      ${set('chunk', `(i32.atomic.rmw.add offset=${4 * JOB.counter} ${get('job')} ${i32(1)})`)}`,
    `      (br_if $done (i32.ge_u ${get('chunk')} ${field('chunks')}))`,
    `      ${set('start', mul(get('chunk'), field('width')))}`,
    `      (if ${field('axis')}`,
    '        (then',
    `          ${set('len', min(field('width'), `(i32.sub ${field('n')} ${get('start')})`))}`,
    `          ${call([field('m'), get('len'), field('k'), field('a'), field('rsa'), field('csa'),
      add(field('b'), mul(get('start'), field('csb'))), field('rsb'), field('csb'),
      add(field('c'), mul(get('start'), i32(s))), field('ldc')])})`,
    '        (else',
    `          ${set('len', min(field('width'), `(i32.sub ${field('m')} ${get('start')})`))}`,
    `          ${call([get('len'), field('n'), field('k'), add(field('a'), mul(get('start'), field('rsa'))), field('rsa'), field('csa'),
      field('b'), field('rsb'), field('csb'),
      add(field('c'), mul(get('start'), field('ldc'))), field('ldc')])}))`,
    '      (br $next)))',
    ')',
  ];
}

/**
 * Polls of the job state a helper makes before it sleeps (about a millisecond of one core on
 * a Zen 3 machine): products in a training loop come a fraction of a millisecond apart, and
 * waking a sleeping thread can take as long as a 256³ product in a virtual machine, where the
 * idle core is halted (measured: the helper then misses the product altogether).
 */
export const HELPER_SPINS = 1 << 18;

/**
 * The exported `serve(job, scratch)`, a helper thread's whole life: poll the job's state for a
 * while, then sleep until it changes; when a job is posted, take it (compare-and-swap, so a job
 * the main thread has withdrawn is never run), do slabs of it, mark it finished and wake the
 * main thread. Never returns; the thread is stopped from outside.
 */
function serve(): string[] {
  const state = `(i32.atomic.load ${get('job')})`;
  return [
    '(func (export "serve") (param $job i32) (param $scratch i32)',
    '  (local $s i32) (local $spins i32)',
    '  (loop $forever',
    `    ${set('s', state)}`,
    `    (if (i32.eq ${get('s')} ${i32(JOB_STATE.posted)})`,
    '      (then',
    `        ${set('spins', i32(0))}`,
    `        (if (i32.eq (i32.atomic.rmw.cmpxchg ${get('job')} ${i32(JOB_STATE.posted)} ${i32(JOB_STATE.taken)}) ${i32(JOB_STATE.posted)})`,
    '          (then',
    `            (if ${field('dtype')}`,
    `              (then (call $run_f64 ${get('job')} ${get('scratch')}))`,
    `              (else (call $run_f32 ${get('job')} ${get('scratch')})))`,
    `            (i32.atomic.store ${get('job')} ${i32(JOB_STATE.finished)})`,
    `            (drop (memory.atomic.notify ${get('job')} ${i32(1)})))))`,
    `      (else (if (i32.lt_u ${get('spins')} ${i32(HELPER_SPINS)})`,
    `        (then ${set('spins', add(get('spins'), i32(1)))})`,
    `        (else (drop (memory.atomic.wait32 ${get('job')} ${get('s')} (i64.const -1)))))))`,
    '    (br $forever))',
    ')',
  ];
}

/**
 * The exported epilogue `bias_act_<t>`: C[r, j] = act(C[r, j] + bias[j]) in place over m rows of
 * n, where bit 0 of `flags` adds the bias (n values at byte address `bias`) and bit 1 applies
 * relu. A linear layer's bias and activation, done on C while it is in linear memory, before it
 * is copied out. Vectors over each row, then scalars for the last n mod lanes columns. relu is
 * `max(x, 0)` with WebAssembly's max: NaN stays NaN and -0 becomes +0, as relu must.
 */
function epilogue(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const at = (base: string): string => add(get(base), mul(get('j'), i32(s)));
  // `value = op(value, operand)` when bit `bit` of flags is set.
  const when = (bit: number, local: string, op: string, operand: string): string =>
    `(if (i32.and ${get('flags')} ${i32(bit)}) (then ${set(local, `(${op} ${get(local)} ${operand})`)}))`;
  const row = [
    set('row', add(get('c'), mul(mul(get('r'), get('n')), i32(s)))),
    set('j', i32(0)),
    ...vectorsThenScalars(
      get('j'),
      get('whole'),
      get('n'),
      [
        set('x', `(v128.load ${at('row')})`),
        when(1, 'x', `${v}.add`, `(v128.load ${at('bias')})`),
        when(2, 'x', `${v}.max`, `(v128.const ${v} ${Array(lanes).fill('0').join(' ')})`),
        `(v128.store ${at('row')} ${get('x')})`,
        set('j', add(get('j'), i32(lanes))),
      ],
      [
        set('y', `(${t}.load ${at('row')})`),
        when(1, 'y', `${t}.add`, `(${t}.load ${at('bias')})`),
        when(2, 'y', `${t}.max`, `(${t}.const 0)`),
        `(${t}.store ${at('row')} ${get('y')})`,
        set('j', add(get('j'), i32(1))),
      ],
    ),
  ];
  return [
    `(func (export "bias_act_${t}") (param $c i32) (param $m i32) (param $n i32) (param $bias i32) (param $flags i32)`,
    `  (local $r i32) (local $j i32) (local $row i32) (local $whole i32) (local $x v128) (local $y ${t})`,
    '  ;; Columns covered by whole vectors.',
    `  ${set('whole', `(i32.and ${get('n')} ${i32(-lanes)})`)}`,
    `  (if (i32.eqz ${get('m')}) (then (return)))`,
    ...loop('r', get('m'), i32(1), row).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `relu_backward_<t>`: out = g·[y > 0] over rows×n elements (relu's VJP from its
 * output, a product so NaN in g stays NaN), written over g in place at byte address `g`; with
 * bit 0 of `flags`, also the column sums of the result into n f64 values at `acc`, summed row by
 * row in f64 as the TypeScript kernel does (f32 lanes promoted two at a time), so both give the
 * same bits.
 */
function reluBackward(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const at = (base: string): string => add(get(base), mul(get('j'), i32(s)));
  const accAt = add(get('acc'), mul(get('j'), i32(8)));
  const one = `(v128.const ${v} ${Array(lanes).fill('1').join(' ')})`;
  const zero = `(v128.const ${v} ${Array(lanes).fill('0').join(' ')})`;
  // acc[j..] += the f64 lanes of x: one f64x2 for f64, two (promoted halves) for f32.
  const sumVector =
    t === 'f64'
      ? [`(v128.store ${accAt} (f64x2.add (v128.load ${accAt}) ${get('x')}))`]
      : [
          `(v128.store ${accAt} (f64x2.add (v128.load ${accAt}) (f64x2.promote_low_f32x4 ${get('x')})))`,
          `(v128.store offset=16 ${accAt} (f64x2.add (v128.load offset=16 ${accAt}) ` +
            `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 ${get('x')} ${get('x')}))))`,
        ];
  const row = [
    set('j', i32(0)),
    ...vectorsThenScalars(
      get('j'),
      get('whole'),
      get('n'),
      [
        set('x', `(${v}.mul (v128.load ${at('g')}) (v128.and (${v}.gt (v128.load ${at('y')}) ${zero}) ${one}))`),
        `(v128.store ${at('g')} ${get('x')})`,
        `(if (i32.and ${get('flags')} ${i32(1)}) (then ${sumVector.join(' ')}))`,
        set('j', add(get('j'), i32(lanes))),
      ],
      [
        set('z', `(${t}.mul (${t}.load ${at('g')}) (select (${t}.const 1) (${t}.const 0) (${t}.gt (${t}.load ${at('y')}) (${t}.const 0))))`),
        `(${t}.store ${at('g')} ${get('z')})`,
        `(if (i32.and ${get('flags')} ${i32(1)}) (then (f64.store ${accAt} (f64.add (f64.load ${accAt}) ${t === 'f32' ? `(f64.promote_f32 ${get('z')})` : get('z')}))))`,
        set('j', add(get('j'), i32(1))),
      ],
    ),
    set('g', add(get('g'), mul(get('n'), i32(s)))),
    set('y', add(get('y'), mul(get('n'), i32(s)))),
  ];
  return [
    `(func (export "relu_backward_${t}") (param $g i32) (param $y i32) (param $rows i32) (param $n i32) (param $acc i32) (param $flags i32)`,
    `  (local $r i32) (local $j i32) (local $whole i32) (local $x v128) (local $z ${t})`,
    `  ${set('whole', `(i32.and ${get('n')} ${i32(-lanes)})`)}`,
    '  ;; The sums start at zero.',
    `  (if (i32.and ${get('flags')} ${i32(1)}) (then (memory.fill ${get('acc')} ${i32(0)} ${mul(get('n'), i32(8))})))`,
    `  (if (i32.eqz ${get('rows')}) (then (return)))`,
    ...loop('r', get('rows'), i32(1), row).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `axpy_<t>(y, x, n, alpha, beta)`: y ← β·y + α·x over n elements at byte
 * addresses y and x (BLAS axpby; β = 1 is axpy, an optimiser's update). Computed in f64
 * whatever the storage, each element rounded once when stored, exactly as the TypeScript loop
 * `beta * y[i] + alpha * x[i]` computes it (β·y is exact for β = 1): f32 lanes are promoted
 * two at a time (from 64-bit loads), then demoted and joined by a shuffle.
 */
function axpy(t: WasmDType): string[] {
  const s = SIZE[t];
  const lanes = 16 / s;
  const f64 = (e: string): string => (t === 'f32' ? `(f64.promote_f32 ${e})` : e);
  const narrow = (e: string): string => (t === 'f32' ? `(f32.demote_f64 ${e})` : e);
  // β·y + α·x on two f64 lanes.
  const madd = (yv: string, xv: string): string => `(f64x2.add (f64x2.mul ${get('bv')} ${yv}) (f64x2.mul ${get('av')} ${xv}))`;
  const pair = (base: string, offset: number): string => `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${offset} ${get(base)}))`;
  const vector =
    t === 'f64'
      ? `(v128.store ${get('y')} ${madd(`(v128.load ${get('y')})`, `(v128.load ${get('x')})`)})`
      : `(v128.store ${get('y')} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ` +
        `(f32x4.demote_f64x2_zero ${madd(pair('y', 0), pair('x', 0))}) ` +
        `(f32x4.demote_f64x2_zero ${madd(pair('y', 8), pair('x', 8))})))`;
  return [
    `(func (export "axpy_${t}") (param $y i32) (param $x i32) (param $n i32) (param $alpha f64) (param $beta f64)`,
    '  (local $whole i32) (local $end i32) (local $av v128) (local $bv v128)',
    `  ${set('av', `(f64x2.splat ${get('alpha')})`)}`,
    `  ${set('bv', `(f64x2.splat ${get('beta')})`)}`,
    `  ${set('whole', add(get('y'), mul(`(i32.and ${get('n')} ${i32(-lanes)})`, i32(s))))}`,
    `  ${set('end', add(get('y'), mul(get('n'), i32(s))))}`,
    ...vectorsThenScalars(
      get('y'),
      get('whole'),
      get('end'),
      [vector, set('y', add(get('y'), i32(16))), set('x', add(get('x'), i32(16)))],
      [
        `(${t}.store ${get('y')} ${narrow(`(f64.add (f64.mul ${get('beta')} ${f64(`(${t}.load ${get('y')})`)}) (f64.mul ${get('alpha')} ${f64(`(${t}.load ${get('x')})`)}))`)})`,
        set('y', add(get('y'), i32(s))),
        set('x', add(get('x'), i32(s))),
      ],
    ).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * For each op k, `(if (op == k) (then vector loop, scalar loop, exit))` over the elements from
 * `out` to `end` (`whole` ends the whole vectors). `body(k, vector)` is the value of one vector of
 * lanes or of one element; `advance(vector)` moves the pointers on by one vector or one element.
 */
function elementLoops(t: WasmDType, count: number, body: (op: number, vector: boolean) => string, advance: (vector: boolean) => string[], exit: string): string[] {
  const lines: string[] = [];
  for (let op = 0; op < count; op++) {
    lines.push(
      `(if (i32.eq ${get('op')} ${i32(op)}) (then`,
      ...vectorsThenScalars(
        get('out'),
        get('whole'),
        get('end'),
        [`(v128.store ${get('out')} ${body(op, true)})`, ...advance(true)],
        [`(${t}.store ${get('out')} ${body(op, false)})`, ...advance(false)],
      ).map((line) => '  ' + line),
      `  ${exit}))`,
    );
  }
  return lines;
}

/**
 * The exported `binary_<t>(op, a, sa, ra, b, sb, rb, out, n, rows, slot)`: out = a op b over
 * `rows` rows of n elements, out contiguous (op indexes BINARY_OPS). Each operand walks a row
 * element by element (its flag sa or sb is 1) or gives one value to the whole row (flag 0: the
 * value is splatted into a vector at `slot` or `slot + 16` and read there); `ra` and `rb` are
 * the bytes from one row's start to the next (0 repeats a row). So one loop serves same-shape
 * operands, a scalar on either side, a row repeated over rows (a bias) and a value per row (a
 * column). IEEE add, sub, mul and div are correctly rounded in either dtype, which is what the
 * TypeScript loop gets by computing in f64 and rounding once: the same bits.
 */
function binary(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const body = (op: number, vector: boolean): string => {
    const name = BINARY_OPS[op]!;
    return vector ? `(${v}.${name} (v128.load ${get('pa')}) (v128.load ${get('pb')}))` : `(${t}.${name} (${t}.load ${get('pa')}) (${t}.load ${get('pb')}))`;
  };
  const advance = (vector: boolean): string[] => {
    const bytes = vector ? 16 : s;
    return [
      set('pa', add(get('pa'), mul(get('sa'), i32(bytes)))),
      set('pb', add(get('pb'), mul(get('sb'), i32(bytes)))),
      set('out', add(get('out'), i32(bytes))),
    ];
  };
  // An operand's pointer for this row: the row itself, or its one value splatted at `at`.
  const start = (p: string, base: string, flag: string, at: string): string =>
    `(if ${get(flag)} (then ${set(p, get(base))}) (else (v128.store ${at} (${v}.splat (${t}.load ${get(base)}))) ${set(p, at)}))`;
  return [
    `(func (export "binary_${t}") (param $op i32) (param $a i32) (param $sa i32) (param $ra i32) (param $b i32) (param $sb i32) (param $rb i32) (param $out i32) (param $n i32) (param $rows i32) (param $slot i32)`,
    '  (local $r i32) (local $pa i32) (local $pb i32) (local $whole i32) (local $end i32)',
    '  (loop $rows',
    `    ${start('pa', 'a', 'sa', get('slot'))}`,
    `    ${start('pb', 'b', 'sb', add(get('slot'), i32(16)))}`,
    `    ${set('whole', add(get('out'), mul(`(i32.and ${get('n')} ${i32(-lanes)})`, i32(s))))}`,
    `    ${set('end', add(get('out'), mul(get('n'), i32(s))))}`,
    '    (block $row_done',
    ...elementLoops(t, BINARY_OPS.length, body, advance, '(br $row_done)').map((line) => '      ' + line),
    '    )',
    `    ${set('a', add(get('a'), get('ra')))}`,
    `    ${set('b', add(get('b'), get('rb')))}`,
    `    ${set('r', add(get('r'), i32(1)))}`,
    `    (br_if $rows (i32.lt_u ${get('r')} ${get('rows')})))`,
    ')',
  ];
}

/**
 * The exported `unary_<t>(op, x, out, n)`: out = f(x) over n elements (op indexes UNARY_OPS).
 * Each is exact in IEEE arithmetic, so the same bits as the TypeScript loop; relu keeps NaN and
 * sends everything else that is not positive to +0, as that loop does.
 */
function unary(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const zero = `(v128.const ${v} ${Array(lanes).fill('0').join(' ')})`;
  const body = (op: number, vector: boolean): string => {
    const x = vector ? `(v128.load ${get('x')})` : `(${t}.load ${get('x')})`;
    const p = vector ? v : t;
    switch (UNARY_OPS[op]!) {
      case 'neg':
      case 'abs':
      case 'sqrt':
        return `(${p}.${UNARY_OPS[op]} ${x})`;
      case 'square':
        return `(${p}.mul ${x} ${x})`;
      case 'relu':
        return vector
          ? `(v128.and ${x} (v128.or (${v}.gt ${x} ${zero}) (${v}.ne ${x} ${x})))`
          : `(select ${x} (${t}.const 0) (i32.or (${t}.gt ${x} (${t}.const 0)) (${t}.ne ${x} ${x})))`;
    }
  };
  const advance = (vector: boolean): string[] => {
    const bytes = vector ? 16 : s;
    return [set('x', add(get('x'), i32(bytes))), set('out', add(get('out'), i32(bytes)))];
  };
  return [
    `(func (export "unary_${t}") (param $op i32) (param $x i32) (param $out i32) (param $n i32)`,
    '  (local $whole i32) (local $end i32)',
    `  ${set('whole', add(get('out'), mul(`(i32.and ${get('n')} ${i32(-lanes)})`, i32(s))))}`,
    `  ${set('end', add(get('out'), mul(get('n'), i32(s))))}`,
    ...elementLoops(t, UNARY_OPS.length, body, advance, '(return)').map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `column_sums_<t>(x, outer, rows, n, acc)`: for each of `outer` blocks of
 * rows×n elements at x, the n column sums into f64 values at acc (n per block), each summed row
 * by row in f64 as the TypeScript reduction does (f32 lanes promoted two at a time): the same
 * bits.
 */
function columnSums(t: WasmDType): string[] {
  const s = SIZE[t];
  const lanes = 16 / s;
  const at = add(get('x'), mul(get('j'), i32(s)));
  const accAt = add(get('a'), mul(get('j'), i32(8)));
  const vector =
    t === 'f64'
      ? [`(v128.store ${accAt} (f64x2.add (v128.load ${accAt}) (v128.load ${at})))`]
      : [
          `(v128.store ${accAt} (f64x2.add (v128.load ${accAt}) (f64x2.promote_low_f32x4 (v128.load64_zero ${at}))))`,
          `(v128.store offset=16 ${accAt} (f64x2.add (v128.load offset=16 ${accAt}) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 ${at}))))`,
        ];
  const scalar = `(f64.store ${accAt} (f64.add (f64.load ${accAt}) ${t === 'f32' ? `(f64.promote_f32 (f32.load ${at}))` : `(f64.load ${at})`}))`;
  const row = [
    set('j', i32(0)),
    ...vectorsThenScalars(get('j'), get('whole'), get('n'), [...vector, set('j', add(get('j'), i32(lanes)))], [scalar, set('j', add(get('j'), i32(1)))]),
    set('x', add(get('x'), mul(get('n'), i32(s)))),
  ];
  const block = [
    set('a', add(get('acc'), mul(mul(get('o'), get('n')), i32(8)))),
    `(memory.fill ${get('a')} ${i32(0)} ${mul(get('n'), i32(8))})`,
    ...loop('r', get('rows'), i32(1), row),
  ];
  return [
    `(func (export "column_sums_${t}") (param $x i32) (param $outer i32) (param $rows i32) (param $n i32) (param $acc i32)`,
    '  (local $o i32) (local $r i32) (local $j i32) (local $a i32) (local $whole i32)',
    `  ${set('whole', `(i32.and ${get('n')} ${i32(-lanes)})`)}`,
    ...loop('o', get('outer'), i32(1), block).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `adam_<t>(x, g, m, v, n, b1, c1, b2, c2, stepSize, bc2, eps, decay, sign)`: one
 * Adam step in place over n elements (see `adamUpdate`): x ← x·decay; g' = sign·g;
 * m ← b1·m + c1·g'; v ← b2·v + (c2·g')·g'; x ← x − (stepSize·m)/(√v/bc2 + eps). Each value is
 * computed in f64 and rounded to the storage dtype when stored, and the later steps read the
 * stored (rounded) x, m and v, exactly as the TypeScript loop does: the same bits. f32 lanes
 * are taken two at a time (64-bit loads, promoted; demoted and stored as 64-bit lanes).
 */
function adam(t: WasmDType): string[] {
  const s = SIZE[t];
  // Elements per vector step: the two f64 lanes.
  const per = 2;
  const bytes = per * s;
  // A pair of elements as f64x2, and back to the storage dtype (rounding each f32 lane).
  const load = (p: string): string => (t === 'f32' ? `(f64x2.promote_low_f32x4 (v128.load64_zero ${get(p)}))` : `(v128.load ${get(p)})`);
  const round = (e: string): string => (t === 'f32' ? `(f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero ${e}))` : e);
  const store = (p: string, e: string): string =>
    t === 'f32' ? `(v128.store64_lane 0 ${get(p)} (f32x4.demote_f64x2_zero ${e}))` : `(v128.store ${get(p)} ${e})`;
  // The same step on one element.
  const load1 = (p: string): string => (t === 'f32' ? `(f64.promote_f32 (f32.load ${get(p)}))` : `(f64.load ${get(p)})`);
  const round1 = (e: string): string => (t === 'f32' ? `(f64.promote_f32 (f32.demote_f64 ${e}))` : e);
  const store1 = (p: string, e: string): string => (t === 'f32' ? `(f32.store ${get(p)} (f32.demote_f64 ${e}))` : `(f64.store ${get(p)} ${e})`);
  const step = (vector: boolean): string[] => {
    const [L, R, S, op, c] = vector ? [load, round, store, 'f64x2', (name: string) => get(name.toUpperCase())] : [load1, round1, store1, 'f64', (name: string) => get(name)];
    const local = (name: string): string => get(vector ? `${name}v` : `${name}s`);
    const setLocal = (name: string, e: string): string => set(vector ? `${name}v` : `${name}s`, e);
    return [
      setLocal('x', R(`(${op}.mul ${L('x')} ${c('decay')})`)),
      setLocal('g', `(${op}.mul ${c('sign')} ${L('g')})`),
      setLocal('m', R(`(${op}.add (${op}.mul ${c('b1')} ${L('m')}) (${op}.mul ${c('c1')} ${local('g')}))`)),
      setLocal('v', R(`(${op}.add (${op}.mul ${c('b2')} ${L('v')}) (${op}.mul (${op}.mul ${c('c2')} ${local('g')}) ${local('g')}))`)),
      S('m', local('m')),
      S('v', local('v')),
      S('x', `(${op}.sub ${local('x')} (${op}.div (${op}.mul ${c('stepSize')} ${local('m')}) (${op}.add (${op}.div (${op}.sqrt ${local('v')}) ${c('bc2')}) ${c('eps')})))`),
    ];
  };
  const advance = (by: number): string[] => ['x', 'g', 'm', 'v'].map((p) => set(p, add(get(p), i32(by))));
  const constants = ['b1', 'c1', 'b2', 'c2', 'stepSize', 'bc2', 'eps', 'decay', 'sign'];
  return [
    `(func (export "adam_${t}") (param $x i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32) ${constants.map((k) => `(param $${k} f64)`).join(' ')}`,
    `  (local $whole i32) (local $end i32) (local $xv v128) (local $gv v128) (local $mv v128) (local $vv v128) (local $xs f64) (local $gs f64) (local $ms f64) (local $vs f64) ${constants.map((k) => `(local $${k.toUpperCase()} v128)`).join(' ')}`,
    ...constants.map((k) => `  ${set(k.toUpperCase(), `(f64x2.splat ${get(k)})`)}`),
    `  ${set('whole', add(get('x'), mul(`(i32.and ${get('n')} ${i32(-per)})`, i32(s))))}`,
    `  ${set('end', add(get('x'), mul(get('n'), i32(s))))}`,
    ...vectorsThenScalars(get('x'), get('whole'), get('end'), [...step(true), ...advance(bytes)], [...step(false), ...advance(s)]).map(
      (line) => '  ' + line,
    ),
    ')',
  ];
}

/**
 * The whole module: an imported memory (shared, so a helper thread can work in it; the loader
 * clears the flag where shared memory is missing), `gemm_f32`, `gemm_f64`, `serve`, the
 * epilogues `bias_act_f32`, `bias_act_f64`, `relu_backward_f32`, `relu_backward_f64`,
 * `axpy_f32`, `axpy_f64`, the elementwise `binary_f32`, `binary_f64`, `unary_f32`, `unary_f64`,
 * `column_sums_f32`, `column_sums_f64`, and the optimiser step `adam_f32`, `adam_f64`. `relaxed` uses relaxed-SIMD fused multiply-add in the micro-kernels.
 */
export function gemmWat(relaxed: boolean, blocking: Readonly<Record<WasmDType, GemmBlocking>> = GEMM_BLOCKING, shared = true): string {
  const layout = scratchLayout(blocking);
  const lines = ['(module', `  (import "env" "memory" (memory 1 ${MAX_PAGES}${shared ? ' shared' : ''}))`];
  for (const t of ['f32', 'f64'] as const) {
    const b = blocking[t];
    for (const fn of [kernel(t, b, relaxed), pack(t, b.nr, 'b'), pack(t, b.mr, 'a'), driver(t, b, layout), run(t), epilogue(t), reluBackward(t), axpy(t), binary(t), unary(t), columnSums(t), adam(t)]) {
      lines.push(...fn.map((line) => '  ' + line));
    }
  }
  lines.push(...serve().map((line) => '  ' + line));
  lines.push(')');
  return lines.join('\n') + '\n';
}
