/**
 * Dense factorisations' leaves in WebAssembly (float64 only, the dtype the factorisations work
 * in): the unblocked steps that src/kernels/linalg.ts's recursive LU and Cholesky leave between
 * their block products, run on the matrix where it lies in memory (row-major n×n at byte
 * address `a`; indices in elements). Each is vectorised along rows with plain f64x2 multiply,
 * add and subtract (never fused, so both builds give the same bits); all but the LU panel (which
 * is right-looking here, left-looking in TypeScript) take the terms of each sum in the order of
 * their TypeScript counterparts in src/kernels/linalg.ts.
 */
import { add, get, i32, locals, mul, set } from './text.js';

/**
 * Width of the panels the leaves unroll for (LU panels and the Cholesky's panel solves): the
 * WebAssembly leaf width of src/kernels/linalg.ts.
 */
export const PANEL_WIDTH = 16;

/** Byte address of element (row, col) of the n×n matrix at `a`; `nb` holds n·8. */
const at = (row: string, col: string): string => add(get('a'), add(mul(row, get('nb')), mul(col, i32(8))));

/**
 * `for (name = from; name < to; name++) body`, a while loop (it may run no times). The loops of
 * text.ts are do-whiles from 0.
 */
function range(name: string, from: string, to: string, body: string[]): string[] {
  return [
    set(name, from),
    `(block $${name}_done`,
    `  (loop $${name}_loop`,
    `    (br_if $${name}_done (i32.ge_s ${get(name)} ${to}))`,
    ...body.map((line) => '    ' + line),
    `    ${set(name, add(get(name), i32(1)))}`,
    `    (br $${name}_loop)))`,
  ];
}

/**
 * y[0:len) -= u·x[0:len) at byte addresses `y` and `x` (locals), two lanes at a time, then the
 * last element: `u` a f64 local, `uv` its splat. Uses the locals p, q, end, whole.
 */
function axpyRow(y: string, x: string, len: string): string[] {
  return [
    set('p', get(y)),
    set('q', get(x)),
    set('end', add(get(y), mul(len, i32(8)))),
    set('whole', add(get(y), mul(`(i32.and ${len} ${i32(-2)})`, i32(8)))),
    '(block $pairs_done',
    '  (loop $pairs',
    `    (br_if $pairs_done (i32.ge_u ${get('p')} ${get('whole')}))`,
    `    (v128.store ${get('p')} (f64x2.sub (v128.load ${get('p')}) (f64x2.mul (v128.load ${get('q')}) ${get('uv')})))`,
    `    ${set('p', add(get('p'), i32(16)))}`,
    `    ${set('q', add(get('q'), i32(16)))}`,
    '    (br $pairs)))',
    `(if (i32.lt_u ${get('p')} ${get('end')})`,
    `  (then (f64.store ${get('p')} (f64.sub (f64.load ${get('p')}) (f64.mul (f64.load ${get('q')}) ${get('u')})))))`,
  ];
}

/**
 * The exported `lu_panel_f64(a, n, c0, c1, piv)`: LU with partial pivoting of columns c0..c1 of
 * rows c0..n, right-looking (LAPACK's dgetf2): for each column, the first row of largest
 * magnitude from the diagonal down is the pivot, its whole row (all n columns) swapped with the
 * diagonal's, the column below scaled by the pivot's reciprocal, and the panel's columns to its
 * right updated by the rank-1 product. An exactly zero pivot scales nothing and is reported. The
 * pivot rows go to the i32 values at `piv` (c1 - c0 of them); returns the first column whose
 * pivot is zero, or -1.
 */
