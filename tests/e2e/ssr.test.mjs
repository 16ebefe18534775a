// The npm package under Node.js 20, as server-side rendering and tests import it:
// the tarball installed in examples/js-vite (scripts/build-js-examples.sh), resolved
// through its `exports` by a child `node` in that directory. Importing never throws;
// without a WebSocket the constructor throws NotSupportedError; with Node's own
// WebSocket (--experimental-websocket; the default from Node 22) or the `ws` package's
// given as the `WebSocket` option, a socket echoes and reconnects.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFaultServer } from '../support/fault-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const APP = path.join(ROOT, 'examples', 'js-vite');
const WS = pathToFileURL(path.join(ROOT, 'node_modules', 'ws', 'wrapper.mjs')).href;

/** Runs `code` as an ES module in APP with `flags`; resolves with what it printed as JSON. */
function run(code, flags = [], env = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...flags, '--no-warnings', '--input-type=module', '-e', code],
      { cwd: APP, timeout: 15_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
        } catch {
          reject(new Error(`no JSON from the child:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

// Echo, then the server drops the connection, then the echo again.
const ECHO_AND_RECONNECT = `
  const { SteadySocket } = await import('steadysocket');
  const WebSocket = process.env.USE_WS ? (await import(process.env.USE_WS)).WebSocket : undefined;
  const next = (s, type) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no ' + type)), 5000);
    s.addEventListener(type, (e) => { clearTimeout(t); resolve(e); }, { once: true });
  });
  const s = new SteadySocket(process.env.URL, [], {
    WebSocket, minReconnectionDelay: 50, maxReconnectionDelay: 200, reconnectionJitter: 0,
  });
  const log = [];
  for (const type of ['open', 'close', 'reconnecting']) s.addEventListener(type, () => log.push(type));
  const first = next(s, 'message');
  s.send('from node');
  const echoed = (await first).data;
  const reopened = next(s, 'open');
  await fetch(process.env.KILL);
  await reopened;
  const second = next(s, 'message');
  s.send('after reconnect');
  const echoedAgain = (await second).data;
  const closed = next(s, 'close');
  s.close();
  await closed;
  console.log(JSON.stringify({ echoed, echoedAgain, log }));
`;

describe('the npm package under Node.js (SSR)', { timeout: 60_000 }, () => {
  let fault;

  const instance = async () => {
    const res = await fetch(`${fault.url}/instances`);
    return res.json();
  };

  before(async () => {
    const installed = path.join(APP, 'node_modules', 'steadysocket', 'package.json');
    assert.ok(fs.existsSync(installed), `${installed} is missing: run scripts/build-js-examples.sh`);
    fault = await startFaultServer();
  });

  after(async () => {
    await fault?.close();
  });

  it('imports without throwing, and the constructor says there is no WebSocket', async () => {
    const r = await run(`
      const resolved = import.meta.resolve('steadysocket');
      const { SteadySocket, default: byDefault } = await import('steadysocket');
      let error = null;
      try {
        new SteadySocket('ws://127.0.0.1:9/never');
      } catch (e) {
        error = { name: e.name, message: e.message };
      }
      console.log(JSON.stringify({
        resolved: resolved.split('/').slice(-2).join('/'),
        hasWebSocket: typeof WebSocket,
        type: typeof SteadySocket,
        name: SteadySocket.name,
        same: byDefault === SteadySocket,
        constants: [SteadySocket.CONNECTING, SteadySocket.OPEN, SteadySocket.CLOSING, SteadySocket.CLOSED],
        error,
      }));
    `);
    assert.equal(r.resolved, 'steadysocket/steadysocket.node.js', 'the "node" export');
    assert.equal(r.hasWebSocket, 'undefined', 'Node 20 without --experimental-websocket');
    assert.equal(r.type, 'function');
    assert.equal(r.name, 'SteadySocket', 'the bundle keeps the class name');
    assert.equal(r.same, true);
    assert.deepEqual(r.constants, [0, 1, 2, 3]);
    assert.equal(r.error?.name, 'NotSupportedError');
    assert.match(r.error.message, /no WebSocket/);
    assert.match(r.error.message, /WebSocket option|\{ WebSocket \}/);
  });

  it("over Node's own WebSocket (--experimental-websocket) it echoes and reconnects", async () => {
    const inst = await instance();
    const r = await run(ECHO_AND_RECONNECT, ['--experimental-websocket'], {
      URL: inst.url,
      KILL: `${fault.url}/instances/${inst.id}/kill`,
    });
    assert.deepEqual(r, {
      echoed: 'from node',
      echoedAgain: 'after reconnect',
      log: ['open', 'close', 'reconnecting', 'open', 'close'],
    });
  });

  it("with the ws package's WebSocket as the WebSocket option it echoes and reconnects", async () => {
    const inst = await instance();
    const r = await run(ECHO_AND_RECONNECT, [], {
      URL: inst.url,
      KILL: `${fault.url}/instances/${inst.id}/kill`,
      USE_WS: WS,
    });
    assert.deepEqual(r, {
      echoed: 'from node',
      echoedAgain: 'after reconnect',
      log: ['open', 'close', 'reconnecting', 'open', 'close'],
    });
  });
});
