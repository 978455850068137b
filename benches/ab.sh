#!/usr/bin/env bash
# Before/after: builds the release binary of two revisions and times their scans of the
# bench trees in alternation (A, B, A, B, ...), so that both see the same machine: on a
# shared VM whose speed drifts by tens of percent within an hour, two separate runs cannot
# be compared, and alternating runs can. Prints the fastest and the median time of each, and
# checks that both report the same findings.
#   benches/ab.sh [REV_A [REV_B]]     (default: HEAD~1 and the working tree)
#   AB_ROUNDS=10 AB_TREES="logs dense" AB_THREADS="1 0" benches/ab.sh main my-branch
# AB_THREADS: 0 means all cores.
source "$(dirname "$0")/setup.sh"
rev_a="${1:-HEAD~1}"
rev_b="${2:-}"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/a" 2>/dev/null || true;
      git -C "$root" worktree remove --force "$work/b" 2>/dev/null || true; rm -rf "$work"' EXIT

# The binary of a revision, built in a worktree of its own; the working tree as it is when
# no revision is given.
build() {
  local name="$1" rev="$2"
  if [ -z "$rev" ]; then
    cp "$bin" "$work/$name.bin"
  else
    git -C "$root" worktree add -q --detach "$work/$name" "$rev"
    CARGO_TARGET_DIR="$root/target/ab" cargo build --release -q --manifest-path "$work/$name/Cargo.toml"
    cp "$root/target/ab/release/pansweep" "$work/$name.bin"
  fi
}
build a "$rev_a"
build b "$rev_b"
echo "A: $rev_a   B: ${rev_b:-working tree}"

cd "$dir"
find ${AB_TREES:-logs dense} -type f -exec cat {} + > /dev/null   # warm the cache
for tree in ${AB_TREES:-logs dense}; do
  for threads in ${AB_THREADS:-1 0}; do
    jobs=()
    [ "$threads" != 0 ] && jobs=(-j "$threads")
    for side in a b; do
      "$work/$side.bin" scan -q "${jobs[@]}" --format jsonl "$tree" | sort > "$work/$side.out" || true
    done
    cmp -s "$work/a.out" "$work/b.out" || echo "note: A and B report different findings on $tree"
    for round in $(seq "${AB_ROUNDS:-8}"); do
      for side in a b; do
        start=$(date +%s%N)
        "$work/$side.bin" scan -q "${jobs[@]}" --format jsonl "$tree" > /dev/null || true
        echo "$side $(( $(date +%s%N) - start ))"
      done
    done | python3 -c "
import statistics, sys
times = {'a': [], 'b': []}
for line in sys.stdin:
    side, ns = line.split()
    times[side].append(int(ns) / 1e9)
a, b = (statistics.median(times[s]) for s in 'ab')
fa, fb = min(times['a']), min(times['b'])
print(f'$tree, threads ${threads/#0/all}: A fastest {fa:.3f} s median {a:.3f} s | '
      f'B fastest {fb:.3f} s median {b:.3f} s | B/A fastest {fb / fa:.2f} median {b / a:.2f}')
"
  done
done