export function luPanel(): string[] {
  const swap = [
    set('x', at(get('j'), i32(0))),
    set('y', at(get('p'), i32(0))),
    set('end', add(get('x'), get('nb'))),
    set('whole', add(get('x'), mul(`(i32.and ${get('n')} ${i32(-2)})`, i32(8)))),
    '(block $swap_done',
    '  (loop $swap',
    `    (br_if $swap_done (i32.ge_u ${get('x')} ${get('whole')}))`,
    `    ${set('t', `(v128.load ${get('x')})`)}`,
    `    (v128.store ${get('x')} (v128.load ${get('y')}))`,
    `    (v128.store ${get('y')} ${get('t')})`,
    `    ${set('x', add(get('x'), i32(16)))}`,
    `    ${set('y', add(get('y'), i32(16)))}`,
    '    (br $swap)))',
    `(if (i32.lt_u ${get('x')} ${get('end')})`,
    '  (then',
    `    ${set('v', `(f64.load ${get('x')})`)}`,
    `    (f64.store ${get('x')} (f64.load ${get('y')}))`,
    `    (f64.store ${get('y')} ${get('v')})))`,
  ];
  const search = [
    set('p', get('j')),
    set('best', `(f64.abs (f64.load ${at(get('j'), get('j'))}))`),
    ...range('r', add(get('j'), i32(1)), get('n'), [
      set('v', `(f64.abs (f64.load ${at(get('r'), get('j'))}))`),
      `(if (f64.gt ${get('v')} ${get('best')}) (then ${set('best', get('v'))} ${set('p', get('r'))}))`,
    ]),
  ];
  const update = range('r', add(get('j'), i32(1)), get('n'), [
    set('x', at(get('r'), get('j'))),
    set('u', `(f64.mul (f64.load ${get('x')}) ${get('inv')})`),
    `(f64.store ${get('x')} ${get('u')})`,
    set('uv', `(f64x2.splat ${get('u')})`),
    set('x', add(get('x'), i32(8))),
    ...axpyRow('x', 'y', get('w')),
  ]);
  // The pivot's row in place, then the reciprocal that scales the column below it.
  const pivotStep = (pivAt: string): string[] => [
    `(i32.store ${pivAt} ${get('p')})`,
    `(if (i32.ne ${get('p')} ${get('j')}) (then`,
    ...swap.map((line) => '  ' + line),
    '))',
    set('pivot', `(f64.load ${at(get('j'), get('j'))})`),
    // A zero pivot leaves its column unscaled (its entries below are zero, or NaN), as dgetf2.
    `(if (f64.eq ${get('pivot')} (f64.const 0))`,
    `  (then (if (i32.lt_s ${get('zero')} ${i32(0)}) (then ${set('zero', get('j'))})) ${set('inv', '(f64.const 1)')})`,
    `  (else ${set('inv', `(f64.div (f64.const 1) ${get('pivot')})`)}))`,
  ];
  return [
    '(func (export "lu_panel_f64") (param $a i32) (param $n i32) (param $c0 i32) (param $c1 i32) (param $piv i32) (result i32)',
    `  ${locals('i32', ['nb', 'j', 'r', 'p', 'x', 'y', 'q', 'end', 'whole', 'w', 'zero'])}`,
    `  ${locals('f64', ['best', 'v', 'u', 'inv', 'pivot', 'ut'])} ${locals('v128', ['t', 'uv', ...Array.from({ length: PANEL_WIDTH / 2 }, (_, k) => `u${k}`)])}`,
    `  ${set('nb', mul(get('n'), i32(8)))}`,
    `  ${set('zero', i32(-1))}`,
    `  (if (i32.eq (i32.sub ${get('c1')} ${get('c0')}) ${i32(PANEL_WIDTH)}) (then`,
    ...unrolledPanel(search, pivotStep).map((line) => '    ' + line),
    `    (return ${get('zero')})))`,
    ...range('j', get('c0'), get('c1'), [
      ...search,
      ...pivotStep(add(get('piv'), mul(`(i32.sub ${get('j')} ${get('c0')})`, i32(4)))),
      // The rank-1 update of columns j+1..c1: row r -= l_r·(row j), the pivot row at y.
      set('w', `(i32.sub ${get('c1')} (i32.add ${get('j')} ${i32(1)}))`),
      set('y', at(get('j'), add(get('j'), i32(1)))),
      ...update,
    ]).map((line) => '  ' + line),
    `  ${get('zero')}`,
    ')',
  ];
}

/**
 * lu_panel_f64 on a panel PANEL_WIDTH wide, its columns unrolled: each column's pivot row
 * (what is left of it in the panel) held in registers while the rows below take the rank-1
 * update, with no inner loop, and the search for the next column's pivot made in the same pass,
 * row by row as each entry is updated (the same rows in the same order as a search of its own).
 */
