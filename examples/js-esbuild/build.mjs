// esbuild bundles the JS; it does not follow `new URL('./x.wasm', import.meta.url)`,
// so the wasm file is copied beside the bundle, into core/, where the package looks
// for it. ESM output: the package starts its wasm module with a top-level await.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

await esbuild.build({
  entryPoints: ['src/main.js'],
  bundle: true,
  format: 'esm',
  outdir: 'dist',
  minify: true,
});
const wasm = fileURLToPath(import.meta.resolve('steadysocket/steadysocket_core_bg.wasm'));
fs.mkdirSync('dist/core', { recursive: true });
fs.copyFileSync(wasm, 'dist/core/steadysocket_core_bg.wasm');
