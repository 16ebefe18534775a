// steadysocket-for-bundlers under Node.js (server-side rendering): the "node" export
// of pkg-bundler/. Node cannot import the .wasm file that the bundler build imports,
// so this instantiates it from disk with the same glue.
import { readFile } from 'node:fs/promises';
import * as glue from './core/steadysocket_core_bg.js';
import { define } from './socket.js';
import { forNode } from './node.js';

const bytes = await readFile(new URL('./core/steadysocket_core_bg.wasm', import.meta.url));
const { instance } = await WebAssembly.instantiate(bytes, { './steadysocket_core_bg.js': glue });
glue.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();

export const SteadySocket = forNode(define(glue.Core));
export default SteadySocket;
