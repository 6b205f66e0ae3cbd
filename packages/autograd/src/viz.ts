/**
 * Drawing the graph: `toDot`'s text rendered to SVG by Graphviz compiled to WebAssembly
 * (`@viz-js/viz`), the same in Node, notebooks and browsers, with no Graphviz installed.
 * A separate entry because Graphviz weighs about 1.5 MB (0.5 MB gzipped): code that never draws
 * does not load it, and it is an optional peer dependency, installed only by those who draw.
 * @module @chainrule/autograd/viz
 */
import { ArgumentError } from './errors.js';
import { toDot } from './dot.js';
import type { Tensor } from './tensor.js';
import type { Value } from './value.js';

/** The part of @viz-js/viz's `Viz` used here. */
interface Graphviz {
  render(dot: string, options: { format: string }): { status: string; output?: string; errors: { level?: string; message: string }[] };
}

let graphviz: Promise<Graphviz> | undefined;

/**
 * Loads and compiles Graphviz once; a failure is not cached, so a later call tries again.
 * NOTE: a dynamic import, so that bundlers put Graphviz in a chunk of its own (or, without
 * splitting, at least do not run it on load) and a missing package is a clear error here
 * rather than a failed import of this whole entry.
 */
function loadGraphviz(caller: string): Promise<Graphviz> {
  graphviz ??= import('@viz-js/viz').then(
    (viz) => viz.instance(),
    (cause: unknown) => {
      graphviz = undefined;
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new Error(
        `${caller}: cannot load @viz-js/viz (Graphviz compiled to WebAssembly), an optional peer dependency of ` +
          `@chainrule/autograd needed to draw graphs; install it with \`npm install @viz-js/viz\` (${why})`,
        { cause },
      );
    },
  );
  return graphviz;
}

/** Graphviz's XML prolog, DOCTYPE and comments: dropped so the SVG can be inlined in HTML. */
const SVG_START = /<svg[\s>]/;

/**
 * Renders Graphviz DOT text to SVG markup that starts at `<svg` (no XML prolog or DOCTYPE), so it
 * can be written to a `.svg` file or inlined in HTML as it is. Sizes are Graphviz's, in points.
 *
 * @throws ArgumentError naming Graphviz's message when the DOT text does not parse.
 * @throws Error when `@viz-js/viz` cannot be loaded, saying how to install it.
 * @example document.body.insertAdjacentHTML('beforeend', await dotToSvg('digraph { a -> b }'))
 */
export async function dotToSvg(dot: string): Promise<string> {
  if (typeof dot !== 'string') throw new ArgumentError(`dotToSvg: expected DOT text as a string, got ${typeof dot}`);
  const result = (await loadGraphviz('dotToSvg')).render(dot, { format: 'svg' });
  if (result.status !== 'success' || result.output === undefined) {
    const messages = result.errors.filter((e) => e.level !== 'warning').map((e) => e.message.trim());
    throw new ArgumentError(`dotToSvg: Graphviz could not render the DOT text: ${messages.join('; ') || result.status}`);
  }
  const start = SVG_START.exec(result.output);
  if (start === null) throw new Error('dotToSvg: Graphviz returned no <svg> element');
  return result.output.slice(start.index);
}

/**
 * The graph behind a Tensor or Value drawn as SVG: `toDot`'s picture (one box per op with its
 * output shape and dtype, one ellipse per leaf, gradient norms once computed), laid out left to
 * right by Graphviz's `dot` layout. Loads Graphviz on the first call (tens of milliseconds).
 *
 * @throws Error when `@viz-js/viz` cannot be loaded, saying how to install it.
 * @example writeFileSync('graph.svg', await toSvg(loss))
 */
export async function toSvg(root: Tensor | Value): Promise<string> {
  return dotToSvg(toDot(root));
}
