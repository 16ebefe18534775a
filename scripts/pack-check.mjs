#!/usr/bin/env node
// What `npm publish` would ship, checked: `npm pack --dry-run --json` in pkg/ (the
// package) and pkg-bundler/ (its bundler build) must list exactly the files below,
// and every file that package.json or a shipped module points at must be among them.
// Prints the tarball sizes.
//
//   node scripts/pack-check.mjs        # after scripts/build-pkg.sh
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const COMMON = [
  'README.md',
  'core/steadysocket_core_bg.wasm',
  'package.json',
  'steadysocket.d.ts',
  'steadysocket.js',
  'steadysocket.js.map',
  'steadysocket.node.js',
];
export const EXPECTED = {
  // One bundle per entry (scripts/bundle.mjs): entry, shell and glue.
  pkg: [...COMMON, 'steadysocket.node.js.map'].sort(),
  // The modules as they are, for the bundler to put together.
  'pkg-bundler': [
    ...COMMON,
    'core/steadysocket_core.js',
    'core/steadysocket_core.js.map',
    'core/steadysocket_core_bg.js',
    'core/steadysocket_core_bg.js.map',
    'node.js',
    'socket.js',
    'socket.js.map',
  ].sort(),
};

/** The files `npm pack` would put in the tarball of `dir`, and its sizes. */
export function packList(dir) {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out);
  return { files: info.files.map((f) => f.path).sort(), size: info.size, unpackedSize: info.unpackedSize };
}

/** Problems with the package in `dir` given its pack list (empty when it is right). */
export function problems(dir, files, expected) {
  const out = [];
  const have = new Set(files);
  for (const f of expected) if (!have.has(f)) out.push(`missing: ${f}`);
  for (const f of files) if (!expected.includes(f)) out.push(`stray file: ${f}`);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const targets = [pkg.main, pkg.module, pkg.types];
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v ?? {}).forEach(walk));
  walk(pkg.exports);
  for (const t of targets.filter(Boolean)) {
    const f = path.posix.normalize(t).replace(/^\.\//, '');
    if (f !== 'package.json' && !have.has(f)) out.push(`package.json points at ${t}, which is not shipped`);
  }
  // Relative imports and `new URL('./x', import.meta.url)` of every shipped module.
  const refs = /(?:from\s*|import\s*\(\s*|new URL\(\s*)['"](\.{1,2}\/[^'"]+|[\w.-]+\.wasm)['"]/g;
  for (const f of files.filter((f) => f.endsWith('.js'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const [, ref] of text.matchAll(refs)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), ref));
      if (!have.has(target)) out.push(`${f} refers to ${ref}, which is not shipped`);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let failed = false;
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const dir = path.join(ROOT, name);
    if (!fs.existsSync(path.join(dir, 'package.json'))) {
      console.error(`pack-check: ${name}/ is not built: run scripts/build-pkg.sh`);
      process.exit(1);
    }
    const { files, size, unpackedSize } = packList(dir);
    const bad = problems(dir, files, expected);
    const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(`pack-check: ${name}/: ${files.length} files, tarball ${kb(size)} (${size} B), unpacked ${kb(unpackedSize)}`);
    for (const p of bad) console.error(`pack-check: ${name}/: ${p}`);
    failed ||= bad.length > 0;
  }
  if (failed) process.exit(1);
}
