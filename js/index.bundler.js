// steadysocket for bundlers (webpack 5, Vite, Rollup with wasm support): the
// bundler loads the wasm module; the class is ready on import.
import { Core } from './core/steadysocket_core.js';
import { define } from './socket.js';

export const SteadySocket = define(Core);
export default SteadySocket;
