#!/usr/bin/env node
// Sizes (gzip -9) of what users download, and the size budget check.
//
//   node scripts/size.mjs           # report: npm package, minimal Rust echo apps
//   node scripts/size.mjs --check   # fail if the npm package's gzipped wasm or JS is
//                                   # over the budget in benches/size-budget.json
//   node scripts/size.mjs --why     # where the package's bytes go (by crate, largest
//                                   # functions; twiggy); --why=rust: the Rust echo app
//
// The package is measured as built by scripts/build-pkg.sh (release, wasm-opt -Oz).
// The two minimal echo apps (steadysocket vs gloo-net) are built the same way:
// release (opt-level "z", LTO, one codegen unit, panic=abort), wasm-bindgen --target
// web, wasm-opt -Oz from the npm binaryen package.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET_FILE = path.join(ROOT, 'benches/size-budget.json');

const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

function sh(cmd, argv) {
  execFileSync(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

function packageSize() {
  const pkg = path.join(ROOT, 'pkg');
  const wasm = path.join(pkg, 'core/steadysocket_core_bg.wasm');
  if (!fs.existsSync(wasm)) throw new Error('pkg/ is not built: run scripts/build-pkg.sh');
  return {
    name: 'npm package `steadysocket` (SteadySocket)',
    wasmGz: gz(wasm),
    wasmRaw: fs.statSync(wasm).size,
    // One file (scripts/bundle.mjs): entry, shell and glue.
    jsGz: gz(path.join(pkg, 'steadysocket.js')),
  };
}

function appSize(crate, label, features = []) {
  const file = crate.replace(/-/g, '_');
  const out = path.join(ROOT, 'target/size', [crate, ...features].join('+'));
  const flags = features.length > 0 ? ['--features', features.join(',')] : [];
  sh('cargo', ['build', '--quiet', '--release', '--target', 'wasm32-unknown-unknown', '-p', crate, ...flags]);
  fs.rmSync(out, { recursive: true, force: true });
  sh('wasm-bindgen', [
    '--target', 'web', '--out-dir', out, '--out-name', file,
    `target/wasm32-unknown-unknown/release/${file}.wasm`,
  ]);
  const wasm = path.join(out, `${file}_bg.wasm`);
  sh('bash', ['scripts/wasm-opt.sh', wasm]);
  return {
    name: label,
    wasmGz: gz(wasm),
    wasmRaw: fs.statSync(wasm).size,
    jsGz: gz(path.join(out, `${file}.js`)),
  };
}

export function sizeReport({ buildApps }) {
  const rows = [packageSize()];
  if (buildApps) {
    rows.push(appSize('size-steady-echo', 'minimal Rust echo app on steadysocket'));
    rows.push(appSize('size-gloo-echo', 'minimal Rust echo app on gloo-net'));
    // The same two with the npm package's small allocator (an app's own choice).
    rows.push(appSize('size-steady-echo', '… on steadysocket, with lol_alloc', ['small-alloc']));
    rows.push(appSize('size-gloo-echo', '… on gloo-net, with lol_alloc', ['small-alloc']));
  }
  return rows;
}

function check() {
  const budget = JSON.parse(fs.readFileSync(BUDGET_FILE, 'utf8'));
  const { wasmGz, jsGz } = packageSize();
  let over = false;
  for (const [what, size, limit] of [
    ['wasm', wasmGz, budget.packageWasmGzipBytes],
    ['JS (shell + glue, as shipped)', jsGz, budget.packageJsGzipBytes],
  ]) {
    const verdict = size <= limit ? 'within' : 'OVER';
    console.log(`size: npm package ${what} is ${size} bytes gzipped, ${verdict} the budget of ${limit} bytes`);
    over ||= size > limit;
  }
  if (over) {
    console.error(
      `The package grew past its size budget (${BUDGET_FILE}). Find what grew (format!/Debug ` +
        'on the JS path, a new dependency, a new import) or, if the growth is worth it, raise ' +
        'the budget in the same commit and say why.',
    );
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const whyArg = process.argv.find((a) => a === '--why' || a.startsWith('--why='));
  if (process.argv.includes('--check')) check();
  else if (whyArg) {
    const { why } = await import('./size-why.mjs');
    why(whyArg.split('=')[1]);
  } else {
    for (const r of sizeReport({ buildApps: true })) {
      console.log(`${r.name}: wasm ${r.wasmGz} B gz (${r.wasmRaw} B raw), JS ${r.jsGz} B gz`);
    }
  }
}
