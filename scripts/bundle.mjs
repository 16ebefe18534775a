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

// The glue's own fallback URL for the wasm file is relative to the glue
// (core/). In a bundle at the package root it must say core/ too: the package always
// passes the module itself, but bundlers (webpack, Vite) emit every
// `new URL('…', import.meta.url)` they see as an asset and fail on a missing file.
const GLUE = path.join(dir, 'core/steadysocket_core.js');
const FALLBACK = /new URL\((['"])steadysocket_core_bg\.wasm\1, ?import\.meta\.url\)/g;
const glueSource = fs.readFileSync(GLUE, 'utf8');
const fallbacks = glueSource.match(FALLBACK) ?? [];
if (fallbacks.length !== 1) {
  throw new Error(`bundle: expected the glue's wasm URL once in ${GLUE}, found it ${fallbacks.length} times`);
}
const atRoot = {
  name: 'glue-wasm-url',
  setup(b) {
    b.onLoad({ filter: /steadysocket_core\.js$/ }, () => ({
      contents: glueSource.replace(FALLBACK, "new URL('./core/steadysocket_core_bg.wasm', import.meta.url)"),
      loader: 'js',
      resolveDir: path.dirname(path.resolve(GLUE)),
    }));
  },
};

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
    plugins: [atRoot],
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
