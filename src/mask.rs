//! Masking: the display form of a finding and same-length masking of bytes.
//!
//! Pure functions over digits and bytes. The display form follows the PCI DSS rule that at
//! most the first six and last four digits of a PAN may be shown.

use crate::finding::Masked;

/// The display form of a PAN: first six and last four digits with `*` between, no
/// separators (`411111******1111`).
///
/// `digits` must be ASCII digits; numbers shorter than 13 digits keep only the last four,
/// so nothing close to a whole short number is shown.
pub fn display_pan(digits: &[u8]) -> Masked {
    let n = digits.len();
    let mut s = String::with_capacity(n);
    if n >= 13 {
        for (i, &d) in digits.iter().enumerate() {
            s.push(if i < 6 || i >= n - 4 { d as char } else { '*' });
        }
    } else {
        for (i, &d) in digits.iter().enumerate() {
            s.push(if n >= 8 && i >= n - 4 { d as char } else { '*' });
        }
    }
    Masked(s)
}

/// The display form of a security code: one `*` per digit.
pub fn display_code(len: usize) -> Masked {
    Masked("*".repeat(len))
}

/// Masks the ASCII digits of `bytes` in place with `mask_char`, keeping the first `keep_first`
/// and the last `keep_last` digits and every non-digit byte (separators, sentinels).
///
/// The length never changes, so offsets and line numbers in a masked file still hold.
pub fn mask_digits(bytes: &mut [u8], keep_first: usize, keep_last: usize, mask_char: u8) {
    let total = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    let mut seen = 0;
    for b in bytes.iter_mut() {
        if b.is_ascii_digit() {
            if seen >= keep_first && seen + keep_last < total {
                *b = mask_char;
            }
            seen += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_bin_and_last_four() {
        assert_eq!(
            display_pan(b"4111111111111111").as_str(),
            "411111******1111"
        );
        assert_eq!(display_pan(b"378282246310005").as_str(), "378282*****0005");
        assert_eq!(display_pan(b"4222222222222").as_str(), "422222***2222");
    }

    #[test]
    fn display_of_short_runs_hides_more() {
        assert_eq!(display_pan(b"123456789012").as_str(), "********9012");
        assert_eq!(display_pan(b"1234567").as_str(), "*******");
    }

    #[test]
    fn mask_digits_keeps_separators_and_length() {
        let mut b = b"4111 1111-1111 1111".to_vec();
        mask_digits(&mut b, 6, 4, b'*');
        assert_eq!(&b, b"4111 11**-**** 1111");
        let mut c = b"cvv=123".to_vec();
        mask_digits(&mut c, 0, 0, b'*');
        assert_eq!(&c, b"cvv=***");
    }
}
