#!/usr/bin/env python3
"""Builds the deterministic benchmark trees under OUT (default /tmp/pansweep-bench):

  logs/   ~1 GiB: ~3,000 files of loghub lines (4 KiB to 200 MiB: two large files, the rest
          log-uniform 4 KiB to 1 MiB), nested,
          with a .gitignore, and a generated Luhn-valid card about every 20,000 lines
  dense/  ~200 MiB: lines full of 10-20 digit ids (the digit-dense worst case)
  gz/     ~200 MiB of logs (uncompressed size) as .gz files

    python3 benches/corpus.py [OUT] [--scale 0.25]

Cards are random digits with a Luhn check digit (never real). Same seed, same bytes.
"""
import gzip, os, random, sys

def luhn_digit(partial):
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)

def card(rng):
    p = rng.choice(["4", "51", "52", "2221", "37", "6011", "3530", "62"])
    n = 15 if p == "37" else 16
    s = p + "".join(rng.choice("0123456789") for _ in range(n - len(p) - 1))
    return s + luhn_digit(s)

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = args[0] if args else "/tmp/pansweep-bench"
    scale = float(sys.argv[sys.argv.index("--scale") + 1]) if "--scale" in sys.argv else 1.0
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "..", "shared", "corpus", "loghub")
    lines = []
    for f in sorted(os.listdir(src)):
        if f.endswith(".log"):
            with open(os.path.join(src, f), "rb") as fh:
                lines.extend(l for l in fh.read().split(b"\n") if l)
    rng = random.Random(20261126)

    def write_log(path, size, gz=False):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        chunks, n, count = [], 0, 0
        while n < size:
            line = rng.choice(lines)
            count += 1
            if count % 20000 == 0:
                line = b"payment ok card=" + card(rng).encode() + b" " + line
            chunks.append(line + b"\n")
            n += len(line) + 1
        data = b"".join(chunks)
        if gz:
            data = gzip.compress(data, 6)
            path += ".gz"
        with open(path, "wb") as fh:
            fh.write(data)

    logs = os.path.join(out, "logs")
    budget = int((1 << 30) * scale)
    # Two large files (200 and 150 MiB) and ~3,000 small ones, log-uniform 4 KiB .. 1 MiB.
    sizes = [int((200 << 20) * scale), int((150 << 20) * scale)]
    total = sum(sizes)
    while total < budget:
        s = min(int(4096 * (256 ** rng.random())), max(budget - total, 4096))
        sizes.append(s)
        total += s
    for i, s in enumerate(sizes):
        d = os.path.join(logs, f"host{i % 17:02d}", f"svc{i % 5}")
        write_log(os.path.join(d, f"app-{i:05d}.log"), s)
    with open(os.path.join(logs, ".gitignore"), "w") as fh:
        fh.write("*.tmp\n")
    write_log(os.path.join(logs, "ignored", "scratch.tmp"), 1 << 20)
    os.makedirs(os.path.join(logs, ".git"), exist_ok=True)  # so .gitignore applies, as in a repo

    dense = os.path.join(out, "dense")
    os.makedirs(dense, exist_ok=True)
    target = int((200 << 20) * scale)
    for k in range(8):
        with open(os.path.join(dense, f"ids-{k}.log"), "wb") as fh:
            n = 0
            while n < target // 8:
                ids = " ".join(str(rng.randrange(10 ** rng.randrange(9, 20))) for _ in range(8))
                line = f"id={ids} seq={rng.randrange(10**12, 10**13)}\n".encode()
                fh.write(line)
                n += len(line)

    gzdir = os.path.join(out, "gz")
    per = int((20 << 20) * scale)
    for k in range(10):
        write_log(os.path.join(gzdir, f"rotated-{k}.log"), per, gz=True)
    print(f"{len(sizes)} log files, {total / 2**30:.2f} GiB in {logs}; dense and gz trees beside it")

if __name__ == "__main__":
    main()
