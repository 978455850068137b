//! Masking: the display form of a finding and same-length masking of bytes.
//!
//! Pure functions over digits and bytes. The display form follows the PCI DSS rule that at
//! most the first six and last four digits of a PAN may be shown.

use crate::finding::{Finding, Kind, Masked, Span};

/// The display form of a PAN: first six and last four digits with `*` between, no
/// separators (`411111******1111`).
///
/// `digits` must be ASCII digits; numbers shorter than 13 digits keep only the last four,
/// so nothing close to a whole short number is shown. A run longer than the form holds
/// ([`Masked::MAX`], a card number's 19 digits) keeps only its first six.
pub fn display_pan(digits: &[u8]) -> Masked {
    let n = digits.len();
    // Bytes, not chars, and copies of the shown digits instead of a test per digit: this
    // runs for every finding.
    let mut bytes = [b'*'; Masked::MAX];
    if n >= 13 {
        bytes[..6].copy_from_slice(&digits[..6]);
    }
    if (8..=Masked::MAX).contains(&n) {
        bytes[n - 4..n].copy_from_slice(&digits[n - 4..]);
    }
    Masked::new(&bytes[..n.min(Masked::MAX)])
}

/// The display form of a security code: one `*` per digit.
pub fn display_code(len: usize) -> Masked {
    Masked::new(&[b'*'; Masked::MAX][..len.min(Masked::MAX)])
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

/// How much of a card number `redact` keeps readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskStyle {
    /// First six and last four digits (the most PCI DSS allows to be shown).
    BinLast4,
    /// Last four digits only.
    Last4,
    /// Every digit.
    Full,
}

impl MaskStyle {
    /// Digits kept at the start and at the end.
    fn keep(self) -> (usize, usize) {
        match self {
            MaskStyle::BinLast4 => (6, 4),
            MaskStyle::Last4 => (0, 4),
            MaskStyle::Full => (0, 0),
        }
    }
}

/// How `redact` masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaskSpec {
    /// What stays readable of a PAN.
    pub style: MaskStyle,
    /// The ASCII character written over each masked character.
    pub mask_char: u8,
}

impl Default for MaskSpec {
    fn default() -> MaskSpec {
        MaskSpec {
            style: MaskStyle::BinLast4,
            mask_char: b'*',
        }
    }
}

/// Masks, in `out`, every byte of `finding` that falls in `window`; `out` holds the bytes of
/// `window` (a range of `bytes`, the buffer the finding's spans point into).
///
/// The PAN keeps the digits `spec.style` allows and its separators; everything after the PAN
/// in a track is masked except the field separators and sentinels; a security code loses
/// every digit. Lengths never change.
pub fn mask_finding(bytes: &[u8], window: Span, out: &mut [u8], finding: &Finding, spec: MaskSpec) {
    // A full-width digit (three bytes) is masked with the full-width mask character, which
    // is three bytes too; an ASCII digit with the ASCII one.
    let wide = fullwidth(spec.mask_char);
    let mut put = |(i, width): (usize, usize)| {
        let with: &[u8] = if width == 3 {
            &wide
        } else {
            std::slice::from_ref(&spec.mask_char)
        };
        for (k, &b) in with.iter().enumerate() {
            if window.start <= i + k && i + k < window.end {
                out[i + k - window.start] = b;
            }
        }
    };
    // (index, byte width) of each digit of a span.
    let digits = |sp: Span| {
        let mut i = sp.start;
        std::iter::from_fn(move || {
            while i < sp.end {
                let at = i;
                match crate::detect::candidates::digit_at(bytes, at) {
                    Some((_, w)) => {
                        i += w;
                        return Some((at, w));
                    }
                    None => i += 1,
                }
            }
            None
        })
    };
    if finding.kind == Kind::Cvv {
        digits(finding.span).for_each(&mut put);
        return;
    }
    let pan = finding.span;
    let total = digits(pan).count();
    let (first, last) = spec.style.keep();
    for (seen, d) in digits(pan).enumerate() {
        if seen >= first && seen + last < total {
            put(d);
        }
    }
    // Track data after the PAN: name, expiry, service code, discretionary data; the
    // separators and sentinels stay so the layout does.
    for (i, &b) in bytes
        .iter()
        .enumerate()
        .take(finding.region.end)
        .skip(pan.end)
    {
        let separator_d = i == pan.end && b == b'D';
        if b.is_ascii_alphanumeric() && !separator_d {
            put((i, 1));
        }
    }
    if let Some(code) = finding.cvv {
        digits(code).for_each(&mut put);
    }
}

/// The UTF-8 bytes of the full-width form (U+FF01–U+FF5E) of a printable ASCII character.
pub fn fullwidth(c: u8) -> [u8; 3] {
    let ch = char::from_u32(0xFF00 + u32::from(c.clamp(0x21, 0x7E)) - 0x20).unwrap_or('\u{FF0A}');
    let mut buf = [0u8; 3];
    ch.encode_utf8(&mut buf);
    buf
}

/// A line for people to read, with every finding inside `window` shown as its display form
/// in brackets (`[411111******1111]`, `[***]`) and any other run of 12+ digits masked, so no
/// card number can be read from it.
pub fn display_line(bytes: &[u8], window: Span, findings: &[Finding]) -> String {
    let mut marks: Vec<(Span, String)> = Vec::new();
    for f in findings {
        marks.push((f.span, format!("[{}]", f.masked)));
        if let Some(c) = f.cvv {
            marks.push((c, format!("[{}]", "*".repeat(c.len()))));
        }
        if f.region.end > f.span.end {
            let tail = Span::new(f.span.end, f.region.end);
            marks.push((tail, format!("[{}]", "*".repeat(tail.len()))));
        }
    }
    marks.sort_by_key(|m| m.0.start);
    let mut out = Vec::with_capacity(window.len());
    let mut i = window.start;
    for (span, text) in marks {
        if span.start < i || span.start < window.start || span.end > window.end {
            continue;
        }
        out.extend_from_slice(&bytes[i..span.start]);
        out.extend_from_slice(text.as_bytes());
        i = span.end;
    }
    out.extend_from_slice(&bytes[i..window.end]);
    scrub(&out)
}

