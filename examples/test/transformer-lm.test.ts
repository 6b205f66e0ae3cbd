import { beforeAll, describe, expect, it } from 'vitest';
import { brownCorpus, main, type TransformerLmResult } from '../transformer-lm.js';

describe('examples/transformer-lm', () => {
  let r: TransformerLmResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('trains on the built-in text, reading nothing else', () => {
    expect(r.corpus).toMatch(/Dickens/);
    expect(r.trainChars).toBeGreaterThan(800);
  });

  it('the training loss falls from about ln(vocab) to at least 1 bit per character below the unigram baseline', () => {
    const [first, last] = [r.lossCurve[0]![1], r.lossCurve.at(-1)![1]];
    expect(Math.abs(first - Math.log(r.vocab))).toBeLessThan(0.5);
    expect(last / Math.LN2).toBeLessThan(r.unigramBitsPerChar - 1);
  });

  it('samples text that continues its prompt from the vocabulary', () => {
    expect(r.sample.startsWith('It was the best of times')).toBe(true);
    expect(r.sample.length).toBe(24 + 80);
    expect(Number.isFinite(r.validBitsPerChar)).toBe(true);
  });

  it('reads the Brown corpus without its tags when the package is installed', () => {
    const text = brownCorpus(2000);
    expect(text.length).toBeGreaterThanOrEqual(2000);
    expect(text.startsWith('The Fulton County Grand Jury said Friday an investigation')).toBe(true);
    expect(text).not.toMatch(/\/(at|nn|np)\b/);
  });
});
