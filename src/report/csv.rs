//! CSV: one row per finding, with a header (RFC 4180 quoting).

use super::{Record, Reporter};

/// The CSV reporter.
pub struct CsvReporter;

/// The header row.
pub const HEADER: &str = "path,line,column,offset,length,kind,brand,masked,confidence,test_card,cvv_line,cvv_column,fingerprint,commit,date";

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Reporter for CsvReporter {
    fn begin(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(HEADER.as_bytes());
        out.push(b'\n');
    }

    fn file(&self, records: &[Record], out: &mut Vec<u8>) {
        for r in records {
            let cols = [
                field(&r.path),
                r.line.to_string(),
                r.column.to_string(),
                r.offset.to_string(),
                r.length.to_string(),
                r.kind.as_str().to_string(),
                r.brand.unwrap_or("").to_string(),
                r.masked.to_string(),
                r.confidence.as_str().to_string(),
                r.test_card.to_string(),
                r.cvv.map_or(String::new(), |c| c.line.to_string()),
                r.cvv.map_or(String::new(), |c| c.column.to_string()),
                r.fingerprint.to_string(),
                r.commit.as_ref().map_or(String::new(), |c| c.0.clone()),
                r.commit.as_ref().map_or(String::new(), |c| c.1.clone()),
            ];
            out.extend_from_slice(cols.join(",").as_bytes());
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
    }
}
