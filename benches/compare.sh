#!/usr/bin/env bash
# One command: build, generate the trees if missing (benches/corpus.py), warm the page cache,
# then time with hyperfine, in one run: cat (the copy floor), benches/floor.rs (a minimal
# digit-run-and-Luhn scanner: the compute floor on this machine), ripgrep with a naive card
# regex, and pansweep, at 1 thread and all cores; and zcat vs pansweep on the gzip tree.
# Prints GB/s, the ratios, and issue #7's targets with a verdict for each. Needs hyperfine
# and ripgrep (apt-get install hyperfine ripgrep); RG=/path/to/rg runs another build of it
# (`cargo install ripgrep --root DIR` gives the newest: 15.2 measured the same as Debian's
# 13.0 here, within 7%, and no faster).
#   BENCH_DIR=/tmp/pansweep-bench BENCH_SCALE=1 benches/compare.sh
# Each command's time is the median of its runs (BENCH_RUNS, default 5), not the mean: on a
# shared machine a run now and then stalls for seconds, and one such run moved a mean by 20%.
# The fastest run is shown too. On a machine whose speed drifts, BENCH_ROUNDS=3 repeats the
# whole set three times, prints each round's ratios, and takes the median of the rounds.
source "$(dirname "$0")/setup.sh"
regex='\b(?:\d[ -]?){12,18}\d\b'
rg="${RG:-rg}"
# The machine, as its figures depend on it (the project's VM has changed CPU between stops).
echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, AVX-512 VBMI2: $(grep -q -m1 -w avx512_vbmi2 /proc/cpuinfo 2>/dev/null && echo yes || echo no) ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "ripgrep: $("$rg" --version | head -1)"
cd "$dir"
find logs dense gz -type f -exec cat {} + > /dev/null   # warm the cache
bytes() { find "$1" -type f -not -path '*/ignored/*' -not -path '*/.git/*' -printf '%s\n' | awk '{s+=$1} END {print s}'; }
rounds="${BENCH_ROUNDS:-1}"
jsons=()
for round in $(seq "$rounds"); do
  json="$(mktemp)"
  jsons+=("$json")
  hyperfine -N -i --warmup 1 --runs "${BENCH_RUNS:-5}" --export-json "$json" \
    -n "cat logs" "sh -c 'find logs -type f -not -name *.tmp -exec cat {} + > /dev/null'" \
    -n "floor -j1 logs" "$floor -j 1 logs" \
    -n "floor logs" "$floor logs" \
    -n "rg -j1 logs" "$rg -j1 -c '$regex' logs" \
    -n "rg logs" "$rg -c '$regex' logs" \
    -n "pansweep -j1 logs" "sh -c '$bin scan -q -j1 --format jsonl logs > /dev/null'" \
    -n "pansweep logs" "sh -c '$bin scan -q --format jsonl logs > /dev/null'" \
    -n "rg -j1 dense" "$rg -j1 -c '$regex' dense" \
    -n "floor -j1 dense" "$floor -j 1 dense" \
    -n "pansweep -j1 dense" "sh -c '$bin scan -q -j1 --format jsonl dense > /dev/null'" \
    -n "zcat gz" "sh -c 'zcat gz/*.gz > /dev/null'" \
    -n "pansweep -j1 gz" "sh -c '$bin scan -q -j1 --format jsonl gz > /dev/null'" \
    > /dev/null || true
done
python3 - "$(bytes logs)" "$(bytes dense)" "$(zcat gz/*.gz | wc -c)" "${jsons[@]}" <<'PY'
import json, statistics, sys
size = {"logs": int(sys.argv[1]), "dense": int(sys.argv[2]), "gz": int(sys.argv[3])}
results = [json.load(open(f))["results"] for f in sys.argv[4:]]
rounds = [{r["command"]: r["median"] for r in rs} for rs in results]
fastest = {}
for rs in results:
    for r in rs:
        fastest[r["command"]] = min(fastest.get(r["command"], float("inf")), r["min"])
