#!/usr/bin/env node
// Shortens the names the wasm and its wasm-bindgen glue (--target web) use for each
// other: `./steadysocket_core_bg.js` / `__wbg_protocol_e7b9813a6bd3e53b` become one
// or two letters (binaryen's --minify-imports-and-exports-and-modules), and the glue
// is rewritten to match. The hashed names are the least compressible bytes of both
// files: about 2.6 KB of gzipped wasm and 1.6 KB of gzipped JS.
//
//   node scripts/shorten-names.mjs pkg/core/steadysocket_core_bg.wasm pkg/core/steadysocket_core.js
//
// Every rename is checked: each import key and each `wasm.<export>` the glue uses
// must be found and replaced, and the result must link (it is instantiated here with
// the glue's own import object), or the script fails and the build with it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [wasmFile, glueFile] = process.argv.slice(2);
if (!wasmFile || !glueFile) {
  console.error('usage: shorten-names.mjs <file_bg.wasm> <glue.js>');
  process.exit(2);
}
const fail = (message) => {
  console.error(`shorten-names: ${message}`);
  process.exit(1);
};

// scripts/wasm-opt.sh holds the flags; it prints the pass's map of new names (and
// nothing at all without the npm binaryen package: the names stay as they are then).
const out = execFileSync(
  'bash',
  [path.join(ROOT, 'scripts/wasm-opt.sh'), wasmFile, '--minify-imports-and-exports-and-modules'],
  { encoding: 'utf8', maxBuffer: 16 << 20 },
);
if (!out.includes('{')) process.exit(0);
const map = JSON.parse(out.slice(out.indexOf('{')));

const module = new WebAssembly.Module(fs.readFileSync(wasmFile));
const modules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
if (modules.size !== 1) fail(`expected one import module, found ${[...modules].join(', ')}`);
const [newModule] = modules;

const escape = (s) => s.replace(/[$]/g, '\\$&');
let glue = fs.readFileSync(glueFile, 'utf8');
const replaceOnce = (pattern, replacement, what) => {
  let count = 0;
  glue = glue.replace(pattern, (...match) => {
    count++;
    return replacement(...match);
  });
  if (count !== 1) fail(`${what}: expected one match in the glue, found ${count}`);
};

const oldModules = new Set(map.imports.map(([m]) => m));
for (const m of oldModules) {
  replaceOnce(new RegExp(`(["'])${escape(m)}\\1(\\s*:)`, 'g'), (_, _q, colon) => `${JSON.stringify(newModule)}${colon}`, `module ${m}`);
}
for (const [, name, short] of map.imports) {
  // The key of the import object: `name: function(...)` (or `name,` shorthand).
  replaceOnce(new RegExp(`(?<=[{,\\s])${escape(name)}(?=\\s*:)`, 'g'), () => JSON.stringify(short), `import ${name}`);
}
const exportsByName = new Map(map.exports);
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (whole, name) => {
  const short = exportsByName.get(name);
  if (short === undefined) fail(`the glue uses wasm.${name}, which the wasm does not export`);
  return `wasm[${JSON.stringify(short)}]`;
});
fs.writeFileSync(glueFile, glue);

// Link check: the glue's import object must satisfy the renamed wasm.
const glueModule = await import(`${path.resolve(glueFile)}?check=${Date.now()}`);
try {
  glueModule.initSync({ module });
} catch (e) {
  fail(`the renamed wasm does not link with the rewritten glue: ${e.message}`);
}
