/**
 * The gemm family's WebAssembly text: the packed, register-tiled product C = op(A)·op(B),
 * its slab loop over a shared job (`gemm_<t>`), the helper thread's `serve` loop, and the
 * bias + relu epilogue a linear layer applies while C is still in WebAssembly memory.
 *
 * The scheme (GotoBLAS/BLIS): for each NC-column block of op(B) and KC-deep slice of k, pack
 * that slice of B into NR-column micro-panels (KC×NR contiguous, stays in L1); for each
 * MC-row block of op(A), pack it into MR-row micro-panels (stays in L2); then run the MR×NR
 * micro-kernel over every pair of micro-panels. Packing reads A and B through (row, column)
 * strides, so all four transpose combinations run the same micro-kernel at the same speed.
 * The micro-kernel is fully unrolled (one local per accumulator) in four variants:
 * float32/float64 × plain SIMD128/relaxed-SIMD fused multiply-add.
 */
import { type GemmBlocking, JOB, JOB_STATE, type ScratchLayout, type WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, locals, loop, min, mul, set, SIZE, SPLAT, vectorsThenScalars, VEC } from './text.js';

/** The blocking each dtype is built with; the loader sizes its scratch from these. */
export const GEMM_BLOCKING: Readonly<Record<WasmDType, GemmBlocking>> = {
  f32: { mr: 4, nr: 8, kc: 256, mc: 128, nc: 2048 },
  f64: { mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024 },
};

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

/**
 * The micro-kernel: C[0:mr, 0:nr] (=|+=) Ap·Bp over kc steps. Ap holds mr values per step,
 * Bp nr values per step. `acc` = 0 stores the product, otherwise adds it to C (row stride ldc
 * bytes). With mr=4, nr=8 in f32: 8 accumulators, 2 loads of B and 4 splats of A per step.
 * With `rows` < mr, `$kernel_<t>_<rows>` does only the first `rows` rows of the panel (the last
 * panel of an m that mr does not divide), each row's arithmetic the same as in the full kernel.
 */
export function microKernel(t: WasmDType, b: GemmBlocking, relaxed: boolean, rows = b.mr): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const nv = b.nr / lanes;
  const accs: string[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < nv; j++) accs.push(`c${i}_${j}`);
  const bs = Array.from({ length: nv }, (_, j) => `b${j}`);
  const fma = (x: string, y: string, z: string): string =>
    relaxed ? `(${v}.relaxed_madd ${x} ${y} ${z})` : `(${v}.add ${z} (${v}.mul ${x} ${y}))`;
  const step: string[] = [];
  for (let j = 0; j < nv; j++) step.push(set(`b${j}`, `(v128.load offset=${j * 16} ${get('pb')})`));
  for (let i = 0; i < rows; i++) {
    step.push(set('av', `(${SPLAT[t]} offset=${i * s} ${get('pa')})`));
    for (let j = 0; j < nv; j++) step.push(set(`c${i}_${j}`, fma(get('av'), get(`b${j}`), get(`c${i}_${j}`))));
  }
  step.push(set('pa', add(get('pa'), i32(b.mr * s))));
  step.push(set('pb', add(get('pb'), i32(b.nr * s))));
  // C row i is at cp + i·ldc; `row` walks it. With acc, add what C holds first.
  const addC: string[] = [set('row', get('cp'))];
  const store: string[] = [set('row', get('cp'))];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < nv; j++) {
      const c = `c${i}_${j}`;
      addC.push(set(c, `(${v}.add (v128.load offset=${j * 16} ${get('row')}) ${get(c)})`));
      store.push(`(v128.store offset=${j * 16} ${get('row')} ${get(c)})`);
    }
    if (i + 1 < rows) {
      addC.push(set('row', add(get('row'), get('ldc'))));
      store.push(set('row', add(get('row'), get('ldc'))));
    }
  }
  return [
    `(func $kernel_${t}${rows === b.mr ? '' : `_${rows}`} (param $kc i32) (param $pa i32) (param $pb i32) (param $cp i32) (param $ldc i32) (param $acc i32)`,
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
export function pack(t: WasmDType, width: number, side: 'a' | 'b'): string[] {
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
 * product too). m, n, k ≥ 1. Tiles narrower than nr are computed into the tile buffer and merged
 * element by element, so the micro-kernel never branches; full-width tiles of fewer than mr rows
 * (the last rows of m) take the micro-kernel of their height, straight into C.
 */
export function gemmDriver(t: WasmDType, b: GemmBlocking, layout: ScratchLayout): string[] {
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
  const straight = (rows: number): string =>
    `(call $kernel_${t}${rows === b.mr ? '' : `_${rows}`} ${get('kcur')} ${get('apan')} ${get('bpan')} ${get('cp')} ${get('ldc')} ${get('acc')})`;
  // A full-width tile of h rows: the kernel of that height (the last rows of an m that mr does not divide).
  let byHeight = straight(b.mr);
  for (let rows = b.mr - 1; rows >= 1; rows--) byHeight = `(if (i32.eq ${get('h')} ${i32(rows)}) (then ${straight(rows)}) (else ${byHeight}))`;
  const micro = [
    set('h', min(i32(b.mr), `(i32.sub ${get('mcur')} ${get('ir')})`)),
    set('cp', add(get('c'), add(mul(add(get('ic'), get('ir')), get('ldc')), mul(add(get('jc'), get('jr')), i32(s))))),
    set('apan', add(get('pa'), mul(mul(get('ir'), get('kcur')), i32(s)))),
    `(if (i32.eq ${get('w')} ${i32(b.nr)})`,
    `  (then ${byHeight})`,
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
export function slabLoop(t: WasmDType): string[] {
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
 * the main thread has withdrawn is never run), do slabs of it (or, for a convolution job, images
 * of it as thread 1), mark it finished and wake the main thread. Never returns; the thread is stopped from outside.
 */
export function serve(): string[] {
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
    `            (if ${field('kind')}`,
    `              (then (if ${field('dtype')}`,
    `                (then (call $conv_images_f64 ${get('job')} ${get('scratch')} ${i32(1)}))`,
    `                (else (call $conv_images_f32 ${get('job')} ${get('scratch')} ${i32(1)}))))`,
    `              (else (if ${field('dtype')}`,
    `                (then (call $run_f64 ${get('job')} ${get('scratch')}))`,
    `                (else (call $run_f32 ${get('job')} ${get('scratch')})))))`,
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
export function biasActivation(t: WasmDType): string[] {
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

