// Nothing steadysocket-specific: webpack 5 emits the wasm file as an asset (from the
// package's `new URL(..., import.meta.url)`) and supports its top-level await.
const path = require('node:path');

module.exports = {
  mode: 'production',
  entry: './src/main.js',
  output: { path: path.resolve(__dirname, 'dist'), filename: 'main.js', clean: true },
};
