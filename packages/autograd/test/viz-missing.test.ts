// Without the optional peer @viz-js/viz, drawing says what to install and why, and the entry
// itself still loads (the package is imported only when something is drawn).
import { describe, expect, test, vi } from 'vitest';

vi.mock('@viz-js/viz', () => {
  throw new Error("Cannot find package '@viz-js/viz'");
});

describe('toSvg without @viz-js/viz installed', () => {
  test('the entry loads, and drawing names the package to install and the original failure', async () => {
    const { toSvg, dotToSvg } = await import('@chainrule/autograd/viz');
    const { Value } = await import('@chainrule/autograd');
    const error = await toSvg(new Value(1).exp()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^dotToSvg: cannot load @viz-js\/viz \(Graphviz compiled to WebAssembly\), an optional peer dependency of @chainrule\/autograd needed to draw graphs; install it with `npm install @viz-js\/viz` \(.+\)$/,
    );
    // The import's own failure is kept as the cause (the test runner wraps it once more).
    const causes: string[] = [];
    for (let e: unknown = (error as Error).cause; e instanceof Error; e = e.cause) causes.push(e.message);
    expect(causes.join('\n')).toContain("Cannot find package '@viz-js/viz'");
    // Not cached: each call tries the import again and fails the same way.
    await expect(dotToSvg('digraph { a }')).rejects.toThrow(/cannot load @viz-js\/viz/);
  });
});
