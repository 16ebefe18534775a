// The Node.js side of the package's "node" exports (steadysocket.node.js): the one
// thing that differs from a browser is that there may be no WebSocket at all.
import { named } from './socket.js';

/**
 * `SteadySocket` for Node.js: the constructor throws a NotSupportedError that says
 * what to do where the runtime has no global `WebSocket` (Node.js before 22) and
 * none was given as the `WebSocket` option, instead of failing every attempt.
 */
export function forNode(Base) {
  return named(class SteadySocket extends Base {
    constructor(url, protocols, options) {
      if (
        arguments.length > 0 &&
        typeof options?.WebSocket !== 'function' &&
        typeof globalThis.WebSocket !== 'function'
      ) {
        throw new DOMException(
          "Failed to construct 'SteadySocket': this runtime has no WebSocket (Node.js before 22). " +
            'Construct sockets in browser-only code (an effect, an event handler), run Node.js 22+, ' +
            "or pass one: new SteadySocket(url, [], { WebSocket }) with `import { WebSocket } from 'ws'`.",
          'NotSupportedError',
        );
      }
      super(...arguments);
    }
  }, 'SteadySocket');
}
