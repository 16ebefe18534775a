// steadysocket under Node.js (server-side rendering, tests): the package's "node"
// export. Importing it never throws: the wasm module is read from disk. A socket
// connects over the global `WebSocket` (Node 22 and later; Node 20 with
// --experimental-websocket) or the class given as the `WebSocket` option (e.g. the
// `ws` package's); without either, the constructor throws a NotSupportedError that
// says so, instead of retrying for ever.
import { readFile } from 'node:fs/promises';
import { initSync, Core } from './core/steadysocket_core.js';
import { define } from './socket.js';
import { forNode } from './node.js';

initSync({ module: await readFile(new URL('./core/steadysocket_core_bg.wasm', import.meta.url)) });

export const SteadySocket = forNode(define(Core));
export default SteadySocket;
