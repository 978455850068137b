//! Security codes in tables, found by position rather than by a keyword next to the digits:
//! a CSV/TSV column whose header names a code (`cvv`, `card_cvv`, `security_code`), and an SQL
//! `INSERT … (cols) VALUES (…)` whose column list names one.

use crate::finding::Span;
use crate::rules::Keywords;

use super::lookalike::split_words;

/// The header row of a delimited file, when one of its columns holds security codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableHeader {
    /// The field delimiter (`,` `;` tab `|`).
    pub delimiter: u8,
    /// Number of columns in the header.
    pub columns: usize,
    /// Index of the security-code column.
    pub code_column: usize,
}

/// Reads a header row (a file's first line): `Some` when it splits into 3+ columns and one
/// column's name is a security-code word.
pub fn csv_header(first_line: &[u8], kw: &Keywords) -> Option<TableHeader> {
    let line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    // The delimiter that gives the most columns wins.
    let (delimiter, fields) = [b',', b';', b'\t', b'|']
        .into_iter()
        .map(|d| (d, split_fields(line, 0, d)))
        .max_by_key(|(_, f)| f.len())?;
    if fields.len() < 3 {
        return None;
    }
    let code_column = fields
        .iter()
        .position(|f| names_a_code(&line[f.start..f.end], kw))?;
    Some(TableHeader {
        delimiter,
        columns: fields.len(),
        code_column,
    })
}

/// The security code of the row holding `pan`, from the header's code column.
pub fn csv_code(bytes: &[u8], pan: Span, header: &TableHeader) -> Option<Span> {
    let (ls, le) = line_bounds(bytes, pan);
    let line_end = if le > ls && bytes[le - 1] == b'\r' {
        le - 1
    } else {
        le
    };
    let fields = split_fields(&bytes[..line_end], ls, header.delimiter);
    if fields.len() != header.columns {
        return None;
    }
    let f = fields[header.code_column];
    if f.start <= pan.start && pan.end <= f.end {
        return None;
    }
    code_value(bytes, f)
}

/// The security code of the SQL `VALUES` tuple holding `pan`, from the `INSERT` column list
/// on the same line.
pub fn sql_code(bytes: &[u8], pan: Span, kw: &Keywords) -> Option<Span> {
    let (ls, le) = line_bounds(bytes, pan);
    let line = &bytes[ls..le];
    let values_at = find_values(line)?;
    let before = &line[..values_at];
    let open = memchr::memrchr(b'(', before)?;
    let close = open + memchr::memchr(b')', &before[open..])?;
    let names = split_fields(&line[..close], open + 1, b',');
    let code_col = names
        .iter()
        .position(|f| names_a_code(&line[f.start..f.end], kw))?;
    // Walk the tuples after VALUES, quote-aware, to find the one holding the PAN.
    let mut i = ls + values_at + 6;
    while i < le {
        let Some(o) = memchr::memchr(b'(', &bytes[i..le]) else {
            break;
        };
        let start = i + o + 1;
        let end = tuple_end(bytes, start, le)?;
        if start <= pan.start && pan.end <= end {
            let fields = split_fields(&bytes[..end], start, b',');
            if fields.len() != names.len() {
                return None;
            }
            return code_value(bytes, fields[code_col]);
        }
        i = end + 1;
    }
    None
}

/// Returns true if and only if a column name (`card_cvv`, `"CVV2"`, `security code`) names a
/// security code.
fn names_a_code(name: &[u8], kw: &Keywords) -> bool {
    let words = split_words(name);
    if words.is_empty() {
        return false;
    }
    let joined = format!(" {} ", words.join(" "));
    kw.cvv_strong
        .en
        .iter()
        .chain(&kw.cvv_weak.en)
        .any(|k| joined.contains(&format!(" {} ", k.to_ascii_lowercase())))
}

/// A field holding only 3 or 4 digits (quotes and blanks around them allowed): their span.
fn code_value(bytes: &[u8], f: Span) -> Option<Span> {
    let trim = |b: u8| matches!(b, b' ' | b'\t' | b'"' | b'\'');
    let mut s = f.start;
    let mut e = f.end;
    while s < e && trim(bytes[s]) {
        s += 1;
    }
    while e > s && trim(bytes[e - 1]) {
        e -= 1;
    }
    let digits = &bytes[s..e];
    ((3..=4).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit))
        .then(|| Span::new(s, e))
}

