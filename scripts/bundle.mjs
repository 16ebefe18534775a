#!/usr/bin/env node
// Makes each of the web package's entry modules one file: the entry, the JS shell
// (socket.js) and the wasm-bindgen glue, bundled by esbuild, so that a page loads one
// JS file before the wasm instead of three (one round trip fewer, and 0.7 KB less
// gzipped than three files: one module's worth of imports and exports, and gzip
// sees the shell and the glue together).
//
//   node scripts/bundle.mjs [--minify] DIR ENTRY...
//   node scripts/bundle.mjs --minify pkg steadysocket.js steadysocket.node.js
//
// Each ENTRY (a file in DIR, as copied from js/) is replaced by its bundle, with a
// source map beside it whose sources are the files as written. With --minify the
// bundle is minified by scripts/minify.mjs's terser settings (the map then still
// leads back to those files). The modules the bundles took in (socket.js, node.js,
// core/steadysocket_core.js) are removed from DIR afterwards: nothing ships them.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { minifyCode } from './minify.mjs';

const args = process.argv.slice(2);
const minify = args[0] === '--minify';
if (minify) args.shift();
const [dir, ...entries] = args;
if (!dir || entries.length === 0) {
  console.error('usage: node scripts/bundle.mjs [--minify] DIR ENTRY...');
  process.exit(2);
}

// The entries instantiate with the glue's `initSync`, so its async loader, and the
// fallback `new URL('steadysocket_core_bg.wasm', import.meta.url)` in it (relative to
// core/, wrong at the root), are left out of the bundle. scripts/pack-check.mjs
// fails on any `new URL` of a file the package does not ship.
for (const entry of entries) {
  const file = path.join(dir, entry);
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    external: ['node:*'],
    write: false,
    outfile: file,
    sourcemap: 'external',
    sourcesContent: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js')).text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map')).text;
  const name = path.basename(file);
  if (minify) {
    const out = await minifyCode(name, code, map);
    fs.writeFileSync(file, out.code);
    fs.writeFileSync(`${file}.map`, out.map);
  } else {
    fs.writeFileSync(file, `${code.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n')}//# sourceMappingURL=${name}.map\n`);
    fs.writeFileSync(`${file}.map`, map);
  }
}

for (const taken of ['socket.js', 'node.js', 'core/steadysocket_core.js']) {
  fs.rmSync(path.join(dir, taken), { force: true });
}
