// steadysocket for browsers and bundlers (Vite, webpack, esbuild, Rollup), as an ES
// module: `import { SteadySocket } from 'steadysocket'` loads and starts the wasm
// module once (a top-level await), then the class is ready. Works on a page and in a
// Web Worker.
import { initSync, Core } from './core/steadysocket_core.js';
import { define } from './socket.js';

// Written out literally so that bundlers see it: webpack and Vite emit the file as
// an asset and put its final URL here; served as is (pkg/ on a static server,
// esbuild with the file copied) it is the file beside this module.
const WASM = new URL('./core/steadysocket_core_bg.wasm', import.meta.url);

// Compiled here (streaming where the server sends application/wasm), then
// instantiated by the glue's `initSync`: the glue's own async loader is then left
// out of the bundle (0.4 KB), and `load` already does what it would.
const wasm = await load(WASM);
initSync({
  module: await (wasm instanceof Uint8Array ? WebAssembly.compile(wasm) : WebAssembly.compileStreaming(wasm)),
});

export const SteadySocket = define(Core);
export default SteadySocket;

/**
 * The wasm module's response (or bytes). A server that answers with something else
 * (a dev server's HTML fallback page, a 404) gives an error that says what to serve,
 * instead of the browser's "expected magic word".
 */
async function load(url) {
  const tried = [];
  for (const candidate of candidates(url)) {
    let response;
    try {
      response = await fetch(candidate);
    } catch (e) {
      tried.push(`${candidate} (${e?.message ?? e})`);
      continue;
    }
    if (!response.ok) {
      tried.push(`${candidate} (HTTP ${response.status})`);
      continue;
    }
    const type = response.headers.get('content-type') ?? '';
    if (/^application\/wasm\b/i.test(type)) return response; // compiled while it streams
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return bytes;
    tried.push(`${candidate} (not WebAssembly: ${type || 'no content type'})`);
  }
  throw new Error(
    `steadysocket: could not load its WebAssembly module from ${tried.join('; ')}. ` +
      'Serve node_modules/steadysocket/core/steadysocket_core_bg.wasm at that URL ' +
      '(esbuild: copy it into core/ beside your bundle; see "Bundlers" in the README).',
  );
}

/**
 * Where to look for the wasm file: `url`, then, under the Vite (before 8) dev
 * server, the package's own copy. That server bundles dependencies into
 * node_modules/.vite/deps/ without their assets, so `url` points at a file that
 * is not there (and gets the app's HTML page back); the package itself is served
 * from node_modules/steadysocket/.
 */
function candidates(url) {
  const list = [url];
  const vite = /\/node_modules\/\.vite\/.*$/;
  if (url.protocol !== 'file:' && vite.test(url.pathname)) {
    const own = new URL(url.href);
    own.pathname = url.pathname.replace(vite, '/node_modules/steadysocket/core/steadysocket_core_bg.wasm');
    own.search = '';
    list.push(own);
  }
  return list;
}
