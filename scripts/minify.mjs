#!/usr/bin/env node
// Minifies the package's shipped JS in place (release builds only), each file with a
// source map beside it that carries the readable source, so stack traces and the
// debugger still show the code as written.
//
//   node scripts/minify.mjs pkg/socket.js pkg/steadysocket.js pkg/core/steadysocket_core.js
//
// Class names are kept: `SteadySocket.name`, the error classes and the message event's
// constructor are part of what users see. Property names are never mangled (the wasm
// imports are looked up by name).
import fs from 'node:fs';
import path from 'node:path';
import { minify } from 'terser';

for (const file of process.argv.slice(2)) {
  const source = fs.readFileSync(file, 'utf8');
  const name = path.basename(file);
  const out = await minify(
    { [name]: source },
    {
      module: true,
      ecma: 2022,
      compress: { passes: 2 },
      mangle: true,
      keep_classnames: true,
      format: { comments: false },
      sourceMap: { filename: name, url: `${name}.map`, includeSources: true },
    },
  );
  fs.writeFileSync(file, out.code);
  fs.writeFileSync(`${file}.map`, out.map);
}