function unrolledPanel(search: string[], pivotStep: (pivAt: string) => string[]): string[] {
  const lines = [set('j', get('c0')), ...search];
  for (let jj = 0; jj < PANEL_WIDTH; jj++) {
    lines.push(...pivotStep(`offset=${4 * jj} ${get('piv')}`));
    const m = PANEL_WIDTH - 1 - jj;
    const pairs = m >> 1;
    // Rows j+1..n: x walks column j of them.
    const rows = (body: string[]): string[] => [
      set('r', add(get('j'), i32(1))),
      set('x', at(get('r'), get('j'))),
      `(block $rows${jj}_done`,
      `  (loop $rows${jj}`,
      `    (br_if $rows${jj}_done (i32.ge_s ${get('r')} ${get('n')}))`,
      ...body.map((line) => '    ' + line),
      `    ${set('r', add(get('r'), i32(1)))}`,
      `    ${set('x', add(get('x'), get('nb')))}`,
      `    (br $rows${jj})))`,
    ];
    if (m === 0) {
      lines.push(...rows([`(f64.store ${get('x')} (f64.mul (f64.load ${get('x')}) ${get('inv')}))`]));
      break;
    }
    lines.push(set('y', at(get('j'), add(get('j'), i32(1)))));
    for (let k = 0; k < pairs; k++) lines.push(set(`u${k}`, `(v128.load offset=${16 * k} ${get('y')})`));
    if (m % 2 === 1) lines.push(set('ut', `(f64.load offset=${16 * pairs} ${get('y')})`));
    const body = [
      set('u', `(f64.mul (f64.load ${get('x')}) ${get('inv')})`),
      `(f64.store ${get('x')} ${get('u')})`,
      set('uv', `(f64x2.splat ${get('u')})`),
      ...Array.from({ length: pairs }, (_, k) =>
        `(v128.store offset=${8 + 16 * k} ${get('x')} (f64x2.sub (v128.load offset=${8 + 16 * k} ${get('x')}) (f64x2.mul ${get(`u${k}`)} ${get('uv')})))`),
      ...(m % 2 === 1 ? [`(f64.store offset=${8 + 16 * pairs} ${get('x')} (f64.sub (f64.load offset=${8 + 16 * pairs} ${get('x')}) (f64.mul ${get('ut')} ${get('u')})))`] : []),
      // The next column's search: row j+1 first whatever it holds (NaN included), then any larger.
      set('v', `(f64.abs (f64.load offset=8 ${get('x')}))`),
      `(if (i32.or (f64.gt ${get('v')} ${get('best')}) (i32.eq ${get('r')} (i32.add ${get('j')} ${i32(1)}))) (then ${set('best', get('v'))} ${set('p', get('r'))}))`,
    ];
    lines.push(set('p', add(get('j'), i32(1))), ...rows(body), set('j', add(get('j'), i32(1))));
  }
  return lines;
}

/**
 * The exported `unit_lower_rows_f64(a, n, r0, r1, c0, cols)`: solves L·X = B in place for the
 * unit lower triangle L = a[r0:r1, r0:r1] and B = a[r0:r1, c0:c0+cols] by forward substitution,
 * row i of B less L[i, j]·(row j of X) for j = r0, ..., i - 1 in turn, eight columns at a time
 * held in registers through all the rows j.
 */
