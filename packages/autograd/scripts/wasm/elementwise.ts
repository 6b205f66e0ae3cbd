/**
 * Elementwise WebAssembly text: `binary_<t>` (add, sub, mul, div with the broadcasts a row
 * loop covers), `outer_<t>` (rows of an outer product), `unary_<t>`, `column_sums_<t>` (sums over an axis that is not the last) and
 * `relu_backward_<t>` (relu's VJP, optionally with a bias gradient's column sums). Each gives
 * the same bits as its TypeScript loop: the ops are exact in IEEE arithmetic, and the sums
 * run in float64 in the same order.
 */
import { BINARY_OPS, UNARY_OPS, type WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, loop, mul, set, SIZE, SPLAT, vectorsThenScalars, VEC } from './text.js';

/**
 * The exported `relu_backward_<t>`: out = g·[y > 0] over rows×n elements (relu's VJP from its
 * output, a product so NaN in g stays NaN), written over g in place at byte address `g`; with
 * bit 0 of `flags`, also the column sums of the result into n f64 values at `acc`, summed row by
 * row in f64 as the TypeScript kernel does (f32 lanes promoted two at a time), so both give the
 * same bits.
 */
export function reluBackward(t: WasmDType): string[] {
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
export function binary(t: WasmDType): string[] {
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
export function unary(t: WasmDType): string[] {
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
export function columnSums(t: WasmDType): string[] {
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
 * The exported `outer_<t>(a, c, out, rows, k)`: out[i, j] = a[i]·c[j] for i < rows, j < k, out
 * contiguous: a row of an outer product is one value splatted into a register times the row c,
 * so each output vector is one load, one multiply and one store (the binary kernel's general
 * row loop spends three times the instructions on it). Four vectors at a time while they last,
 * then single vectors, then single elements. Each element is one correctly rounded product: the
 * same bits as the TypeScript loop.
 */
export function outer(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  const lanes = 16 / s;
  const product = (offset: number): string =>
    `(v128.store offset=${offset} ${add(get('o'), get('j'))} (${v}.mul ${get('x')} (v128.load offset=${offset} ${add(get('c'), get('j'))})))`;
  const row = [
    `(local.set $x (${SPLAT[t]} ${get('a')}))`,
    set('j', i32(0)),
    '(block $fours_done',
    '  (loop $fours',
    `    (br_if $fours_done (i32.ge_u ${get('j')} ${get('four')}))`,
    ...[0, 16, 32, 48].map((offset) => '    ' + product(offset)),
    `    ${set('j', add(get('j'), i32(64)))}`,
    '    (br $fours)))',
    ...vectorsThenScalars(
      get('j'),
      get('whole'),
      get('end'),
      [product(0), set('j', add(get('j'), i32(16)))],
      [`(${t}.store ${add(get('o'), get('j'))} (${t}.mul (${t}.load ${get('a')}) (${t}.load ${add(get('c'), get('j'))})))`, set('j', add(get('j'), i32(s)))],
    ),
    set('o', add(get('o'), get('end'))),
    set('a', add(get('a'), i32(s))),
  ];
  return [
    `(func (export "outer_${t}") (param $a i32) (param $c i32) (param $out i32) (param $rows i32) (param $k i32)`,
    '  (local $r i32) (local $j i32) (local $o i32) (local $end i32) (local $whole i32) (local $four i32) (local $x v128)',
    `  (if (i32.eqz ${get('rows')}) (then (return)))`,
    '  ;; Byte offsets within a row: its end, its whole vectors, its whole groups of four.',
    `  ${set('end', mul(get('k'), i32(s)))}`,
    `  ${set('whole', mul(`(i32.and ${get('k')} ${i32(-lanes)})`, i32(s)))}`,
    `  ${set('four', mul(`(i32.and ${get('k')} ${i32(-4 * lanes)})`, i32(s)))}`,
    `  ${set('o', get('out'))}`,
    ...loop('r', get('rows'), i32(1), row).map((line) => '  ' + line),
    ')',
  ];
}
