//! Attacker-chosen bytes (origins, paths, request header values) as they are shown in logs
//! and traces: lossy UTF-8, cut to a bounded length with the real size appended, so one
//! hostile request can never write more than a few hundred bytes of it.

use std::fmt;

/// Bytes of a value shown before it is cut.
pub const SHOWN_BYTES: usize = 256;

/// A request value for a log line or a trace: at most [`SHOWN_BYTES`] bytes of it (lossy
/// UTF-8), then `…(N bytes)` when it was longer.
///
/// ```
/// let long = vec![b'a'; 1000];
/// let shown = corsguard::Clipped::new(&long).to_string();
/// assert!(shown.starts_with("aaaa"));
/// assert!(shown.ends_with("…(1000 bytes)"));
/// assert!(shown.len() < 300);
/// assert_eq!(corsguard::Clipped::new(b"https://a.example").to_string(), "https://a.example");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Clipped<'a> {
    bytes: &'a [u8],
    limit: usize,
}

impl<'a> Clipped<'a> {
    /// Shows `bytes` cut at [`SHOWN_BYTES`].
    pub fn new(bytes: &'a [u8]) -> Self {
        Clipped {
            bytes,
            limit: SHOWN_BYTES,
        }
    }

    /// Shows `bytes` cut at `limit` bytes.
    ///
    /// ```
    /// assert_eq!(corsguard::Clipped::with_limit(b"abcdef", 3).to_string(), "abc…(6 bytes)");
    /// ```
    pub fn with_limit(bytes: &'a [u8], limit: usize) -> Self {
        Clipped { bytes, limit }
    }
}

impl fmt::Display for Clipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes.len() <= self.limit {
            return f.write_str(&String::from_utf8_lossy(self.bytes));
        }
        let head = self.bytes.get(..self.limit).unwrap_or(self.bytes);
        write!(
            f,
            "{}…({} bytes)",
            String::from_utf8_lossy(head),
            self.bytes.len()
        )
    }
}

/// `Clipped::new(b).to_string()`.
pub(crate) fn clip(b: &[u8]) -> String {
    Clipped::new(b).to_string()
}
