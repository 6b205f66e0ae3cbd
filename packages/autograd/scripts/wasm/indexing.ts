/**
 * The indexing family's WebAssembly text: `gather_rows_<t>` and `scatter_add_rows_<t>`, the
 * loops of kernels/indexing.ts's gatherRows and scatterRows ('add'), and `select_rows_<t>` and
 * `add_rows_<t>`, its selectRows and addRows (whole rows: indexSelect, embedding and their
 * gradients), over operands in linear memory. They move values or add each one into its place
 * in the order the TypeScript loop does, so each gives its bits. Each checks the indices it
 * reads, returning -1 if one lies outside [0, n) (0 when all were good): the caller then checks
 * them itself, naming the offender, and never trusts what was written. A kernel that writes to
 * an indexed place stops at the first bad index, before writing there.
 */
import type { WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, locals, set, SIZE, VEC, vectorsThenScalars } from './text.js';

/** log2 of each dtype's element size: addresses are index << shift. */
const SHIFT: Record<WasmDType, number> = { f32: 2, f64: 3 };

/**
 * The parameters both kernels take: `x` the byte address element offset 0 of `bases` stands for
 * (it may lie before the memory's start: addresses wrap as i32, and every element read is past
 * it), `bases` the byte address of `rows` i32 element offsets, one per row of the index, then
 * `last` elements per row, `inner` and `sa` the element strides of a row's position and of the
 * index value, `index` the byte address of the i32 indices, `n` the size of the indexed axis.
 */
const PARAMS = '(param $x i32) (param $bases i32) (param $rows i32) (param $last i32) (param $inner i32) (param $sa i32) (param $index i32) (param $n i32)';

/** The first index of `value` (an i32 expression) outside [0, n) returns -1 (one unsigned compare covers both bounds). */
const check = (value: string): string => `(if (i32.ge_u ${value} ${get('n')}) (then (return ${i32(-1)})))`;

/**
 * The loop over rows both kernels share: `b` set to the byte address of the row's base, `end` to
 * where the cursor `through` (out for gather, src for scatter) ends the row, then `row`.
 */
function overRows(t: WasmDType, through: string, row: string[]): string[] {
  const sh = SHIFT[t];
  return [
    `${set('innerBytes', `(i32.shl ${get('inner')} ${i32(sh)})`)}`,
    `${set('saBytes', `(i32.shl ${get('sa')} ${i32(sh)})`)}`,
    `${set('end', get(through))}`,
    '(block $rows_done',
    '  (loop $rows_loop',
    `    (br_if $rows_done (i32.ge_u ${get('r')} ${get('rows')}))`,
    `    ${set('b', add(get('x'), `(i32.shl (i32.load ${add(get('bases'), `(i32.shl ${get('r')} ${i32(2)})`)}) ${i32(sh)})`))}`,
    `    ${set('end', add(get('end'), `(i32.shl ${get('last')} ${i32(sh)})`))}`,
    ...row.map((line) => '    ' + line),
    `    ${set('r', add(get('r'), i32(1)))}`,
    '    (br $rows_loop)))',
  ];
}

/** A scalar loop over the rest of a row: `body` with `i` the index and `q` its element's byte address; then each cursor and b move on. */
function scalarRest(t: WasmDType, through: string, body: string[]): string[] {
  const s = SIZE[t];
  return [
    '(block $scalars_done',
    '  (loop $scalars',
    `    (br_if $scalars_done (i32.ge_u ${get(through)} ${get('end')}))`,
    `    ${set('i', `(i32.load ${get('index')})`)}`,
    `    ${check(get('i'))}`,
    `    ${set('q', add(get('b'), `(i32.mul ${get('i')} ${get('saBytes')})`))}`,
    ...body.map((line) => '    ' + line),
    `    ${set('b', add(get('b'), get('innerBytes')))}`,
    `    ${set('index', add(get('index'), i32(4)))}`,
    `    ${set(through, add(get(through), i32(s)))}`,
    '    (br $scalars)))',
  ];
}