/// Text for people to read: lossy UTF-8, control characters escaped, and every run of 12+
/// digits replaced by its display form.
pub fn scrub(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run >= 12 {
            out.push_str(display_pan(&bytes[i..i + run]).as_str());
            i += run;
        } else if run > 0 {
            out.extend(bytes[i..i + run].iter().map(|&b| char::from(b)));
            i += run;
        } else {
            let next = bytes[i..]
                .iter()
                .position(u8::is_ascii_digit)
                .map_or(bytes.len(), |p| i + p);
            for c in String::from_utf8_lossy(&bytes[i..next]).chars() {
                if c.is_control() && c != '\t' {
                    out.extend(c.escape_default());
                } else {
                    out.push(c);
                }
            }
            i = next;
        }
    }
    out
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

    /// The display form by its definition: digit by digit, shown or not.
    fn display_by_definition(digits: &[u8]) -> String {
        let n = digits.len();
        let shown = |i: usize| {
            let last_four = (8..=Masked::MAX).contains(&n) && i >= n - 4;
            (n >= 13 && i < 6) || last_four
        };
        (0..n.min(Masked::MAX))
            .map(|i| if shown(i) { char::from(digits[i]) } else { '*' })
            .collect()
    }

    #[test]
    fn display_matches_its_definition_for_every_length() {
        // A fixed digit pattern of every length from 0 to 24: not Luhn-checked, and never
        // printed whole by a failure (the assertion shows the masked forms only).
        let digits: Vec<u8> = (0..24u8).map(|i| b'0' + (i * 7 + 3) % 10).collect();
        for n in 0..=digits.len() {
            let d = &digits[..n];
            assert_eq!(
                display_pan(d).as_str(),
                display_by_definition(d),
                "length {n}"
            );
        }
    }

    fn finding(kind: Kind, span: Span, region: Span, cvv: Option<Span>) -> Finding {
        Finding {
            kind,
            span,
            region,
            brand: None,
            masked: display_code(0),
            confidence: crate::finding::Confidence::High,
            test_card: false,
            cvv,
            fingerprint: crate::finding::Fingerprint([0; 16]),
            reason: "",
        }
    }

    fn masked_with(text: &str, f: &Finding, spec: MaskSpec, window: Span) -> String {
        let mut out = text.as_bytes()[window.start..window.end].to_vec();
        mask_finding(text.as_bytes(), window, &mut out, f, spec);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn styles_and_codes() {
        let t = "card 4111 1111 1111 1111 cvv=123";
        let f = finding(
            Kind::Pan,
            Span::new(5, 24),
            Span::new(5, 24),
            Some(Span::new(29, 32)),
        );
        let all = Span::new(0, t.len());
        assert_eq!(
            masked_with(t, &f, MaskSpec::default(), all),
            "card 4111 11** **** 1111 cvv=***"
        );
        let last4 = MaskSpec {
            style: MaskStyle::Last4,
            mask_char: b'#',
        };
        assert_eq!(
            masked_with(t, &f, last4, all),
            "card #### #### #### 1111 cvv=###"
        );
        let full = MaskSpec {
            style: MaskStyle::Full,
            mask_char: b'X',
        };
        assert_eq!(
            masked_with(t, &f, full, all),
            "card XXXX XXXX XXXX XXXX cvv=XXX"
        );
        // Only the window is written: a finding straddling it is masked piecewise.
        assert_eq!(
            masked_with(t, &f, MaskSpec::default(), Span::new(12, 30)),
            "** **** 1111 cvv=*"
        );
    }

    #[test]
    fn display_lines_show_no_card_data() {
        let t = "card 4111111111111111 cvv=123 id 5500000000000004\r";
        let f = Finding {
            masked: display_pan(b"4111111111111111"),
            ..finding(
                Kind::Pan,
                Span::new(5, 21),
                Span::new(5, 21),
                Some(Span::new(26, 29)),
            )
        };
        let line = display_line(t.as_bytes(), Span::new(0, t.len()), &[f]);
        assert_eq!(
            line,
            "card [411111******1111] cvv=[***] id 550000******0004\\r"
        );
    }

    #[test]
    fn full_width_digits_get_a_full_width_mask() {
        let t = "番号：４１１１１１１１１１１１１１１１";
        let start = t.find('４').unwrap();
        let f = finding(
            Kind::Pan,
            Span::new(start, t.len()),
            Span::new(start, t.len()),
            None,
        );
        let out = masked_with(t, &f, MaskSpec::default(), Span::new(0, t.len()));
        // Not assert_eq: a failure would print the unmasked number.
        assert!(
            out == "番号：４１１１１１＊＊＊＊＊＊１１１１",
            "not masked as expected"
        );
        assert_eq!(out.len(), t.len());
        assert_eq!(fullwidth(b'#'), "＃".as_bytes());
        assert_eq!(fullwidth(b'x'), "ｘ".as_bytes());
    }

    #[test]
    fn track_keeps_layout() {
        let t = "%B4111111111111111^DOE/JOHN^2512101000?";
        let f = finding(Kind::Track1, Span::new(2, 18), Span::new(0, t.len()), None);
        assert_eq!(
            masked_with(t, &f, MaskSpec::default(), Span::new(0, t.len())),
            "%B411111******1111^***/****^**********?"
        );
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
