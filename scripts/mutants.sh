#!/usr/bin/env bash
# `npm run mutants`: mutation testing of the sans-IO core (src/machine) with
# cargo-mutants. Each mutant is a small change to the code (`==` for `!=`, a guard
# replaced by `true`, a function body by a default value); the native tests (unit
# and integration, not doctests) must fail for every one. Prints the counts
# (caught / missed / unviable / timeouts) and the missed mutants, and exits 1 when
# any was missed. Not part of `npm test`: a full run (~290 mutants) takes 10-20
# minutes on two cores.
#
#   scripts/mutants.sh                                  # every mutant of src/machine
#   scripts/mutants.sh --file src/machine/backoff.rs    # only this file
#   scripts/mutants.sh --re 'handle_message'            # only mutants matching this
#   scripts/mutants.sh -j 2                             # two builds at once (2x CPU, RAM)
#
# Extra arguments go to `cargo mutants` as they are. Results are kept in
# target/mutants/mutants.out/ (caught.txt, missed.txt, a log per mutant).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# The major version this script (and its reading of the results) is written for.
want=27
if ! cargo mutants --version 2>/dev/null | grep -q "^cargo-mutants $want\."; then
  echo "mutants: installing cargo-mutants $want.x (a few minutes, once)" >&2
  cargo install --quiet --locked cargo-mutants --version "^$want" ||
    cargo install --quiet cargo-mutants --version "^$want"
fi

files=(--file 'src/machine/**')
for arg in "$@"; do
  case $arg in --file | -f | --file=*) files=() ;; esac
done

# Mutants that no test can kill, because no input tells them apart from the
# original: each is argued in the docs of tests/machine_edges.rs. Not tested.
equivalent=(
  'replace \|\| with && in Instant::from_millis_f64'
)
excludes=()
for re in "${equivalent[@]}"; do excludes+=(--exclude-re "$re"); done

out=target/mutants
mkdir -p "$out"
status=0
cargo mutants "${files[@]}" "${excludes[@]}" --output "$out" "$@" -- --lib --tests || status=$?
# cargo-mutants exits 2 when mutants were missed and 3 when some timed out (a hang
# is a detected change); anything else non-zero means the run itself failed.
case $status in 0 | 2 | 3) ;; *) exit "$status" ;; esac

count() { if [ -f "$out/mutants.out/$1.txt" ]; then grep -c . "$out/mutants.out/$1.txt" || true; else echo 0; fi; }
missed=$(count missed)
printf '\nmutants: %s caught, %s missed, %s unviable, %s timeouts (%s excluded as equivalent)\n' \
  "$(count caught)" "$missed" "$(count unviable)" "$(count timeout)" "${#equivalent[@]}"
if [ "$missed" -gt 0 ]; then
  echo "missed (no test failed):"
  sed 's/^/  /' "$out/mutants.out/missed.txt"
  exit 1
fi
