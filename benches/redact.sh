#!/usr/bin/env bash
# Throughput and peak memory of the stream filter, `pansweep redact -` (issue #7 asks for at
# least 500 MB/s), against `cat` through the same pipe: the typical tree's logs joined into one
# stream (benches/corpus.py), and the digit-dense tree's, where every number is a candidate.
# Checks that the masked stream is as long as the input and that it differs from it (cards
# were masked). Median of BENCH_ROUNDS runs (default 7).
#   BENCH_DIR=/tmp/pansweep-bench benches/redact.sh
source "$(dirname "$0")/setup.sh"
rounds="${BENCH_ROUNDS:-7}"
for tree in logs dense; do
  stream="$dir/stream-$tree.log"
  # The first 256 MiB of the tree's bytes, one stream.
  # (`head` closes the pipe after them: find's cat then dies of SIGPIPE, as meant.)
  [ -f "$stream" ] || { find "$dir/$tree" -type f -name '*.log' -exec cat {} + 2>/dev/null || true; } |
    head -c $((256 << 20)) > "$stream"
  bytes=$(stat -c %s "$stream")
  out="$(mktemp)"
  "$bin" redact - < "$stream" > "$out" 2>/dev/null
  [ "$(stat -c %s "$out")" = "$bytes" ] || { echo "$tree: the masked stream's length differs" >&2; exit 1; }
  cmp -s "$stream" "$out" && { echo "$tree: nothing was masked" >&2; exit 1; }
  rm -f "$out"
  for cmd in "cat" "$bin redact -"; do
    for _ in $(seq "$rounds"); do
      # Wall seconds of the pipeline (date: /usr/bin/time rounds to 10 ms) and the command's
      # peak RSS in KiB.
      start=$(date +%s%N)
      rss=$(cat "$stream" | /usr/bin/time -f '%M' $cmd 2>&1 >/dev/null | tail -1)
      echo "$(( $(date +%s%N) - start )) $rss"
    done | python3 -c "
import statistics, sys
runs = [tuple(map(int, l.split())) for l in sys.stdin]
s = statistics.median(r[0] for r in runs) / 1e9
rss = max(r[1] for r in runs) / 1024
name = '$cmd'.split('/')[-1]
print(f'$tree  {name:18} {s:7.3f} s {$bytes / s / 1e6:8.0f} MB/s  peak RSS {rss:6.1f} MiB')
"
  done
done