export function unitLowerRows(): string[] {
  const accs = [0, 1, 2, 3].map((k) => `acc${k}`);
  // Eight columns of row i held in four registers while every row j above is taken from them.
  const eight = [
    set('y', at(get('i'), add(get('c0'), get('c')))),
    ...accs.map((acc, k) => set(acc, `(v128.load offset=${16 * k} ${get('y')})`)),
    set('x', at(get('r0'), add(get('c0'), get('c')))),
    set('l', at(get('i'), get('r0'))),
    ...range('j', get('r0'), get('i'), [
      set('uv', `(v128.load64_splat ${get('l')})`),
      ...accs.map((acc, k) => set(acc, `(f64x2.sub ${get(acc)} (f64x2.mul (v128.load offset=${16 * k} ${get('x')}) ${get('uv')}))`)),
      set('x', add(get('x'), get('nb'))),
      set('l', add(get('l'), i32(8))),
    ]),
    ...accs.map((acc, k) => `(v128.store offset=${16 * k} ${get('y')} ${get(acc)})`),
    set('c', add(get('c'), i32(8))),
  ];
  return [
    '(func (export "unit_lower_rows_f64") (param $a i32) (param $n i32) (param $r0 i32) (param $r1 i32) (param $c0 i32) (param $cols i32)',
    `  ${locals('i32', ['nb', 'i', 'j', 'p', 'q', 'end', 'whole', 'x', 'y', 'c', 'l', 'rest'])} ${locals('f64', ['u'])} ${locals('v128', ['uv', ...accs])}`,
    `  ${set('nb', mul(get('n'), i32(8)))}`,
    ...range('i', add(get('r0'), i32(1)), get('r1'), [
      set('c', i32(0)),
      '(block $eights_done',
      '  (loop $eights',
      `    (br_if $eights_done (i32.gt_s (i32.add ${get('c')} ${i32(8)}) ${get('cols')}))`,
      ...eight.map((line) => '    ' + line),
      '    (br $eights)))',
      // The last cols mod 8 columns, one row j at a time.
      set('rest', `(i32.sub ${get('cols')} ${get('c')})`),
      `(if (i32.gt_s ${get('rest')} ${i32(0)}) (then`,
      ...[
        set('y', at(get('i'), add(get('c0'), get('c')))),
        ...range('j', get('r0'), get('i'), [
          set('u', `(f64.load ${at(get('i'), get('j'))})`),
          set('uv', `(f64x2.splat ${get('u')})`),
          set('x', at(get('j'), add(get('c0'), get('c')))),
          ...axpyRow('y', 'x', get('rest')),
        ]),
      ].map((line) => '  ' + line),
      '))',
    ]).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * Σ_{k0 ≤ p < j} a[i, p]·a[j, p] subtracted from the f64 local `s` term by term, in order of
 * p: the scalar dot products of the Cholesky leaves. Uses p, q, end.
 */
function subtractDot(): string[] {
  return [
    set('p', at(get('i'), get('k0'))),
    set('q', at(get('j'), get('k0'))),
    set('end', add(get('p'), mul(`(i32.sub ${get('j')} ${get('k0')})`, i32(8)))),
    '(block $dot_done',
    '  (loop $dot',
    `    (br_if $dot_done (i32.ge_u ${get('p')} ${get('end')}))`,
    `    ${set('s', `(f64.sub ${get('s')} (f64.mul (f64.load ${get('p')}) (f64.load ${get('q')})))`)}`,
    `    ${set('p', add(get('p'), i32(8)))}`,
    `    ${set('q', add(get('q'), i32(8)))}`,
    '    (br $dot)))',
  ];
}

/**
 * The exported `cholesky_leaf_f64(a, n, k0, k1)`: the lower Cholesky factor of the diagonal
 * block a[k0:k1, k0:k1] in place (its lower triangle; the update of the columns before k0
 * already applied), left-looking by dot products of rows. Returns j + 1 for the first j whose
 * diagonal d is not positive (NaN included: LAPACK's info), else -1.
 */
export function choleskyLeaf(): string[] {
  return [
    '(func (export "cholesky_leaf_f64") (param $a i32) (param $n i32) (param $k0 i32) (param $k1 i32) (result i32)',
    `  ${locals('i32', ['nb', 'i', 'j', 'p', 'q', 'end'])} ${locals('f64', ['s', 'root', 'inv'])}`,
    `  ${set('nb', mul(get('n'), i32(8)))}`,
    ...range('j', get('k0'), get('k1'), [
      set('i', get('j')),
      set('s', `(f64.load ${at(get('j'), get('j'))})`),
      ...subtractDot(),
      `(if (i32.eqz (f64.gt ${get('s')} (f64.const 0))) (then (return (i32.add ${get('j')} ${i32(1)}))))`,
      set('root', `(f64.sqrt ${get('s')})`),
      `(f64.store ${at(get('j'), get('j'))} ${get('root')})`,
      set('inv', `(f64.div (f64.const 1) ${get('root')})`),
      ...range('i', add(get('j'), i32(1)), get('k1'), [
        set('s', `(f64.load ${at(get('i'), get('j'))})`),
        ...subtractDot(),
        `(f64.store ${at(get('i'), get('j'))} (f64.mul ${get('s')} ${get('inv')}))`,
      ]),
    ]).map((line) => '  ' + line),
    `  ${i32(-1)}`,
    ')',
  ];
}

/**
 * The exported `lower_transposed_rows_f64(a, n, k0, k1, r0, r1)`: X·Lᵀ = B in place for the
 * lower L = a[k0:k1, k0:k1] and B = a[r0:r1, k0:k1], each row by forward substitution:
 * x_j = (b_j - Σ_{k0 ≤ p < j} x_p·L[j, p]) / L[j, j], the terms subtracted in order of p. The
 * panel below a Cholesky diagonal block. Where L is PANEL_WIDTH wide, rows go two at a time
 * through a fully unrolled kernel holding both rows in registers (row i in lane 0, row i + 1 in
 * lane 1; each x_j, once found, taken from every later entry), with the same arithmetic.
 */
export function lowerTransposedRows(): string[] {
  const w = PANEL_WIDTH;
  const v = (j: number): string => `v${j}`;
  const lo = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23';
  const hi = '8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31';
  const pair: string[] = [set('x', at(get('i'), get('k0'))), set('y', add(get('x'), get('nb')))];
  for (let j = 0; j < w; j += 2) {
    pair.push(set('s0', `(v128.load offset=${8 * j} ${get('x')})`), set('s1', `(v128.load offset=${8 * j} ${get('y')})`));
    pair.push(set(v(j), `(i8x16.shuffle ${lo} ${get('s0')} ${get('s1')})`), set(v(j + 1), `(i8x16.shuffle ${hi} ${get('s0')} ${get('s1')})`));
  }
  for (let j = 0; j < w; j++) {
    pair.push(set(v(j), `(f64x2.div ${get(v(j))} (v128.load64_splat offset=${8 * j} ${get(`l${j}`)}))`));
    for (let q = j + 1; q < w; q++) {
      pair.push(set(v(q), `(f64x2.sub ${get(v(q))} (f64x2.mul ${get(v(j))} (v128.load64_splat offset=${8 * j} ${get(`l${q}`)})))`));
    }
  }
  for (let j = 0; j < w; j += 2) {
    pair.push(`(v128.store offset=${8 * j} ${get('x')} (i8x16.shuffle ${lo} ${get(v(j))} ${get(v(j + 1))}))`);
    pair.push(`(v128.store offset=${8 * j} ${get('y')} (i8x16.shuffle ${hi} ${get(v(j))} ${get(v(j + 1))}))`);
  }
  const rows = (from: string): string[] => range('i', from, get('r1'), range('j', get('k0'), get('k1'), [
    set('s', `(f64.load ${at(get('i'), get('j'))})`),
    ...subtractDot(),
    `(f64.store ${at(get('i'), get('j'))} (f64.div ${get('s')} (f64.load ${at(get('j'), get('j'))})))`,
  ]));
  const rowsOf = Array.from({ length: w }, (_, q) => `l${q}`);
  return [
    '(func (export "lower_transposed_rows_f64") (param $a i32) (param $n i32) (param $k0 i32) (param $k1 i32) (param $r0 i32) (param $r1 i32)',
    `  ${locals('i32', ['nb', 'i', 'j', 'p', 'q', 'end', 'x', 'y', ...rowsOf])} ${locals('f64', ['s'])}`,
    `  ${locals('v128', ['s0', 's1', ...Array.from({ length: w }, (_, j) => v(j))])}`,
    `  ${set('nb', mul(get('n'), i32(8)))}`,
    `  ${set('i', get('r0'))}`,
    `  (if (i32.eq (i32.sub ${get('k1')} ${get('k0')}) ${i32(w)}) (then`,
    // Row q of L from its column k0, for the unrolled loads.
    ...rowsOf.map((name, q) => `    ${set(name, at(add(get('k0'), i32(q)), get('k0')))}`),
    '    (block $pairs_done',
    '      (loop $pairs',
    `        (br_if $pairs_done (i32.gt_s (i32.add ${get('i')} ${i32(2)}) ${get('r1')}))`,
    ...pair.map((line) => '        ' + line),
    `        ${set('i', add(get('i'), i32(2)))}`,
    '        (br $pairs)))))',
    ...rows(get('i')).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * Σ_{j0 ≤ j < j1} a[i, j]·x[j] into the f64 local `s`: two vectors of partial sums (terms j0 + 4m
 * + 0..3 in lanes 0, 1 of acc0 and of acc1), then the fewer than four terms left one by one into
 * `t`; s = ((acc0 + acc1) lane 0 + lane 1) + t. src/kernels/linalg.ts's rowDot adds the same
 * terms in the same order. Uses p, q, end, whole, acc0, acc1, t.
 */
function rowDot(j0: string, j1: string): string[] {
  return [
    set('p', at(get('i'), j0)),
    set('q', add(get('x'), mul(j0, i32(8)))),
    set('end', add(get('p'), mul(`(i32.sub ${j1} ${j0})`, i32(8)))),
    set('whole', add(get('p'), mul(`(i32.and (i32.sub ${j1} ${j0}) ${i32(-4)})`, i32(8)))),
    set('acc0', '(v128.const f64x2 0 0)'),
    set('acc1', '(v128.const f64x2 0 0)'),
    set('t', '(f64.const 0)'),
    '(block $fours_done',
    '  (loop $fours',
    `    (br_if $fours_done (i32.ge_u ${get('p')} ${get('whole')}))`,
    `    ${set('acc0', `(f64x2.add ${get('acc0')} (f64x2.mul (v128.load ${get('p')}) (v128.load ${get('q')})))`)}`,
    `    ${set('acc1', `(f64x2.add ${get('acc1')} (f64x2.mul (v128.load offset=16 ${get('p')}) (v128.load offset=16 ${get('q')})))`)}`,
    `    ${set('p', add(get('p'), i32(32)))}`,
    `    ${set('q', add(get('q'), i32(32)))}`,
    '    (br $fours)))',
    '(block $rest_done',
    '  (loop $rest',
    `    (br_if $rest_done (i32.ge_u ${get('p')} ${get('end')}))`,
    `    ${set('t', `(f64.add ${get('t')} (f64.mul (f64.load ${get('p')}) (f64.load ${get('q')})))`)}`,
    `    ${set('p', add(get('p'), i32(8)))}`,
    `    ${set('q', add(get('q'), i32(8)))}`,
    '    (br $rest)))',
    set('acc0', `(f64x2.add ${get('acc0')} ${get('acc1')})`),
    set('s', `(f64.add (f64.add (f64x2.extract_lane 0 ${get('acc0')}) (f64x2.extract_lane 1 ${get('acc0')})) ${get('t')})`),
  ];
}

/**
 * The exported `lu_solve_vector_f64(a, n, x)`: x ← U⁻¹·L⁻¹·x in place (n values at byte address
 * x, the right side already permuted) from the LU factors in the matrix: forward substitution
 * with the unit lower L, then back substitution with U, by dot products along their rows.
 */
export function luSolveVector(): string[] {
  const xi = add(get('x'), mul(get('i'), i32(8)));
  return [
    '(func (export "lu_solve_vector_f64") (param $a i32) (param $n i32) (param $x i32)',
    `  ${locals('i32', ['nb', 'i', 'p', 'q', 'end', 'whole'])} ${locals('f64', ['s', 't'])} ${locals('v128', ['acc0', 'acc1'])}`,
    `  ${set('nb', mul(get('n'), i32(8)))}`,
    ...range('i', i32(0), get('n'), [
      ...rowDot(i32(0), get('i')),
      `(f64.store ${xi} (f64.sub (f64.load ${xi}) ${get('s')}))`,
    ]).map((line) => '  ' + line),
    `  ${set('i', `(i32.sub ${get('n')} ${i32(1)})`)}`,
    '  (block $back_done',
    '    (loop $back',
    `      (br_if $back_done (i32.lt_s ${get('i')} ${i32(0)}))`,
    ...rowDot(add(get('i'), i32(1)), get('n')).map((line) => '      ' + line),
    `      (f64.store ${xi} (f64.div (f64.sub (f64.load ${xi}) ${get('s')}) (f64.load ${at(get('i'), get('i'))})))`,
    `      ${set('i', `(i32.sub ${get('i')} ${i32(1)})`)}`,
    '      (br $back)))',
    ')',
  ];
}

/**
 * The exported `subtract_block_f64(to, ld, from, rows, cols)`: to[i·ld + j] -= from[i·cols + j]
 * (ld in bytes): a contiguous product taken from a block of a matrix in one call.
 */
export function subtractBlock(): string[] {
  return [
    '(func (export "subtract_block_f64") (param $to i32) (param $ld i32) (param $from i32) (param $rows i32) (param $cols i32)',
    `  ${locals('i32', ['i', 'p', 'q', 'end', 'whole'])}`,
    ...range('i', i32(0), get('rows'), [
      set('p', get('to')),
      set('q', get('from')),
      set('end', add(get('p'), mul(get('cols'), i32(8)))),
      set('whole', add(get('p'), mul(`(i32.and ${get('cols')} ${i32(-2)})`, i32(8)))),
      '(block $pairs_done',
      '  (loop $pairs',
      `    (br_if $pairs_done (i32.ge_u ${get('p')} ${get('whole')}))`,
      `    (v128.store ${get('p')} (f64x2.sub (v128.load ${get('p')}) (v128.load ${get('q')})))`,
      `    ${set('p', add(get('p'), i32(16)))}`,
      `    ${set('q', add(get('q'), i32(16)))}`,
      '    (br $pairs)))',
      `(if (i32.lt_u ${get('p')} ${get('end')})`,
      `  (then (f64.store ${get('p')} (f64.sub (f64.load ${get('p')}) (f64.load ${get('q')})))))`,
      set('to', add(get('to'), get('ld'))),
      set('from', add(get('from'), mul(get('cols'), i32(8)))),
    ]).map((line) => '  ' + line),
    ')',
  ];
}
