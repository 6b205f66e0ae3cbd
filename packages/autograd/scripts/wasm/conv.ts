/**
 * The convolution family's WebAssembly text: `$im2col_<t>` and `$col2im_<t>` over one image, so a
 * convolution's columns are built where the gemm reads them (in linear memory, one image at a
 * time, in cache) instead of in a JavaScript array that is then copied in, max pooling's
 * `max_pool_<t>`, and `conv_images_<t>`, which carries a batch's images through them and the gemm
 * (a job both threads take images of). Each gives the bits of its TypeScript loop
 * (kernels/conv.ts, kernels/pool.ts): im2col and max pooling only move values, and col2im adds
 * each column entry into its input position in the same order.
 */
import { CONV_JOB, JOB, JOB_KIND, type WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, locals, loop, mul, set, SIZE, VEC } from './text.js';

/** The geometry parameters both kernels take after the image's channel count (see ConvGeometry). */
const GEOMETRY = ['h', 'w', 'kh', 'kw', 'oh', 'ow', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw'];

/** `for (name = from; name < limit; name += step) body`, testing first (the limit may be ≤ from). */
function forLoop(name: string, from: string, limit: string, step: string, body: string[]): string[] {
  return [
    set(name, from),
    `(block $${name}_done`,
    `  (loop $${name}_loop`,
    `    (br_if $${name}_done (i32.ge_s ${get(name)} ${limit}))`,
    ...body.map((line) => '    ' + line),
    '    ' + set(name, add(get(name), step)),
    `    (br $${name}_loop)))`,
  ];
}

/**
 * Lines that set [lo, hi), the output columns whose tap at input column ox·sw + first reads the
 * input (the rest read padding), as insideLo and insideHi compute them in kernels/conv.ts.
 */
function insideColumns(): string[] {
  const lo = `(select ${i32(0)} (select ${get('ow')} (i32.div_u ${add(`(i32.sub ${i32(0)} ${get('first')})`, `(i32.sub ${get('sw')} ${i32(1)})`)} ${get('sw')}) ` +
    `(i32.lt_u ${get('ow')} (i32.div_u ${add(`(i32.sub ${i32(0)} ${get('first')})`, `(i32.sub ${get('sw')} ${i32(1)})`)} ${get('sw')}))) (i32.ge_s ${get('first')} ${i32(0)}))`;
  const span = `(i32.add (i32.div_u (i32.sub (i32.sub ${get('w')} ${i32(1)}) ${get('first')}) ${get('sw')}) ${i32(1)})`;
  const hi = `(select ${i32(0)} (select ${get('ow')} ${span} (i32.lt_u ${get('ow')} ${span})) (i32.gt_s ${get('first')} (i32.sub ${get('w')} ${i32(1)})))`;
  return [set('lo', lo), set('hi', hi), set('hi', `(select ${get('lo')} ${get('hi')} (i32.lt_s ${get('hi')} ${get('lo')}))`)];
}

/** Lines that set [oyLo, oyHi), the output rows whose input row iy = oy·sh + base is inside [0, h). */
function insideRows(): string[] {
  const ceilDiv = (num: string): string => `(i32.div_u (i32.add ${num} (i32.sub ${get('sh')} ${i32(1)})) ${get('sh')})`;
  const minOh = (v: string): string => `(select ${get('oh')} ${v} (i32.lt_u ${get('oh')} ${v}))`;
  return [
    set('oyLo', `(select ${i32(0)} ${minOh(ceilDiv(`(i32.sub ${i32(0)} ${get('base')})`))} (i32.ge_s ${get('base')} ${i32(0)}))`),
    set('oyHi', `(select ${i32(0)} ${minOh(ceilDiv(`(i32.sub ${get('h')} ${get('base')})`))} (i32.le_s (i32.sub ${get('h')} ${get('base')}) ${i32(0)}))`),
    set('oyHi', `(select ${get('oyLo')} ${get('oyHi')} (i32.lt_s ${get('oyHi')} ${get('oyLo')}))`),
  ];
}

/**
 * col2im's loops: for each kernel tap (ci, ky, kx), in order, and each output row oy whose input
 * row is inside the input, in order, `row` with locals set: `line` the byte address of input
 * element (iy, first) of channel ci, `dst` the byte address of the tap's column run for this oy,
 * and [lo, hi) the output columns whose taps read the input. Rows in the padding read nothing.
 */
function overTaps(t: WasmDType, row: string[]): string[] {
  const s = SIZE[t];
  const rowBytes = mul(get('ow'), i32(s));
  return [
    set('tap', get('col')),
    ...forLoop('ci', i32(0), get('c'), i32(1), [
      ...forLoop('ky', i32(0), get('kh'), i32(1), [
        set('base', `(i32.sub ${mul(get('ky'), get('dh'))} ${get('ph')})`),
        ...insideRows(),
        ...forLoop('kx', i32(0), get('kw'), i32(1), [
          set('first', `(i32.sub ${mul(get('kx'), get('dw'))} ${get('pw')})`),
          ...insideColumns(),
          set('dst', add(get('tap'), mul(get('oyLo'), rowBytes))),
          set('line', add(get('x'), mul(add(mul(add(mul(get('ci'), get('h')), add(mul(get('oyLo'), get('sh')), get('base'))), get('w')), get('first')), i32(s)))),
          ...forLoop('oy', get('oyLo'), get('oyHi'), i32(1), [
            ...row,
            set('line', add(get('line'), mul(mul(get('sh'), get('w')), i32(s)))),
            set('dst', add(get('dst'), rowBytes)),
          ]),
          set('tap', add(get('tap'), mul(mul(get('oh'), get('ow')), i32(s)))),
        ]),
      ]),
    ]),
  ];
}

const header = (name: string, t: WasmDType, first: string, last: string): string =>
  `(func $${name}_${t} (param $${first} i32) (param $c i32) ${GEOMETRY.map((g) => `(param $${g} i32)`).join(' ')} (param $${last} i32)`;

const LOCALS = locals('i32', ['ci', 'ky', 'kx', 'oy', 'ox', 'base', 'oyLo', 'oyHi', 'first', 'lo', 'hi', 'line', 'dst', 'tap', 'whole']);

/**
 * `$im2col_<t>(x, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, col)`: one image
 * x [c, h, w] (byte address) to its columns at `col`, one row of oh·ow values per kernel tap
 * (ci, ky, kx) in that order: col[tap][oy·ow + ox] = x[ci, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw],
 * 0 in the padding. Runs are written a whole vector at a time, so a run may write up to a vector
 * past its end (rewritten by the runs after it) and read up to a vector past its input (and,
 * under 'same' padding at unit strides, up to the padding before it): the caller leaves 16 bytes
 * free after the columns, and memory before and after x.
 */
export function im2col(t: WasmDType): string[] {
  const s = SIZE[t];
  const lanes = 16 / s;
  const zeroVector = `(v128.const i32x4 0 0 0 0)`;
  // `count` elements from `at` set to 0, a vector at a time.
  const zeroRun = (at: string, count: string): string[] => [
    set('q', at),
    set('end', add(at, mul(count, i32(s)))),
    ...forLoop('q', get('q'), get('end'), i32(16), [`(v128.store ${get('q')} ${zeroVector})`]),
  ];
  // Copies [lo, hi) of the row at `src` (stride 1) to `row`, a vector at a time past hi.
  const copyRun = forLoop('ox', get('lo'), get('hi'), i32(lanes), [
    `(v128.store ${add(get('row'), mul(get('ox'), i32(s)))} (v128.load ${add(get('src'), mul(get('ox'), i32(s)))}))`,
  ]);
  const scalarZero = (from: string, to: string): string[] => forLoop('ox', from, to, i32(1), [`(${t}.store ${add(get('row'), mul(get('ox'), i32(s)))} (${t}.const 0))`]);
  const insideRow = [
    `(if ${get('full')}`,
    '  (then',
    ...copyRun.map((line) => '    ' + line),
    '  )',
    '  (else',
    ...scalarZero(i32(0), get('lo')).map((line) => '    ' + line),
    `    (if (i32.eq ${get('sw')} ${i32(1)})`,
    '      (then',
    ...copyRun.map((line) => '        ' + line),
    '      )',
    '      (else',
    ...forLoop('ox', get('lo'), get('hi'), i32(1), [
      `(${t}.store ${add(get('row'), mul(get('ox'), i32(s)))} (${t}.load ${add(get('src'), mul(mul(get('ox'), get('sw')), i32(s)))}))`,
    ]).map((line) => '        ' + line),
    '      ))',
    ...scalarZero(get('hi'), get('ow')).map((line) => '    ' + line),
    '  ))',
    set('src', add(get('src'), mul(mul(get('sh'), get('w')), i32(s)))),
    set('row', add(get('row'), mul(get('ow'), i32(s)))),
  ];
  const rowBytes = mul(get('ow'), i32(s));
  // Unit strides and output rows as wide as the input's ('same' padding): the tap's inside rows
  // read one contiguous run of the input shifted by `first`, copied whole; the few columns that
  // run wraps into (reading the row before or after) are then set to 0 as padding.
  const planeRows = [
    `(memory.copy ${get('row')} ${get('src')} ${mul(`(i32.sub ${get('oyHi')} ${get('oyLo')})`, rowBytes)})`,
    ...forLoop('r', get('oyLo'), get('oyHi'), i32(1), [
      ...scalarZero(i32(0), get('lo')),
      ...scalarZero(get('hi'), get('ow')),
      set('row', add(get('row'), rowBytes)),
    ]),
  ];
  return [
    header('im2col', t, 'x', 'col'),
    `  ${locals('i32', ['ci', 'ky', 'kx', 'ox', 'base', 'oyLo', 'oyHi', 'r', 'first', 'lo', 'hi', 'full', 'src', 'row', 'dst', 'q', 'end', 'plane'])}`,
    ...[
      set('plane', `(i32.and (i32.and (i32.eq ${get('sh')} ${i32(1)}) (i32.eq ${get('sw')} ${i32(1)})) (i32.eq ${get('ow')} ${get('w')}))`),
      set('dst', get('col')),
      ...forLoop('ci', i32(0), get('c'), i32(1), [
        ...forLoop('ky', i32(0), get('kh'), i32(1), [
          set('base', `(i32.sub ${mul(get('ky'), get('dh'))} ${get('ph')})`),
          ...insideRows(),
          ...forLoop('kx', i32(0), get('kw'), i32(1), [
            set('first', `(i32.sub ${mul(get('kx'), get('dw'))} ${get('pw')})`),
            ...insideColumns(),
            set('full', `(i32.and (i32.eq ${get('sw')} ${i32(1)}) (i32.and (i32.eqz ${get('lo')}) (i32.eq ${get('hi')} ${get('ow')})))`),
            ...zeroRun(get('dst'), mul(get('oyLo'), get('ow'))),
            set('row', add(get('dst'), mul(get('oyLo'), rowBytes))),
            set('src', add(get('x'), mul(add(mul(add(mul(get('ci'), get('h')), add(mul(get('oyLo'), get('sh')), get('base'))), get('w')), get('first')), i32(s)))),
            `(if ${get('plane')}`,
            '  (then',
            ...planeRows.map((line) => '    ' + line),
            '  )',
            '  (else',
            ...forLoop('r', get('oyLo'), get('oyHi'), i32(1), insideRow).map((line) => '    ' + line),
            '  ))',
            ...zeroRun(get('row'), mul(`(i32.sub ${get('oh')} ${get('oyHi')})`, get('ow'))),
            set('dst', add(get('dst'), mul(mul(get('oh'), get('ow')), i32(s)))),
          ]),
        ]),
      ]),
    ].map((line) => '  ' + line),
    ')',
  ];
}

/**
 * `$col2im_<t>(col, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, x)`: the adjoint
 * of im2col_<t> for one image: zeroes x [c, h, w], then adds each column entry at `col` into the
 * input position it reads, tap by tap in im2col's order (so each element's sum runs in the
 * order of the TypeScript col2im). Unit-stride runs are added a vector at a time.
 */
export function col2im(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const addAt = (xAt: string, colAt: string, vector: boolean): string =>
    vector
      ? `(v128.store ${xAt} (${v}.add (v128.load ${xAt}) (v128.load ${colAt})))`
      : `(${t}.store ${xAt} (${t}.add (${t}.load ${xAt}) (${t}.load ${colAt})))`;
  const colAt = add(get('dst'), mul(get('ox'), i32(s)));
  const row = [
    `(if (i32.eq ${get('sw')} ${i32(1)})`,
    '  (then',
    `    ${set('whole', `(i32.sub ${get('hi')} ${i32(lanes - 1)})`)}`,
    ...forLoop('ox', get('lo'), get('whole'), i32(lanes), [addAt(add(get('line'), mul(get('ox'), i32(s))), colAt, true)]).map((line) => '    ' + line),
    ...forLoop('ox', get('ox'), get('hi'), i32(1), [addAt(add(get('line'), mul(get('ox'), i32(s))), colAt, false)]).map((line) => '    ' + line),
    '  )',
    '  (else',
    ...forLoop('ox', get('lo'), get('hi'), i32(1), [addAt(add(get('line'), mul(mul(get('ox'), get('sw')), i32(s))), colAt, false)]).map((line) => '    ' + line),
    '  ))',
  ];
  return [
    header('col2im', t, 'col', 'x'),
    `  ${LOCALS}`,
    `  (memory.fill ${get('x')} ${i32(0)} ${mul(mul(mul(get('c'), get('h')), get('w')), i32(s))})`,
    ...overTaps(t, row).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `max_pool_<t>(x, planes, h, w, kh, kw, sh, sw, oh, ow, out, argmax)`: for each of
 * `planes` planes h×w at x, the largest element of each kh×kw window at stride sh×sw (no padding
 * or dilation; a window past the bottom or right edge is clipped to the input) into `out`, and its
 * index within its plane into `argmax` (i32). NaN wins and ends the search; among equal maxima the
 * first in row-major order wins: windowMaxDense's rule (kernels/pool.ts), without branches on the
 * data (a tap replaces the best when the best is not NaN and the tap is not ≤ it).
 */
export function maxPool(t: WasmDType): string[] {
  const s = SIZE[t];
  const tap = [
    set('k', add(mul(get('y'), get('w')), get('xx'))),
    set('v', `(${t}.load ${add(get('src'), mul(get('k'), i32(s)))})`),
    set('m', `(i32.and (${t}.eq ${get('best')} ${get('best')}) (i32.eqz (${t}.le ${get('v')} ${get('best')})))`),
    set('best', `(select ${get('v')} ${get('best')} ${get('m')})`),
    set('at', `(select ${get('k')} ${get('at')} ${get('m')})`),
  ];
  const window = [
    set('x0', mul(get('ox'), get('sw'))),
    set('x1', `(select ${get('w')} ${add(get('x0'), get('kw'))} (i32.lt_u ${get('w')} ${add(get('x0'), get('kw'))}))`),
    set('at', add(mul(get('y0'), get('w')), get('x0'))),
    set('best', `(${t}.load ${add(get('src'), mul(get('at'), i32(s)))})`),
    ...forLoop('y', get('y0'), get('y1'), i32(1), forLoop('xx', get('x0'), get('x1'), i32(1), tap)),
    `(${t}.store ${get('out')} ${get('best')})`,
    `(i32.store ${get('argmax')} ${get('at')})`,
    set('out', add(get('out'), i32(s))),
    set('argmax', add(get('argmax'), i32(4))),
  ];
  return [
    `(func $max_pool_${t} (export "max_pool_${t}") (param $x i32) (param $planes i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $oh i32) (param $ow i32) (param $out i32) (param $argmax i32)`,
    `  ${locals('i32', ['p', 'src', 'oy', 'ox', 'y0', 'y1', 'x0', 'x1', 'y', 'xx', 'k', 'at', 'm', 'r0'])} (local $best ${t}) (local $v ${t})`,
    ...(t === 'f32' ? [`  ${locals('v128', ['q0', 'q1', 'vb', 'vat', 'vm', 'va', 'vv', 'vi'])}`] : []),
    ...forLoop('p', i32(0), get('planes'), i32(1), [
      set('src', add(get('x'), mul(mul(mul(get('p'), get('h')), get('w')), i32(s)))),
      ...forLoop('oy', i32(0), get('oh'), i32(1), [
        set('y0', mul(get('oy'), get('sh'))),
        set('y1', `(select ${get('h')} ${add(get('y0'), get('kh'))} (i32.lt_u ${get('h')} ${add(get('y0'), get('kh'))}))`),
        set('ox', i32(0)),
        ...(t === 'f32' ? pairs2x2() : []),
        ...forLoop('ox', get('ox'), get('ow'), i32(1), window),
      ]),
    ]).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * max_pool_f32's vector path for the common 2×2 window at stride 2, four windows of an output row
 * at a time while their two input rows and eight columns are inside the input (the rest, and
 * every other geometry, take the scalar loop): even and odd lanes of each input row are the
 * windows' left and right taps, taken in row-major order with the scalar rule as lane masks.
 */
function pairs2x2(): string[] {
  const even = '0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27';
  const odd = '4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31';
  const taps: [string, string, string][] = [
    [even, get('r0'), i32(0)],
    [odd, get('r0'), i32(1)],
    [even, add(get('r0'), mul(get('w'), i32(4))), get('w')],
    [odd, add(get('r0'), mul(get('w'), i32(4))), add(get('w'), i32(1))],
  ];
  const body: string[] = [
    // Index of each window's first tap: (y0·w + 2·ox) + 0, 2, 4, 6.
    set('vi', `(i32x4.add (i32x4.splat ${add(mul(get('y0'), get('w')), mul(get('ox'), i32(2)))}) (v128.const i32x4 0 2 4 6))`),
  ];
  taps.forEach(([lanes, row, offset], i) => {
    const at = add(row, mul(get('ox'), i32(8)));
    body.push(
      set('q0', `(v128.load ${at})`),
      set('q1', `(v128.load offset=16 ${at})`),
      set('va', `(i8x16.shuffle ${lanes} ${get('q0')} ${get('q1')})`),
      ...(i === 0
        ? [set('vb', get('va')), set('vat', get('vi'))]
        : [
            set('vm', `(v128.andnot (f32x4.eq ${get('vb')} ${get('vb')}) (f32x4.le ${get('va')} ${get('vb')}))`),
            set('vb', `(v128.bitselect ${get('va')} ${get('vb')} ${get('vm')})`),
            set('vat', `(v128.bitselect (i32x4.add ${get('vi')} (i32x4.splat ${offset})) ${get('vat')} ${get('vm')})`),
          ]),
    );
  });
  body.push(
    `(v128.store ${get('out')} ${get('vb')})`,
    `(v128.store ${get('argmax')} ${get('vat')})`,
    set('out', add(get('out'), i32(16))),
    set('argmax', add(get('argmax'), i32(16))),
    set('ox', add(get('ox'), i32(4))),
  );
  const fits = `(i32.and (i32.le_s ${add(get('ox'), i32(4))} ${get('ow')}) (i32.le_s ${add(mul(get('ox'), i32(2)), i32(8))} ${get('w')}))`;
  return [
    `(if (i32.and (i32.and (i32.eq ${get('kh')} ${i32(2)}) (i32.eq ${get('kw')} ${i32(2)})) (i32.and (i32.and (i32.eq ${get('sh')} ${i32(2)}) (i32.eq ${get('sw')} ${i32(2)})) (i32.le_s ${add(get('y0'), i32(2))} ${get('h')})))`,
    '  (then',
    `    ${set('r0', add(get('src'), mul(mul(get('y0'), get('w')), i32(4))))}`,
    '    (block $pairs_done',
    '      (loop $pairs',
    `        (br_if $pairs_done (i32.eqz ${fits}))`,
    ...body.map((line) => '        ' + line),
    '        (br $pairs)))))',
  ];
}

/** `(i32.load offset=… job)` of one of a convolution job's words (layout.ts). */
const word = (name: keyof typeof CONV_JOB | 'counter' | 'chunks' | 'kind'): string =>
  `(i32.load offset=${4 * (name in CONV_JOB ? CONV_JOB[name as keyof typeof CONV_JOB] : JOB[name as keyof typeof JOB])} ${get('job')})`;

/** The geometry arguments of im2col_<t> and col2im_<t> (after the channel count), from the job. */
const jobGeometry = GEOMETRY.map((g) => word(g as keyof typeof CONV_JOB)).join(' ');

/**
 * `$channel_bias_<t>(y, bias, channels, p)`: bias[ch] added to each of the p elements of plane ch
 * of y, in place: the bits of `binary_<t>`'s add with one value per row (y + bias).
 */
function channelBias(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  return [
    `(func $channel_bias_${t} (param $y i32) (param $bias i32) (param $channels i32) (param $p i32)`,
    `  ${locals('i32', ['ch', 'whole', 'end'])} (local $add ${t}) (local $lanes v128)`,
    ...loop('ch', get('channels'), i32(1), [
      set('add', `(${t}.load ${add(get('bias'), mul(get('ch'), i32(s)))})`),
      set('lanes', `(${v}.splat ${get('add')})`),
      set('whole', add(get('y'), mul(`(i32.and ${get('p')} ${i32(-lanes)})`, i32(s)))),
      set('end', add(get('y'), mul(get('p'), i32(s)))),
      ...forLoop('y', get('y'), get('whole'), i32(16), [`(v128.store ${get('y')} (${v}.add (v128.load ${get('y')}) ${get('lanes')}))`]),
      ...forLoop('y', get('y'), get('end'), i32(s), [`(${t}.store ${get('y')} (${t}.add (${t}.load ${get('y')}) ${get('add')}))`]),
    ]).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * `$unpool_<t>(g, argmax, b, o, inner, p, out)`: image b's gradient at its pooling's input made
 * from the pooled gradient, as the TypeScript scatter makes it: out [o, p] zeroed, then each
 * channel's g[j] added at its winner argmax[j], j in order (windows that share a winner add up).
 */
function unpool(t: WasmDType): string[] {
  const s = SIZE[t];
  const at = add(get('plane'), mul(`(i32.load ${add(get('argmax'), mul(get('j'), i32(4)))})`, i32(s)));
  return [
    `(func $unpool_${t} (param $g i32) (param $argmax i32) (param $b i32) (param $o i32) (param $inner i32) (param $p i32) (param $out i32)`,
    `  ${locals('i32', ['ch', 'j', 'end', 'plane', 'to'])}`,
    `  (memory.fill ${get('out')} ${i32(0)} ${mul(mul(get('o'), get('p')), i32(s))})`,
    `  ${set('j', mul(mul(get('b'), get('o')), get('inner')))}`,
    ...loop('ch', get('o'), i32(1), [
      set('plane', add(get('out'), mul(mul(get('ch'), get('p')), i32(s)))),
      set('end', add(get('j'), get('inner'))),
      ...forLoop('j', get('j'), get('end'), i32(1), [
        set('to', at),
        `(${t}.store ${get('to')} (${t}.add (${t}.load ${get('to')}) (${t}.load ${add(get('g'), mul(get('j'), i32(s)))})))`,
      ]),
    ]).map((line) => '  ' + line),
    ')',
  ];
}

/** `(call $gemm_<t> m n k a rsa csa b rsb csb c ldc scratch)`: one product over byte addresses and byte strides. */
const gemm = (t: WasmDType, args: string[]): string => `(call $gemm_${t} ${args.join(' ')} ${get('scratch')})`;

/** Locals every image function sets first: channels in and out, taps per group, output and input plane sizes. */
function imageLocals(extra: string[]): string[] {
  return [
    `  ${locals('i32', ['c', 'o', 'ck', 'p', 'plane', 'gi', ...extra])}`,
    `  ${set('c', mul(word('groups'), word('cg')))}`,
    `  ${set('o', mul(word('groups'), word('og')))}`,
    `  ${set('ck', mul(mul(word('cg'), word('kh')), word('kw')))}`,
    `  ${set('p', mul(word('oh'), word('ow')))}`,
    `  ${set('plane', mul(word('h'), word('w')))}`,
  ];
}

/** The image's output gradient block: made from the pooled gradient in `blk`, or image b's block of the one at `from`. */
function gradientBlock(t: WasmDType, from: string): string[] {
  const s = SIZE[t];
  return [
    `(if ${word('pooled')}`,
    '  (then',
    `    (call $unpool_${t} ${from} ${word('argmax')} ${get('b')} ${get('o')} ${word('inner')} ${get('p')} ${get('blk')})`,
    `    ${set('ub', get('blk'))})`,
    `  (else ${set('ub', add(from, mul(mul(mul(get('b'), get('o')), get('p')), i32(s))))}))`,
  ];
}

/**
 * The three per-image functions `$conv_<kind>_image_<t>(job, scratch, col, blk, b)`: image b's
 * share of a convolution job, with this thread's scratch (the gemm's), columns and block. Each
 * runs the kernels the one-image-at-a-time TypeScript driver ran, in its order, so each element
 * gets the same bits: im2col, one gemm per group, the bias, then the pooling (forward); the
 * pooled gradient's scatter, one transposed gemm per group, col2im, the bias (adjoint); the
 * scatter, im2col, one gemm per group into the image's slot (weight gradient).
 */
function imageFunctions(t: WasmDType): string[] {
  const s = SIZE[t];
  const params = '(param $job i32) (param $scratch i32) (param $col i32) (param $blk i32) (param $b i32)';
  const byGroup = (args: (gi: string) => string[]): string[] => loop('gi', word('groups'), i32(1), [gemm(t, args(get('gi')))]);
  const at = (base: string, ...factors: string[]): string => add(base, mul(factors.reduce((x, y) => mul(x, y)), i32(s)));
  const image = (base: string, per: string): string => at(base, get('b'), per);
  const forward = [
    `(func $conv_forward_image_${t} ${params}`,
    ...imageLocals(['yb', 'inner']),
    `  (call $im2col_${t} ${image(word('input'), mul(get('c'), get('plane')))} ${get('c')} ${jobGeometry} ${get('col')})`,
    `  ${set('yb', `(select ${get('blk')} ${image(word('out'), mul(get('o'), get('p')))} ${word('pooled')})`)}`,
    // [og, ck]·[ck, p]: the group's weight rows times its columns, into its rows of the block.
    ...byGroup((gi) => [word('og'), get('p'), get('ck'),
      at(word('weight'), gi, word('og'), get('ck')), mul(get('ck'), i32(s)), i32(s),
      at(get('col'), gi, get('ck'), get('p')), mul(get('p'), i32(s)), i32(s),
      at(get('yb'), gi, word('og'), get('p')), mul(get('p'), i32(s))]).map((line) => '  ' + line),
    `  (if ${word('bias')} (then (call $channel_bias_${t} ${get('yb')} ${word('bias')} ${get('o')} ${get('p')})))`,
    `  (if ${word('pooled')}`,
    '    (then',
    `      ${set('inner', word('inner'))}`,
    `      (call $max_pool_${t} ${get('yb')} ${get('o')} ${word('oh')} ${word('ow')} ${word('poolKh')} ${word('poolKw')} ${word('poolSh')} ${word('poolSw')} ${word('poolOh')} ${word('poolOw')} ` +
      `${image(word('out'), mul(get('o'), get('inner')))} ${add(word('argmax'), mul(mul(mul(get('b'), get('o')), get('inner')), i32(4)))})))`,
    ')',
  ];
  const adjoint = [
    `(func $conv_adjoint_image_${t} ${params}`,
    ...imageLocals(['ub', 'xb']),
    ...gradientBlock(t, word('input')).map((line) => '  ' + line),
    // [og, ck]ᵀ·[og, p]: the weight read transposed in place.
    ...byGroup((gi) => [get('ck'), get('p'), word('og'),
      at(word('weight'), gi, word('og'), get('ck')), i32(s), mul(get('ck'), i32(s)),
      at(get('ub'), gi, word('og'), get('p')), mul(get('p'), i32(s)), i32(s),
      at(get('col'), gi, get('ck'), get('p')), mul(get('p'), i32(s))]).map((line) => '  ' + line),
    `  ${set('xb', image(word('out'), mul(get('c'), get('plane'))))}`,
    `  (call $col2im_${t} ${get('col')} ${get('c')} ${jobGeometry} ${get('xb')})`,
    `  (if ${word('bias')} (then (call $channel_bias_${t} ${get('xb')} ${word('bias')} ${get('c')} ${get('plane')})))`,
    ')',
  ];
  const weightGrad = [
    `(func $conv_weight_grad_image_${t} ${params}`,
    ...imageLocals(['ub', 'slot']),
    ...gradientBlock(t, word('grad')).map((line) => '  ' + line),
    `  (call $im2col_${t} ${image(word('input'), mul(get('c'), get('plane')))} ${get('c')} ${jobGeometry} ${get('col')})`,
    // Image 0 writes the weight gradient itself; every other image its own slot, added in image order afterwards.
    `  ${set('slot', `(select ${word('out')} ${at(word('parts'), `(i32.sub ${get('b')} ${word('first')})`, get('o'), get('ck'))} (i32.eqz ${get('b')}))`)}`,
    // [og, p]·[ck, p]ᵀ: the image's sum over its output positions.
    ...byGroup((gi) => [word('og'), get('ck'), get('p'),
      at(get('ub'), gi, word('og'), get('p')), mul(get('p'), i32(s)), i32(s),
      at(get('col'), gi, get('ck'), get('p')), i32(s), mul(get('p'), i32(s)),
      at(get('slot'), gi, word('og'), get('ck')), mul(get('ck'), i32(s))]).map((line) => '  ' + line),
    ')',
  ];
  return [...forward, ...adjoint, ...weightGrad];
}

/**
 * The exported `conv_images_<t>(job, scratch, thread)`: takes images of the convolution job at
 * byte address `job` (layout.ts's CONV_JOB) with an atomic add on its counter, and carries each
 * through its kernels with this thread's scratch and work area, until none is left. Every thread
 * working on a job runs this loop (the helper's `serve` as thread 1); alone, it does every image.
 * Images write disjoint outputs, so the result does not depend on which thread took which.
 */
export function convImages(t: WasmDType): string[] {
  const call = (kind: string): string => `(call $conv_${kind}_image_${t} ${get('job')} ${get('scratch')} ${get('col')} ${get('blk')} ${get('b')})`;
  return [
    ...channelBias(t),
    ...unpool(t),
    ...imageFunctions(t),
    `(func $conv_images_${t} (export "conv_images_${t}") (param $job i32) (param $scratch i32) (param $thread i32)`,
    `  ${locals('i32', ['col', 'blk', 'b', 'kind'])}`,
    `  ${set('col', add(word('work'), mul(get('thread'), word('workStride'))))}`,
    `  ${set('blk', add(get('col'), word('block')))}`,
    `  ${set('kind', word('kind'))}`,
    '  (block $done',
    '    (loop $next',
    `      ${set('b', `(i32.atomic.rmw.add offset=${4 * JOB.counter} ${get('job')} ${i32(1)})`)}`,
    `      (br_if $done (i32.ge_u ${get('b')} ${word('chunks')}))`,
    `      ${set('b', add(get('b'), word('first')))}`,
    `      (if (i32.eq ${get('kind')} ${i32(JOB_KIND.convForward)})`,
    `        (then ${call('forward')})`,
    `        (else (if (i32.eq ${get('kind')} ${i32(JOB_KIND.convAdjoint)}) (then ${call('adjoint')}) (else ${call('weight_grad')}))))`,
    '      (br $next)))',
    ')',
  ];
}
