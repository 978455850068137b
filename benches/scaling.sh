#!/usr/bin/env bash
# Does time grow with bytes and files, and nothing else? Times pansweep (one thread, warm
# cache) on 128 MiB, 512 MiB and 1 GiB of the bench tree (benches/corpus.py), and on 100,000
# files of 1 KiB, and prints seconds per GB and microseconds per file (median of 3 runs each).
#   BENCH_DIR=/tmp/pansweep-bench benches/scaling.sh
source "$(dirname "$0")/setup.sh"
work="$dir/scaling"
if [ ! -d "$work/small" ]; then
  mkdir -p "$work"
  all="$work/all.log"
  find "$dir/logs" -type f -name '*.log' -exec cat {} + > "$all"
  truncate -s $((1 << 30)) "$all"
  for mib in 128 512; do cp "$all" "$work/part-$mib.log" && truncate -s $((mib << 20)) "$work/part-$mib.log"; done
  mv "$all" "$work/part-1024.log"
  # 100,000 files of 1 KiB in 100 folders.
  python3 - "$work/small" <<'PY'
import os, sys
base = sys.argv[1]
line = b"2026-11-27 10:00:00,000 INFO worker-7 request 1234 took 250 ms from 10.0.0.1\n"
body = (line * (1024 // len(line) + 1))[:1024]
for d in range(100):
    os.makedirs(os.path.join(base, f"d{d:03}"), exist_ok=True)
    for f in range(1000):
        with open(os.path.join(base, f"d{d:03}", f"f{f:04}.log"), "wb") as fh:
            fh.write(body)
PY
fi
# Each input is warmed just before it is timed: all of them together are larger than the
# page cache of a small machine, and warming them all at once left the first ones evicted
# (the 100,000 files then came from disk: 1.76 s instead of ~0.9). Median of 3 runs.
warm() { find "$1" -type f -exec cat {} + > /dev/null; }
run() {
  for _ in 1 2 3; do { /usr/bin/time -f '%e' "$@" 2>&1 >/dev/null || true; } | tail -1; done |
    sort -n | sed -n 2p
}
for mib in 128 512 1024; do
  warm "$work/part-$mib.log"
  t="$(run "$bin" scan -q -j1 --format jsonl "$work/part-$mib.log")"
  awk -v t="$t" -v b=$((mib << 20)) -v m="$mib" 'BEGIN {printf "%5d MiB file   %6.2f s  %5.2f s/GB\n", m, t, t / (b / 1e9)}'
done
warm "$work/small"
t="$(run "$bin" scan -q -j1 --format jsonl "$work/small")"
awk -v t="$t" 'BEGIN {printf "100000 x 1 KiB   %6.2f s  %5.1f us/file (1 thread)\n", t, t / 100000 * 1e6}'
t="$(run "$bin" scan -q --format jsonl "$work/small")"
awk -v t="$t" 'BEGIN {printf "100000 x 1 KiB   %6.2f s  %5.1f us/file (all cores)\n", t, t / 100000 * 1e6}'