if len(rounds) > 1:
    for i, r in enumerate(rounds, 1):
        print(f"round {i}: pansweep/rg all cores {r['pansweep logs'] / r['rg logs']:.2f}, "
              f"1 thread {r['pansweep -j1 logs'] / r['rg -j1 logs']:.2f}; cat {r['cat logs']:.3f} s")
    print(f"median of {len(rounds)} rounds:\n")
res = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
def gbps(name, t):
    """The speed of command `name` (its last word names the tree) in `t` seconds."""
    return size[name.split()[-1]] / t / 1e9
print(f"{'command':24s} {'median s':>9s} {'GB/s':>7s} {'fastest s':>10s} {'GB/s':>7s}")
for name, t in res.items():
    f = fastest[name]
    print(f"{name:24s} {t:9.3f} {gbps(name, t):7.2f} {f:10.3f} {gbps(name, f):7.2f}")
def ratio(a, b):
    return res[a] / res[b] if a in res and b in res else float("nan")
print(f"\npansweep/rg (time), all cores: {ratio('pansweep logs', 'rg logs'):.2f}   1 thread: {ratio('pansweep -j1 logs', 'rg -j1 logs'):.2f}")
print(f"pansweep/cat (time), all cores: {ratio('pansweep logs', 'cat logs'):.2f}")
print(f"pansweep/floor (time), 1 thread: {ratio('pansweep -j1 logs', 'floor -j1 logs'):.2f}   "
      f"all cores: {ratio('pansweep logs', 'floor logs'):.2f}   "
      f"dense, 1 thread: {ratio('pansweep -j1 dense', 'floor -j1 dense'):.2f}")
print(f"zcat/pansweep on gz (throughput ratio): {ratio('zcat gz', 'pansweep -j1 gz'):.2f}")

# Issue #7's targets, judged on the medians above (and, for the absolute ones, the fastest
# run too). The absolute targets were set on a machine where `rg -j1` read the typical tree
# at ~0.73 GB/s; the first line shows how this run's machine compares, as a shared machine
# drifts by 30% or more from hour to hour. (The floor scanner here is not the issue's minimal
# scanner, so its speed is no reference.)
REFERENCE_RG = 0.73
rg_speed = gbps('rg -j1 logs', res['rg -j1 logs'])
print(f"\nthis machine, this run: rg -j1 logs at {rg_speed:.2f} GB/s "
      f"(the issue's reference machine: {REFERENCE_RG})")
def speeds(name):
    """The median and fastest speed of command `name`."""
    return gbps(name, res[name]), gbps(name, fastest[name])
targets = [
    ("time against rg, all cores", ratio('pansweep logs', 'rg logs'), None, "<=", 0.4),
    ("time against rg, 1 thread", ratio('pansweep -j1 logs', 'rg -j1 logs'), None, "<=", 0.4),
    ("typical logs, 1 thread, GB/s", *speeds('pansweep -j1 logs'), ">=", 2.5),
    ("digit-dense, 1 thread, GB/s", *speeds('pansweep -j1 dense'), ">=", 1.0),
    ("gzip, throughput against zcat", ratio('zcat gz', 'pansweep -j1 gz'), None, ">=", 0.8),
]
print(f"\n{'target':32s} {'asked':>8s} {'median':>8s} {'fastest':>8s} {'at ref.':>8s}  verdict")
for name, median, best, op, goal in targets:
    def met(x):
        return x <= goal if op == "<=" else x >= goal
    verdict = "met" if met(median) else ("met in the fastest run only" if best and met(best) else "not met")
    best_s = f"{best:8.2f}" if best else f"{'':8s}"
    # The absolute speeds scaled to the reference machine (ratios need no scaling).
    ref_s = f"{median * REFERENCE_RG / rg_speed:8.2f}" if best else f"{'':8s}"
    print(f"{name:32s} {op + ' ' + str(goal):>8s} {median:8.2f} {best_s} {ref_s}  {verdict}")
print(f"\nat ref.: the median speed times {REFERENCE_RG} / this run's rg speed, i.e. on the issue's "
      "reference machine\nif pansweep slows and speeds up with this one as rg does; shown, "
      "not judged: the verdicts\nare on this run's own figures.")
PY
