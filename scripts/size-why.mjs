// Where the bytes of the wasm go: `npm run size -- --why` (the npm package) or
// `npm run size -- --why=rust` (the minimal Rust echo app, benches/size/steady-echo).
//
// Builds the binary as shipped (release, wasm-bindgen, wasm-opt -Oz) but keeps the
// function names (wasm-opt --debuginfo; the names section is left out of every figure),
// then reads it with twiggy and prints the raw bytes by crate and the largest
// functions. twiggy is cargo-installed on first use (this script only; ~5 min once).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CARGO_BIN = path.join(os.homedir(), '.cargo', 'bin');
const env = { ...process.env, PATH: `${CARGO_BIN}:${process.env.PATH}` };

function run(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
}

function have(cmd) {
  try {
    run(cmd, ['--version'], { stdio: ['ignore', 'ignore', 'ignore'] });
    return true;
  } catch {
    return false;
  }
}

function ensureTwiggy() {
  if (have('twiggy')) return;
  console.error('size --why: installing twiggy (cargo install twiggy --locked; once, a few minutes)');
  run('cargo', ['install', 'twiggy', '--locked', '--version', '0.8.0'], { stdio: 'inherit' });
}

/** The shipped binary with names: [file, gzipped size of the same binary without them]. */
function build(which) {
  const out = path.join(ROOT, 'target', 'size', `why-${which}`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  let wasm;
  if (which === 'rust') {
    run('cargo', ['build', '--quiet', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'size-steady-echo'], { stdio: 'inherit' });
    wasm = 'target/wasm32-unknown-unknown/release/size_steady_echo.wasm';
  } else {
    run('cargo', ['build', '--quiet', '--release', '--lib', '--target', 'wasm32-unknown-unknown', '--features', 'js'], { stdio: 'inherit' });
    wasm = 'target/wasm32-unknown-unknown/release/steadysocket.wasm';
  }
  run('wasm-bindgen', ['--target', 'web', '--out-dir', out, '--out-name', 'app', wasm]);
  const bg = path.join(out, 'app_bg.wasm');
  const named = path.join(out, 'named.wasm');
  const plain = path.join(out, 'plain.wasm');
  // scripts/wasm-opt.sh holds the flags; `--debuginfo` keeps the names for twiggy.
  fs.copyFileSync(bg, named);
  fs.copyFileSync(bg, plain);
  run('bash', [path.join(ROOT, 'scripts/wasm-opt.sh'), named, '-Oz', '--debuginfo']);
  run('bash', [path.join(ROOT, 'scripts/wasm-opt.sh'), plain]);
  if (which !== 'rust') {
    // The package also gets short import/export names (scripts/build-pkg.sh).
    const glue = path.join(out, 'plain.js');
    fs.copyFileSync(path.join(out, 'app.js'), glue);
    run('node', [path.join(ROOT, 'scripts/shorten-names.mjs'), plain, glue]);
  }
  return { named, shippedGz: zlib.gzipSync(fs.readFileSync(plain), { level: 9 }).length, shippedRaw: fs.statSync(plain).size };
}

/** The crate an item belongs to, from its (demangled) name. */
export function crateOf(name) {
  if (/^"function names"|^"names"/.test(name)) return null; // not shipped
  if (/^data segment|^data\[/.test(name)) return '(data: strings, tables)';
  if (/externref shim|^__wbindgen|^__wbg_|wasm-bindgen|^__externref/.test(name)) return 'wasm-bindgen glue';
  if (/^code\[|^elem\[|^global\[|^table\[|^type\[|^import |^export |^custom section/.test(name)) return '(unnamed / sections)';
  // `<T as Trait>::f` belongs to T's crate, or the trait's when T is a primitive or
  // a type parameter (`<char as core::fmt::Debug>::fmt` is core's).
  let inner = name;
  const as = /^<+&?(?:mut )?(?:dyn )?([^<>]*?) as ([^<>]*?)>/.exec(name);
  if (as) inner = as[1].includes('::') ? as[1] : as[2];
  else inner = name.replace(/^<+/, '').replace(/^&(mut )?/, '').replace(/^dyn /, '');
  const head = inner.split('::')[0].replace(/\[[0-9a-f]+\]$/, '');
  if (!head || head === name) return '(other)';
  if (['__rustc', 'std', 'alloc', 'core'].includes(head)) return `${head} (Rust std)`;
  return head;
}

function twiggyItems(file) {
  const json = run('twiggy', ['top', '-n', '1000000', '-f', 'json', file]);
  return JSON.parse(json).map((i) => ({ name: i.name, bytes: i.shallow_size }));
}

function pct(n, total) {
  return `${((100 * n) / total).toFixed(1)}%`;
}

function report(which) {
  ensureTwiggy();
  const { named, shippedGz, shippedRaw } = build(which);
  const items = twiggyItems(named).filter((i) => crateOf(i.name) !== null);
  const total = items.reduce((n, i) => n + i.bytes, 0);
  const byCrate = new Map();
  for (const i of items) {
    const c = crateOf(i.name);
    byCrate.set(c, (byCrate.get(c) || 0) + i.bytes);
  }
  const label = which === 'rust' ? 'minimal Rust echo app (benches/size/steady-echo)' : 'npm package wasm (--features js)';
  console.log(`${label}: ${shippedRaw} B raw, ${shippedGz} B gzip -9 as shipped; attributed below: ${total} B raw\n`);
  console.log('by crate (raw bytes)');
  for (const [c, n] of [...byCrate].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${String(n).padStart(7)}  ${pct(n, total).padStart(6)}  ${c}`);
  }
  console.log('\nlargest items (raw bytes)');
  for (const i of items.sort((a, b) => b.bytes - a.bytes).slice(0, 30)) {
    console.log(`  ${String(i.bytes).padStart(7)}  ${pct(i.bytes, total).padStart(6)}  ${i.name.replace(/::h[0-9a-f]{16}$/, '').slice(0, 110)}`);
  }
  // What pulls in formatting and panics: the usual levers for size.
  const fmt = items.filter((i) => /core::fmt|fmt::Display|fmt::Debug|fmt::Formatter|pad_integral/.test(i.name));
  const panic = items.filter((i) => /panic|unwrap_failed|expect_failed|slice_error_fail|index_out_of_bounds/.test(i.name));
  const sum = (xs) => xs.reduce((n, i) => n + i.bytes, 0);
  console.log(`\ncore::fmt items: ${sum(fmt)} B in ${fmt.length} functions; panic paths: ${sum(panic)} B in ${panic.length}`);
}

export function why(arg) {
  report(arg === 'rust' ? 'rust' : 'package');
}
