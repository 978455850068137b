//! Magnetic-stripe track data around a PAN: Track 1 (`%B<PAN>^NAME^YYMM<svc>…?`) and Track 2
//! (`;<PAN>=YYMM<svc>…?`, also without sentinels, and with the `D` separator used by EMV's
//! Track 2 equivalent data).

use crate::finding::{Kind, Span};

/// Longest Track 1 the format allows (79 characters).
const TRACK1_MAX: usize = 79;
/// Longest Track 2 the format allows (40 characters).
const TRACK2_MAX: usize = 40;

/// If the PAN at `pan` is the account field of a track, returns the track's kind and the bytes
/// from the start sentinel (or format code) to the end sentinel (or the last data byte).
pub fn track_around(bytes: &[u8], pan: Span) -> Option<(Kind, Span)> {
    track1(bytes, pan).or_else(|| track2(bytes, pan))
}

fn track1(bytes: &[u8], pan: Span) -> Option<(Kind, Span)> {
    if pan.start == 0 || bytes[pan.start - 1] != b'B' || bytes.get(pan.end) != Some(&b'^') {
        return None;
    }
    let mut start = pan.start - 1;
    match pan.start.checked_sub(2).map(|i| bytes[i]) {
        Some(b'%') => start -= 1,
        Some(b) if b.is_ascii_alphanumeric() || b == b'_' => return None,
        _ => {}
    }
    let limit = (start + TRACK1_MAX).min(bytes.len());
    // The name field: up to 26 printable characters, then '^'.
    let name_end = (pan.end + 1..limit).find(|&i| bytes[i] == b'^')?;
    let mut end = name_end + 1;
    while end < limit && is_track1_data(bytes[end]) {
        end += 1;
    }
    if end < limit && bytes[end] == b'?' {
        end += 1;
    }
    // YYMM and a service code must follow the second '^'.
    if end - (name_end + 1) < 7 {
        return None;
    }
    Some((Kind::Track1, Span::new(start, end)))
}

fn is_track1_data(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase() || b == b' ' || b == b'/'
}

fn track2(bytes: &[u8], pan: Span) -> Option<(Kind, Span)> {
    let sep = *bytes.get(pan.end)?;
    if !(sep == b'=' || sep == b'D') {
        return None;
    }
    let limit = (pan.start + TRACK2_MAX).min(bytes.len());
    let data_start = pan.end + 1;
    let mut end = data_start;
    while end < limit && bytes[end].is_ascii_digit() {
        end += 1;
    }
    // Expiry YYMM and the 3-digit service code at least.
    if end - data_start < 7 {
        return None;
    }
    if end < bytes.len() && bytes[end] == b'?' {
        end += 1;
    }
    let start = if pan.start > 0 && bytes[pan.start - 1] == b';' {
        pan.start - 1
    } else {
        pan.start
    };
    Some((Kind::Track2, Span::new(start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(s: &str, pan: &str) -> Option<(Kind, String)> {
        let i = s.find(pan).unwrap();
        track_around(s.as_bytes(), Span::new(i, i + pan.len()))
            .map(|(k, sp)| (k, s[sp.start..sp.end].to_string()))
    }

    #[test]
    fn track_shapes() {
        let p = "4111111111111111";
        assert_eq!(
            find(&format!("raw=%B{p}^DOE/JOHN^2512101000000000000? x"), p),
            Some((Kind::Track1, format!("%B{p}^DOE/JOHN^2512101000000000000?")))
        );
        assert_eq!(
            find(&format!("t2=;{p}=25121010000000000? x"), p),
            Some((Kind::Track2, format!(";{p}=25121010000000000?")))
        );
        assert_eq!(
            find(&format!("T2={p}=2512101000 ok"), p),
            Some((Kind::Track2, format!("{p}=2512101000")))
        );
        assert_eq!(
            find(&format!("57 {p}D25121010000 ok"), p).map(|x| x.0),
            Some(Kind::Track2)
        );
        assert_eq!(find(&format!("card={p}=12 ok"), p), None);
        assert_eq!(find(&format!("xB{p}^A^2512101"), p), None);
    }
}
