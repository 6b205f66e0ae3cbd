/**
 * `pnpm playground`: builds the page and serves this folder on loopback. A few lines of
 * node:http rather than a dev server dependency: the page is three static files.
 *
 *   PORT=8080 HOST=127.0.0.1 pnpm playground
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { isMain } from '../lib/main.js';
import { buildPlayground, PLAYGROUND_DIR } from './build.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** A running server: where it listens, and how to stop it. */
export interface PlaygroundServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** Port to listen on; 0 picks a free one (default 8080). */
  port?: number;
  /** Address to listen on (default 127.0.0.1: the page is for this machine only). */
  host?: string;
}

/** The file a request path names, or null outside the folder or of a type not served. */
function fileFor(pathname: string): string | null {
  const relative = pathname === '/' ? '/index.html' : decodeURIComponent(pathname);
  const file = resolve(PLAYGROUND_DIR, `.${relative}`);
  if (!file.startsWith(PLAYGROUND_DIR.endsWith(sep) ? PLAYGROUND_DIR : PLAYGROUND_DIR + sep)) return null;
  return extname(file) in CONTENT_TYPES ? file : null;
}

/**
 * Serves the playground folder (build it first with `buildPlayground`).
 * @example const { url, close } = await startServer({ port: 0 });
 */
export async function startServer(options: ServeOptions = {}): Promise<PlaygroundServer> {
  const { port = 8080, host = '127.0.0.1' } = options;
  const server: Server = createServer(async (request, response) => {
    const file = fileFor(new URL(request.url ?? '/', 'http://localhost').pathname);
    try {
      if (file === null || (request.method !== 'GET' && request.method !== 'HEAD')) throw new Error('not served');
      const body = await readFile(file);
      // no-store: a rebuild shows up on the next reload.
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)]!, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('not found\n');
    }
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  const { port: bound } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/`,
    close: () => new Promise<void>((done, fail) => server.close((e) => (e ? fail(e) : done()))),
  };
}

if (isMain(import.meta.url)) {
  await buildPlayground();
  const port = Number(process.env['PORT'] || 8080);
  const host = process.env['HOST'] || '127.0.0.1';
  try {
    const { url } = await startServer({ port, host });
    console.log(`chainrule playground: ${url}  (Ctrl+C stops it)`);
  } catch (e) {
    const taken = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    console.error(taken ? `playground: port ${port} is taken; try PORT=${port + 1} pnpm playground` : String(e));
    process.exit(1);
  }
}