/// Splits `bytes[from..]` into fields on `delim`, ignoring delimiters inside quotes.
fn split_fields(bytes: &[u8], from: usize, delim: u8) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = from;
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == delim => {
                out.push(Span::new(start, i));
                start = i + 1;
            }
            None => {}
        }
    }
    out.push(Span::new(start, bytes.len()));
    out
}

/// The index of the `)` closing a tuple that starts at `start`, quote-aware.
fn tuple_end(bytes: &[u8], start: usize, limit: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < limit {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' && q != b'`' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b')' => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// Longest stretch of a line looked at on each side of a PAN: table rows are short, and a
/// megabyte-long line must not be searched once per PAN on it. It must also lie within the
/// [`super::CONTEXT`] a scan keeps around every read buffer (less the longest number's
/// reach past a buffer's end), so that a PAN's code is decided the same way wherever the
/// file is split: at 4 KiB, a long line of repeated `INSERT`s had its code attached in a
/// buffer that started mid-line and not in the whole file (found by the `redact` fuzzer).
const ROW_WINDOW: usize = 2 * super::CVV_WINDOW;
const _: () = assert!(ROW_WINDOW + 128 <= super::CONTEXT);

fn line_bounds(bytes: &[u8], span: Span) -> (usize, usize) {
    let lo = span.start.saturating_sub(ROW_WINDOW);
    let hi = (span.end + ROW_WINDOW).min(bytes.len());
    let ls = memchr::memrchr(b'\n', &bytes[lo..span.start]).map_or(lo, |i| lo + i + 1);
    let le = memchr::memchr(b'\n', &bytes[span.end..hi]).map_or(hi, |i| span.end + i);
    (ls, le)
}

/// Finds `VALUES` or `values` (the spellings SQL dumps use): this runs for every PAN without
/// a code, over a few hundred bytes, where building a substring searcher would cost more
/// than the search.
fn find_values(hay: &[u8]) -> Option<usize> {
    memchr::memchr2_iter(b'V', b'v', hay).find(|&i| {
        let word = &hay[i..];
        word.starts_with(b"VALUES") || word.starts_with(b"values")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn span_of(s: &str, part: &str) -> Span {
        let i = s.find(part).unwrap();
        Span::new(i, i + part.len())
    }

    #[test]
    fn csv_code_column() {
        let r = Rules::builtin().unwrap();
        let h = csv_header(b"order_id,card_number,exp,cvv,amount\r", &r.keywords).unwrap();
        assert_eq!((h.delimiter, h.columns, h.code_column), (b',', 5, 3));
        let row = "x\nORD-1,NNNNNNNNNNNNNNNN,05/25,823,1.00\r\n";
        let code = csv_code(row.as_bytes(), span_of(row, "NNNNNNNNNNNNNNNN"), &h).unwrap();
        assert_eq!(&row[code.start..code.end], "823");
        let short = "ORD-1,NNNNNNNNNNNNNNNN,05/25,823\n";
        assert_eq!(csv_code(short.as_bytes(), span_of(short, "NNNN"), &h), None);
        assert!(csv_header(b"a,b,c", &r.keywords).is_none());
        assert!(csv_header(b"cvv_attempts;b", &r.keywords).is_none());
        let t = csv_header(b"id\tpan\tsecurity_code", &r.keywords).unwrap();
        assert_eq!((t.delimiter, t.code_column), (b'\t', 2));
    }

    #[test]
    fn sql_insert_columns() {
        let r = Rules::builtin().unwrap();
        let s = "INSERT INTO `pm` (`id`,`card_number`,`card_exp`,`card_cvv`,`holder`) VALUES (1,'NNNN','02/26','9013','O''Brien, S'),(2,'MMMM','03/27','123','B');";
        let c = sql_code(s.as_bytes(), span_of(s, "NNNN"), &r.keywords).unwrap();
        assert_eq!(&s[c.start..c.end], "9013");
        let c = sql_code(s.as_bytes(), span_of(s, "MMMM"), &r.keywords).unwrap();
        assert_eq!(&s[c.start..c.end], "123");
        let no = "INSERT INTO t (`id`,`card_number`) VALUES (1,'NNNN');";
        assert_eq!(
            sql_code(no.as_bytes(), span_of(no, "NNNN"), &r.keywords),
            None
        );
    }

    #[test]
    fn values_in_either_spelling_earliest_first() {
        assert_eq!(find_values(b"insert into t values (1)"), Some(14));
        assert_eq!(find_values(b"x VALUE vValues VALUES values"), Some(16));
        assert_eq!(find_values(b"a values VALUES"), Some(2));
        assert_eq!(find_values(b"Values VALUE valu"), None);
    }
}
