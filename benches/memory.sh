#!/usr/bin/env bash
# Peak memory (max RSS from /usr/bin/time -v) for one 2 GiB file and for the whole 1 GiB tree,
# and the read-vs-mmap question for the big file, asked of ripgrep too (pansweep maps plain
# files of 64 KiB or more and releases each chunk's pages when done, so its RSS stays small;
# src/mapped.rs guards against SIGBUS). Uses the trees of benches/corpus.py (built if missing).
#   BENCH_DIR=/tmp/pansweep-bench benches/memory.sh
source "$(dirname "$0")/setup.sh"
big="$dir/big-2g.log"
if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" -lt $((2 << 30)) ]; then
  # Two copies of the 1 GiB tree's bytes, one file.
  find "$dir/logs" -type f -name '*.log' -exec cat {} + > "$big.tmp"
  cat "$big.tmp" "$big.tmp" > "$big" && rm "$big.tmp"
fi
cat "$big" > /dev/null
peak() { # prints: seconds, max RSS in MiB
  /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%8.2f s %8.1f MiB", $1, $2 / 1024}'
}
printf '%-34s %s\n' "pansweep -j1, 2 GiB file" "$(peak "$bin" scan -q -j1 --format jsonl "$big")"
printf '%-34s %s\n' "pansweep, 2 GiB file" "$(peak "$bin" scan -q --format jsonl "$big")"
printf '%-34s %s\n' "pansweep, 1 GiB tree" "$(peak "$bin" scan -q --format jsonl "$dir/logs")"
printf '%-34s %s\n' "pansweep -j1, 1 GiB tree" "$(peak "$bin" scan -q -j1 --format jsonl "$dir/logs")"
if command -v rg > /dev/null; then
  regex='\b(?:\d[ -]?){12,18}\d\b'
  printf '%-34s %s\n' "rg --mmap, 2 GiB file" "$(peak rg -c --mmap "$regex" "$big")"
  printf '%-34s %s\n' "rg --no-mmap, 2 GiB file" "$(peak rg -c --no-mmap "$regex" "$big")"
fi
