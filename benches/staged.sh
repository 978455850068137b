#!/usr/bin/env bash
# Start-up cost for the pre-commit user: `pansweep scan --staged` on a commit of 10 small files
# in a 200-file repository. Needs hyperfine (apt-get install hyperfine) and a release build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --manifest-path "$root/Cargo.toml" -q
bin="$root/target/release/pansweep"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work" && git init -q && git config user.email b@example.com && git config user.name bench
for i in $(seq 1 200); do echo "line $i" > "f$i.txt"; done
git add -A && git commit -q -m init
for i in $(seq 1 10); do seq 1 200 | sed 's/^/2026-11-26 INFO log line /' > "f$i.txt"; done
git add -A
PANSWEEP_FINGERPRINT_KEY=bench hyperfine -N --warmup 5 --runs 50 "$bin scan --staged -q"
