// steadysocket for browsers, as a native ES module: `import { SteadySocket } from
// 'steadysocket'` loads and starts the wasm module once, then the class is ready.
import init, { Core } from './core/steadysocket_core.js';
import { define } from './socket.js';

await init();

export const SteadySocket = define(Core);
export default SteadySocket;