/**
 * The exported `gather_rows_<t>(x, bases, rows, last, inner, sa, index, n, out) -> i32`:
 * out[p] = x[bases[r] + j·inner + index[p]·sa] for the `last` elements p of each row r, out
 * walked in order. Along a contiguous last axis (inner 0, sa 1), four indices at a time: one
 * vector load, four lane loads, whole-vector stores; those indices are checked at the end, by
 * their unsigned maximum (a tenth of the loop's time, against a check per vector), so a bad one
 * is read first: within the memory it reads garbage, past it the read traps, and the caller
 * takes either as a bad index.
 */
export function gatherRows(t: WasmDType): string[] {
  const s = SIZE[t];
  const sh = SHIFT[t];
  const lane = (k: number): string => `(i32x4.extract_lane ${k} ${get('addresses')})`;
  // Four gathered elements as one f32x4 vector, or two f64x2 ones. NOTE: the first lane comes
  // from a scalar load and a splat: v128.load32_splat there ran the loop nine times slower (V8 11).
  const stores =
    t === 'f32'
      ? [
          set('v', `(f32x4.splat (f32.load ${lane(0)}))`),
          set('v', `(v128.load32_lane 1 ${lane(1)} ${get('v')})`),
          set('v', `(v128.load32_lane 2 ${lane(2)} ${get('v')})`),
          set('v', `(v128.load32_lane 3 ${lane(3)} ${get('v')})`),
          `(v128.store ${get('out')} ${get('v')})`,
        ]
      : [
          `(v128.store ${get('out')} (v128.load64_lane 1 ${lane(1)} (f64x2.splat (f64.load ${lane(0)}))))`,
          `(v128.store offset=16 ${get('out')} (v128.load64_lane 1 ${lane(3)} (f64x2.splat (f64.load ${lane(2)}))))`,
        ];
  const fours = [
    `(if (i32.and (i32.eqz ${get('inner')}) (i32.eq ${get('sa')} ${i32(1)}))`,
    '  (then',
    `    ${set('whole', add(get('out'), `(i32.shl (i32.and ${get('last')} ${i32(-4)}) ${i32(sh)})`))}`,
    '    (block $fours_done',
    '      (loop $fours',
    `        (br_if $fours_done (i32.ge_u ${get('out')} ${get('whole')}))`,
    `        ${set('indices', `(v128.load ${get('index')})`)}`,
    `        ${set('largest', `(i32x4.max_u ${get('largest')} ${get('indices')})`)}`,
    `        ${set('addresses', `(i32x4.add (i32x4.splat ${get('b')}) (i32x4.shl ${get('indices')} ${i32(sh)}))`)}`,
    ...stores.map((line) => '        ' + line),
    `        ${set('index', add(get('index'), i32(16)))}`,
    `        ${set('out', add(get('out'), i32(4 * s)))}`,
    '        (br $fours)))))',
  ];
  return [
    `(func (export "gather_rows_${t}") ${PARAMS} (param $out i32) (result i32)`,
    `  ${locals('i32', ['r', 'b', 'end', 'whole', 'i', 'q', 'innerBytes', 'saBytes'])} ${locals('v128', ['indices', 'addresses', 'v', 'largest'])}`,
    ...overRows(t, 'out', [...fours, ...scalarRest(t, 'out', [`(${t}.store ${get('out')} (${t}.load ${get('q')}))`])]).map((line) => '  ' + line),
    `  (if (v128.any_true (i32x4.ge_u ${get('largest')} (i32x4.splat ${get('n')}))) (then (return ${i32(-1)})))`,
    `  ${i32(0)})`,
  ];
}

/**
 * The exported `scatter_add_rows_<t>(x, bases, rows, last, inner, sa, index, n, src) -> i32`:
 * x[bases[r] + j·inner + index[p]·sa] += src[p] for the `last` elements p of each row r, src
 * walked in order (so repeated indices add one after another, as the TypeScript loop).
 */
export function scatterAddRows(t: WasmDType): string[] {
  return [
    `(func (export "scatter_add_rows_${t}") ${PARAMS} (param $src i32) (result i32)`,
    `  ${locals('i32', ['r', 'b', 'end', 'i', 'q', 'innerBytes', 'saBytes'])}`,
    ...overRows(t, 'src', scalarRest(t, 'src', [`(${t}.store ${get('q')} (${t}.add (${t}.load ${get('q')}) (${t}.load ${get('src')})))`])).map((line) => '  ' + line),
    `  ${i32(0)})`,
  ];
}

