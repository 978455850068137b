# Sourced by the bench scripts: builds the release binary and, if missing, the deterministic
# trees of benches/corpus.py. Sets root, dir (BENCH_DIR, default /tmp/pansweep-bench), bin, and
# floor (the minimal scanner of benches/floor.rs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${BENCH_DIR:-/tmp/pansweep-bench}"
cargo build --release --manifest-path "$root/Cargo.toml" -q --bin pansweep --example floor
bin="$root/target/release/pansweep"
floor="$root/target/release/examples/floor"
[ -d "$dir/logs" ] || python3 "$root/benches/corpus.py" "$dir" --scale "${BENCH_SCALE:-1}"
export PANSWEEP_FINGERPRINT_KEY=bench
