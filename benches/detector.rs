//! Micro-benchmarks of the detector's inner loop, on typical log bytes and on the digit-dense
//! worst case, so that a change to the candidate pass can be measured on its own (no files,
//! no threads, no output). `cargo bench --bench detector`.
//!
//! Typical bytes are the loghub samples in `../shared/corpus/loghub` when that folder exists
//! (set `PANSWEEP_BENCH_LOGS` to use another), else generated lines in the same spirit; both
//! get a generated Luhn-valid card every 20,000 lines. Dense bytes are lines of 9–19-digit ids.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pansweep::detect::{Detector, blocks, candidates, luhn};
use pansweep::fingerprint::Key;
use pansweep::rules::Rules;

/// A small deterministic generator (xorshift), so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

/// A 16-digit number starting with 4 with the check digit that makes it pass Luhn.
fn card(rng: &mut Rng) -> String {
    let body = format!("4{}", rng.digits(14));
    (b'0'..=b'9')
        .map(|d| format!("{body}{}", char::from(d)))
        .find(|c| luhn::luhn_valid(c.as_bytes()))
        .unwrap_or(body)
}

fn typical(size: usize) -> Vec<u8> {
    let dir = std::env::var("PANSWEEP_BENCH_LOGS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/loghub").into());
    let mut lines: Vec<String> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(Path::new(&dir)) {
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
        {
            if let Ok(text) = std::fs::read_to_string(p) {
                lines.extend(text.lines().map(str::to_owned));
            }
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    if lines.is_empty() {
        for i in 0..20_000u64 {
            lines.push(format!(
                "2026-11-{:02} 12:{:02}:{:02},{:03} INFO [worker-{}] request {} from 10.{}.{}.{}:{} took {} ms",
                i % 28 + 1, i % 60, rng.next() % 60, rng.next() % 1000, i % 16,
                rng.digits(12), rng.next() % 256, rng.next() % 256, rng.next() % 256,
                rng.next() % 65536, rng.next() % 5000
            ));
        }
    }
    let mut out = Vec::with_capacity(size + 512);
    let mut n = 0usize;
    while out.len() < size {
        out.extend_from_slice(lines[n % lines.len()].as_bytes());
        out.push(b'\n');
        n += 1;
        if n.is_multiple_of(20_000) {
            out.extend_from_slice(format!("payment card {}\n", card(&mut rng)).as_bytes());
        }
    }
    out
}

fn dense(size: usize) -> Vec<u8> {
    let mut rng = Rng(42);
    let mut out = Vec::with_capacity(size + 512);
    while out.len() < size {
        out.extend_from_slice(b"id=");
        for k in 0..8 {
            if k > 0 {
                out.push(b' ');
            }
            let n = 9 + (rng.next() % 11) as usize;
            out.extend_from_slice(rng.digits(n).as_bytes());
        }
        // As the lines of benches/corpus.py end: a run of 13 digits that, unlike the ids,
        // mostly lies within one 64-byte block.
        out.extend_from_slice(format!(" seq={}{}", 1 + rng.next() % 9, rng.digits(12)).as_bytes());
        out.push(b'\n');
    }
    out
}

fn bench(c: &mut Criterion) {
    let rules = Rules::builtin().expect("built-in rules");
    let shapes = candidates::Shapes::new(13, rules.brands.groupings());
    // The detector's own shapes: plain numbers that fail Luhn or have no brand's head for
    // their length are left out by the pass.
    let card_shapes = shapes.luhn_valid_plain(|a, b| rules.brands.lengths_after(a, b));
    let anchors = pansweep::detect::anchors::Anchors::of_keywords(&rules.keywords);
    let detector = Detector::new(rules, Key::from_passphrase("bench")).expect("detector");
    for (name, bytes) in [("typical", typical(16 << 20)), ("dense", dense(16 << 20))] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.sample_size(10);
        g.bench_function("block masks", |b| {
            b.iter(|| {
                let mut acc = 0u64;
                for at in (0..bytes.len()).step_by(blocks::BLOCK) {
                    let m = blocks::masks_at(&bytes, at);
                    acc ^= m.digit ^ m.joiner ^ m.high;
                }
                black_box(acc)
            })
        });
        g.bench_function("every token", |b| {
            b.iter(|| {
                let (mut n, mut s) = (0usize, 0usize);
                candidates::for_each_token(&bytes, |c| n += c.ndigits, |sp| s += sp.end);
                black_box(n + s)
            })
        });
        // With `card_shapes`, the pass as the detector runs it: "find" less "card numbers"
        // is the cost of judging the numbers it hands on (context rules, fingerprints);
        // "card numbers" less "relevant tokens", what the vector Luhn check and brand heads
        // cost or save.
        for (stage, shapes) in [("relevant tokens", &shapes), ("card numbers", &card_shapes)] {
            g.bench_function(stage, |b| {
                let mut newlines = pansweep::detect::lines::BlockNewlines::default();
                b.iter(|| {
                    let (mut n, mut s) = (0usize, 0usize);
                    candidates::for_each_relevant_token(
                        &bytes,
                        shapes,
                        anchors.as_ref(),
                        |_| false,
                        |c| n += c.ndigits,
                        |sp| s += sp.end,
                        &mut newlines,
                    );
                    black_box(n + s)
                })
            });
        }
        g.bench_function("find", |b| {
            b.iter(|| black_box(detector.find(&bytes).len()))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
