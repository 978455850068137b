//! Newline counts per 64-byte block, taken by the block pass of
//! [`super::candidates::for_each_relevant_token`] while it classifies the bytes (a compare
//! and a bit count per block), so that numbering the lines of the findings afterwards reads
//! only the bytes around each finding. Counted again after the pass, a 1 MiB chunk came back
//! at ~20 GB/s, not the ~70 GB/s of bytes in cache: on digit-dense logs, where nearly every
//! chunk has findings, that second read was 5% of the scan. The two blocks at the ends of
//! a range are classified again, one vector compare per 16 bytes: counting their bytes one
//! call at a time (`bytecount`, then `memrchr` for the last) was 3.7% of a dense scan.

use super::blocks::{BLOCK, masks_at};

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
    /// buffer they were taken from), with the newline bits of the blocks at the range's
    /// ends; counted byte by byte otherwise.
    pub fn count(&self, bytes: &[u8], from: usize, to: usize) -> (usize, Option<usize>) {
        if self.len != Some(bytes.len()) {
            return newlines_in(bytes, from, to);
        }
        if from >= to {
            return (0, None);
        }
        // The blocks of the range's first and last bytes, and the whole blocks between.
        let (first, end) = (from / BLOCK, (to - 1) / BLOCK);
        let newline_bits = |k: usize| masks_at(bytes, k * BLOCK).newline;
        let last_in = |k: usize, bits: u64| k * BLOCK + 63 - bits.leading_zeros() as usize;
        let head = newline_bits(first) & u64::MAX << (from % BLOCK);
        let to_mask = u64::MAX >> (BLOCK - (to - end * BLOCK));
        if first == end {
            let bits = head & to_mask;
            return (
                bits.count_ones() as usize,
                (bits != 0).then(|| last_in(first, bits)),
            );
        }
        let tail = newline_bits(end) & to_mask;
        let between = &self.per_block[first + 1..end];
        let whole: usize = between.iter().map(|&n| usize::from(n)).sum();
        let last = if tail != 0 {
            Some(last_in(end, tail))
        } else if let Some(i) = between.iter().rposition(|&n| n > 0) {
            let k = first + 1 + i;
            Some(last_in(k, newline_bits(k)))
        } else {
            (head != 0).then(|| last_in(first, head))
        };
        (
            head.count_ones() as usize + whole + tail.count_ones() as usize,
            last,
        )
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
    fn the_counts_are_read_for_the_blocks_between_the_ends() {
        // Counts that disagree with the bytes show which were read: those of the blocks
        // between the blocks of the range's first and last bytes, whose own newlines are
        // taken from the bytes.
        let text = vec![b'\n'; 5 * BLOCK];
        let mut n = filled(&text);
        n.per_block.fill(1);
        assert_eq!(
            n.count(&text, 10, 4 * BLOCK + 3),
            (54 + 3 + 3, Some(4 * BLOCK + 2))
        );
        assert_eq!(
            n.count(&text, 10, 4 * BLOCK),
            (54 + 2 + 64, Some(4 * BLOCK - 1))
        );
        assert_eq!(
            n.count(&text, 10, 3 * BLOCK + 1),
            (54 + 2 + 1, Some(3 * BLOCK))
        );
        assert_eq!(n.count(&text, 70, 100), (30, Some(99)));
        n.per_block.fill(0);
        assert_eq!(
            n.count(&text, 10, 4 * BLOCK + 3),
            (54 + 3, Some(4 * BLOCK + 2))
        );
    }

    #[test]
    fn the_last_newline_is_found_in_whichever_part_holds_it() {
        let mut text = vec![b'x'; 5 * BLOCK];
        for i in [20, 100, 150] {
            text[i] = b'\n';
        }
        let mut n = filled(&text);
        // In the last block of the range, in a block between, in the first block.
        assert_eq!(n.count(&text, 21, 101), (1, Some(100)));
        assert_eq!(n.count(&text, 10, 4 * BLOCK), (3, Some(150)));
        assert_eq!(n.count(&text, 10, 100), (1, Some(20)));
        // The block between that holds the last newline is the last one whose count says so.
        n.per_block[2] = 0;
        assert_eq!(n.count(&text, 10, 4 * BLOCK), (2, Some(100)));
        n.per_block[1] = 0;
        assert_eq!(n.count(&text, 10, 4 * BLOCK), (1, Some(20)));
        assert_eq!(n.count(&text, 10, 10), (0, None));
    }
}
