import { beforeAll, describe, expect, it } from 'vitest';
import { main, type GradcheckTourResult } from '../gradcheck-tour.js';

describe('examples/gradcheck-tour', () => {
  let r: GradcheckTourResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('correct functions pass full and fast gradcheck and taylorTest', () => {
    expect(r.fullOk).toBe(true);
    expect(r.fastOk).toBe(true);
    expect(r.rightOk).toBe(true);
    expect(r.taylorCorrect).toBe('correct');
  });

  it('the wrong backward fails full and fast mode, taylorTest and assertGradcheck', () => {
    expect(r.wrongFullOk).toBe(false);
    expect(r.wrongFastOk).toBe(false);
    expect(r.taylorWrong).toBe('wrong-gradient');
    expect(r.wrongCaught).toBe(true);
  });

  it('the report names the worst element, where analytic and numeric differ', () => {
    expect(r.wrongWorst).not.toBeNull();
    expect(r.wrongWorst!.index).toHaveLength(2);
    expect(Math.abs(r.wrongWorst!.analytic - r.wrongWorst!.numeric)).toBeGreaterThan(0.01);
  });
});
