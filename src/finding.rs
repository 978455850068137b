//! What a detector reports: kinds, spans, confidence and the masked display form.
//!
//! Nothing here holds the raw digits of a card number or security code: a `Finding` carries
//! a byte [`Span`] into the scanned buffer and a [`Masked`] display string, so a finding can
//! be logged, printed or stored without leaking what it points at.

use std::fmt;

use crate::rules::BrandId;

/// A half-open byte range `[start, end)` into the buffer a detector was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First byte, inclusive.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// Builds a span; `start <= end` is the caller's promise.
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end);
        Span { start, end }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Returns true if and only if the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// What sort of card data a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A primary account number on its own.
    Pan,
    /// Magnetic-stripe Track 1 data (`%B<PAN>^NAME^YYMM…?`).
    Track1,
    /// Magnetic-stripe Track 2 data (`;<PAN>=YYMM…?`).
    Track2,
    /// A card security code (CVV2/CVC2/CID) with no card number near it.
    Cvv,
}

impl Kind {
    /// The lower-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pan => "pan",
            Kind::Track1 => "track1",
            Kind::Track2 => "track2",
            Kind::Cvv => "cvv",
        }
    }
}

/// How sure the detector is that a finding is real card data.
///
/// Ordered, so policies can say "at or above medium".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// Passes Luhn and the brand table, but its own label says it is something else
    /// (`order_id=…`, `imei=…`).
    Low,
    /// A bare number that passes Luhn and the brand table.
    Medium,
    /// Supported by context: card keywords, a security code, an expiry date, card-style
    /// grouping, or track data.
    High,
}

impl Confidence {
    /// The lower-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A masked display form of card data, e.g. `411111******1111` or `***`.
///
/// Only the masking functions in [`crate::mask`] construct one, so a `Masked` never holds a
/// full PAN. Held inline (a card number has at most 19 digits): every finding makes one,
/// and a heap string for each, copied into its record, was two allocations per finding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Masked {
    len: u8,
    text: [u8; Masked::MAX],
}

impl Masked {
    /// The longest display form: a card number's 19 digits.
    pub(crate) const MAX: usize = 19;

    /// The display form of `text`: ASCII digits and `*` only, at most [`Masked::MAX`] of
    /// them; any other byte, or any past the limit, shows as `*` or is dropped.
    pub(crate) fn new(text: &[u8]) -> Masked {
        let mut m = Masked {
            len: 0,
            text: [b'*'; Masked::MAX],
        };
        for (slot, &b) in m.text.iter_mut().zip(text) {
            *slot = if b.is_ascii_digit() { b } else { b'*' };
        }
        m.len = text.len().min(Masked::MAX) as u8;
        m
    }

    /// The masked text as bytes: ASCII digits and `*`, which no output format escapes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text[..usize::from(self.len)]
    }

    /// The masked text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (see `new`).
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Display for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Masked({})", self.as_str())
    }
}

/// A keyed, non-reversible identifier of the card data behind a finding (see
/// [`crate::fingerprint`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 16]);

impl Fingerprint {
    /// The 32 lower-case hex digits every report shows.
    pub fn hex(&self) -> [u8; 32] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 32];
        for (pair, b) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
        hex
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One write of 32 hex digits: every finding of a report shows one.
        f.write_str(std::str::from_utf8(&self.hex()).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// One piece of card data found in a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// The number as written, separators included (for tracks: the PAN inside the track;
    /// for a lone code: the code's digits).
    pub span: Span,
    /// Every byte that must be masked to make the finding unreadable: the PAN, the whole
    /// track after the PAN, or the code.
    pub region: Span,
    /// Brand id from the brand table (`visa`, `amex`, …); `None` for a lone security code.
    pub brand: Option<BrandId>,
    /// The display form: first six and last four digits, or `***`.
    pub masked: Masked,
    /// How sure the detector is.
    pub confidence: Confidence,
    /// Whether the number is a well-known public test card.
    pub test_card: bool,
    /// A security code attached to this PAN, if one was found within the window.
    pub cvv: Option<Span>,
    /// Keyed, non-reversible identity of the card data.
    pub fingerprint: Fingerprint,
    /// The rule that decided the confidence, for `--explain`.
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_show_as_lower_case_hex() {
        let mut raw = [0u8; 16];
        raw[0] = 0x01;
        raw[1] = 0xab;
        raw[15] = 0xf0;
        let shown = Fingerprint(raw).to_string();
        assert_eq!(shown, format!("01ab{}f0", "0".repeat(26)));
        assert_eq!(
            format!("{:?}", Fingerprint(raw)),
            format!("Fingerprint({shown})")
        );
    }
}
