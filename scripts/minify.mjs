#!/usr/bin/env node
// Minifies the package's shipped JS in place (release builds only), each file with a
// source map beside it that carries the readable source, so stack traces and the
// debugger still show the code as written.
//
//   node scripts/minify.mjs pkg-bundler/socket.js pkg-bundler/steadysocket.js …
//
// Class names are kept: `SteadySocket.name`, the error classes and the message event's
// constructor are part of what users see. Property names are never mangled (the wasm
// imports are looked up by name). scripts/bundle.mjs minifies its bundles with the
// same settings (`minifyCode`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';

/**
 * `code` (the file `name`) minified, with its source map. With `inputMap` (the map
 * of a bundle) the new map leads back through it to the files as written.
 */
export async function minifyCode(name, code, inputMap) {
  return minify(
    { [name]: code },
    {
      module: true,
      ecma: 2022,
      // `unsafe_arrows`: anonymous `function` expressions that use neither `this`
      // nor `arguments` become arrows (terser leaves the others). It is "unsafe" only
      // for a function that is called with `new` or whose `prototype` is read; no
      // function expression here is (the glue's imports are called by the wasm, the
      // shell's callbacks by the core). About 70 B gzipped, most of it the glue's
      // `imports.wbg.x = function (…)` table.
      compress: { passes: 3, unsafe_arrows: true },
      mangle: true,
      keep_classnames: true,
      format: { comments: false },
      sourceMap: {
        filename: name,
        url: `${name}.map`,
        includeSources: true,
        ...(inputMap ? { content: inputMap } : {}),
      },
    },
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    const out = await minifyCode(path.basename(file), fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, out.code);
    fs.writeFileSync(`${file}.map`, out.map);
  }
}