/**
 * The loop over the `m` indices both row kernels share: `d` and `s` set to the byte addresses of
 * the destination and source rows, then the row's `inner` elements moved by `vector` (16 bytes
 * at a time) and `scalar`, each moving d and s on itself. `x` is the indexed array's address,
 * `other` the walked array's; `xIsSource` says which of d, s is the indexed one.
 */
function overIndexedRows(t: WasmDType, xIsSource: boolean, vector: string[], scalar: string[]): string[] {
  const sh = SHIFT[t];
  const indexed = add(get('x'), `(i32.mul ${get('i')} ${get('rowBytes')})`);
  return [
    set('rowBytes', `(i32.shl ${get('inner')} ${i32(sh)})`),
    set('walked', get('other')),
    '(block $rows_done',
    '  (loop $rows_loop',
    `    (br_if $rows_done (i32.ge_u ${get('k')} ${get('m')}))`,
    `    ${set('i', `(i32.load ${get('index')})`)}`,
    `    ${check(get('i'))}`,
    `    ${set(xIsSource ? 's' : 'd', indexed)}`,
    `    ${set(xIsSource ? 'd' : 's', get('walked'))}`,
    `    ${set('end', add(get('d'), get('rowBytes')))}`,
    `    ${set('whole', add(get('d'), `(i32.and ${get('rowBytes')} ${i32(-16)})`))}`,
    ...vectorsThenScalars(get('d'), get('whole'), get('end'), vector, scalar).map((line) => '    ' + line),
    `    ${set('walked', add(get('walked'), get('rowBytes')))}`,
    `    ${set('index', add(get('index'), i32(4)))}`,
    `    ${set('k', add(get('k'), i32(1)))}`,
    '    (br $rows_loop)))',
  ];
}

/** Both row kernels' parameters: the indexed array `x` of `n` rows, `m` i32 indices, rows of `inner` elements, the walked array `other`. */
const ROW_PARAMS = '(param $x i32) (param $n i32) (param $index i32) (param $m i32) (param $inner i32) (param $other i32)';
const ROW_LOCALS = locals('i32', ['k', 'i', 'd', 's', 'end', 'whole', 'rowBytes', 'walked']);

/** Moves d and s on by `bytes`. */
const advance = (bytes: number): string[] => [set('d', add(get('d'), i32(bytes))), set('s', add(get('s'), i32(bytes)))];

/**
 * The exported `select_rows_<t>(x, n, index, m, inner, out) -> i32`: out[k, :] = x[index[k], :]
 * for k < m (kernels/indexing.ts's selectRows with one outer slice), 16 bytes at a time.
 */
export function selectRows(t: WasmDType): string[] {
  const s = SIZE[t];
  return [
    `(func (export "select_rows_${t}") ${ROW_PARAMS} (result i32)`,
    `  ${ROW_LOCALS}`,
    ...overIndexedRows(
      t,
      true,
      [`(v128.store ${get('d')} (v128.load ${get('s')}))`, ...advance(16)],
      [`(${t}.store ${get('d')} (${t}.load ${get('s')}))`, ...advance(s)],
    ).map((line) => '  ' + line),
    `  ${i32(0)})`,
  ];
}

/**
 * The exported `add_rows_<t>(x, n, index, m, inner, src) -> i32`: x[index[k], :] += src[k, :] for
 * k < m in order (kernels/indexing.ts's addRows with alpha 1 and one outer slice), lane by lane:
 * each element gets the same additions in the same order.
 */
export function addRows(t: WasmDType): string[] {
  const s = SIZE[t];
  const v = VEC[t];
  return [
    `(func (export "add_rows_${t}") ${ROW_PARAMS} (result i32)`,
    `  ${ROW_LOCALS}`,
    ...overIndexedRows(
      t,
      false,
      [`(v128.store ${get('d')} (${v}.add (v128.load ${get('d')}) (v128.load ${get('s')})))`, ...advance(16)],
      [`(${t}.store ${get('d')} (${t}.add (${t}.load ${get('d')}) (${t}.load ${get('s')})))`, ...advance(s)],
    ).map((line) => '  ' + line),
    `  ${i32(0)})`,
  ];
}
