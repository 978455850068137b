//! Newline counts per 64-byte block, taken by the block pass of
//! [`super::candidates::for_each_relevant_token`] while it classifies the bytes (a compare
//! and a bit count per block), so that numbering the lines of the findings afterwards reads
//! only the bytes around each finding. Counted again after the pass, a 1 MiB chunk came back
//! at ~20 GB/s, not the ~70 GB/s of bytes in cache: on digit-dense logs, where nearly every
//! chunk has findings, that second read was 5% of the scan.

use super::blocks::BLOCK;

/// The newlines of each 64-byte block of one buffer, as the block pass counted them.
#[derive(Clone, Debug, Default)]
pub struct BlockNewlines {
    /// Entry `k`: the newlines among bytes `64k` to `64k + 63`.
    per_block: Vec<u8>,
    /// The length of the buffer the counts are for; `None` before a pass has taken any.
    len: Option<usize>,
}

impl BlockNewlines {
    /// Makes room for the counts of a buffer of `len` bytes: one entry per block, all of
    /// which the pass must fill.
    pub(crate) fn start(&mut self, len: usize) -> &mut [u8] {
        self.per_block.clear();
        self.per_block.resize(len.div_ceil(BLOCK), 0);
        self.len = Some(len);
        &mut self.per_block
    }

    /// The number of `\n` bytes in `bytes[from..to]` and the offset of the last one. From
    /// the counts where `bytes` has the length they were taken for (the caller passes the
    /// buffer they were taken from); counted byte by byte otherwise.
    pub fn count(&self, bytes: &[u8], from: usize, to: usize) -> (usize, Option<usize>) {
        // The whole blocks of the range: blocks `first..end`, bytes `lo..hi`.
        let (first, end) = (from.div_ceil(BLOCK), to / BLOCK);
        if self.len != Some(bytes.len()) || first >= end {
            return newlines_in(bytes, from, to);
        }
        let (lo, hi) = (first * BLOCK, end * BLOCK);
        let blocks = &self.per_block[first..end];
        let (head, tail) = (newlines_in(bytes, from, lo), newlines_in(bytes, hi, to));
        let whole: usize = blocks.iter().map(|&n| usize::from(n)).sum();
        let last = tail.1.or_else(|| {
            // The last block with a newline, searched alone.
            let k = first + blocks.iter().rposition(|&n| n > 0)?;
            newlines_in(bytes, k * BLOCK, (k + 1) * BLOCK).1
        });
        (head.0 + whole + tail.0, last.or(head.1))
    }
}

/// The `\n` bytes of `bytes[from..to]` counted one by one: how many, and the offset of the
/// last.
pub fn newlines_in(bytes: &[u8], from: usize, to: usize) -> (usize, Option<usize>) {
    let seg = &bytes[from..to];
    let n = bytecount::count(seg, b'\n');
    let last = (n > 0)
        .then(|| memchr::memrchr(b'\n', seg).map(|i| from + i))
        .flatten();
    (n, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Counts as the pass does: one entry per block.
    fn filled(bytes: &[u8]) -> BlockNewlines {
        let mut n = BlockNewlines::default();
        for (entry, block) in n.start(bytes.len()).iter_mut().zip(bytes.chunks(BLOCK)) {
            *entry = u8::try_from(block.iter().filter(|&&b| b == b'\n').count()).unwrap();
        }
        n
    }

    proptest! {
        #[test]
        fn ranges_count_as_a_byte_by_byte_count_does(
            text in prop::collection::vec(prop_oneof![9 => Just(b'x'), 1 => Just(b'\n')], 0..700),
            a in 0usize..700,
            b in 0usize..700,
        ) {
            let (from, to) = (a.min(b).min(text.len()), a.max(b).min(text.len()));
            let expected = newlines_in(&text, from, to);
            prop_assert_eq!(filled(&text).count(&text, from, to), expected);
            // Counts for another buffer, or none, are not used.
            let stale = filled(&text[..text.len() / 2]);
            prop_assert_eq!(stale.count(&text, from, to), expected);
            prop_assert_eq!(BlockNewlines::default().count(&text, from, to), expected);
        }
    }

    #[test]
    fn the_counts_are_read_for_whole_blocks() {
        // Counts that disagree with the bytes show which were read: those of the whole
        // blocks, not the bytes of the partial ones at the ends.
        let text = vec![b'\n'; 5 * BLOCK];
        let mut n = filled(&text);
        n.per_block.fill(1);
        assert_eq!(
            n.count(&text, 10, 4 * BLOCK + 3),
            (54 + 3 + 3, Some(4 * BLOCK + 2))
        );
        n.per_block[3] = 0;
        // The last newline of the whole blocks is searched in the last block with one.
        assert_eq!(n.count(&text, 10, 4 * BLOCK), (54 + 2, Some(3 * BLOCK - 1)));
        // With none in the whole blocks or after them, the last is in the partial first block.
        n.per_block.fill(0);
        assert_eq!(
            n.count(&text, 10, 4 * BLOCK + 3),
            (54 + 3, Some(4 * BLOCK + 2))
        );
        assert_eq!(n.count(&text, 10, 4 * BLOCK), (54, Some(BLOCK - 1)));
    }
}
