//! TEMPORARY linear matcher (replaced by the full one).
use super::{HostPattern, OriginPattern, PortPattern};

/// Matches request origins.
#[derive(Debug, Clone)]
pub(crate) struct OriginMatcher { patterns: Vec<OriginPattern> }

impl OriginMatcher {
    /// Builds the matcher.
    pub(crate) fn new(patterns: &[OriginPattern]) -> Self { OriginMatcher { patterns: patterns.to_vec() } }
    /// Index of the first matching entry.
    pub(crate) fn find(&self, origin: &[u8]) -> Option<usize> {
        let o = std::str::from_utf8(origin).ok()?;
        self.patterns.iter().position(|p| match p {
            OriginPattern::Exact(e) => e == o,
            OriginPattern::Regex(r) => r.is_match(o),
            OriginPattern::Wildcard { scheme, host, port } => {
                let Some((s, rest)) = o.split_once("://") else { return false };
                let (h, pt) = super::split_host_port(rest);
                s == scheme && match host { HostPattern::Exact(x) => h == x, HostPattern::Subdomains(b) => h.len() > b.len() + 1 && h.ends_with(&format!(".{b}")) }
                  && match port { PortPattern::Default => pt.is_none(), PortPattern::Any => true, PortPattern::Exact(p) => pt == Some(&p.to_string()) }
            }
            _ => false,
        })
    }
}
