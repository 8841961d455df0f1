//! Where Chromium 156 and the Fetch standard disagree (cors-protocol.md §15).
//!
//! The model always predicts what Chromium does; whenever the spec would have produced a
//! different outcome, a [`SpecNote`] is attached so callers can say "the spec says X; Chromium
//! currently does Y".

use std::fmt;

use serde::Serialize;

/// A known difference between the Fetch standard and Chromium 156.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Deviation {
    /// `Access-Control-Allow-Headers: *` on an uncredentialed preflight covers `Authorization`
    /// in Chromium (with a DevTools `DeprecationIssue`); the spec never lets `*` cover it
    /// (`#cors-non-wildcard-request-header-name`). §15 row 1.
    AuthorizationCoveredByWildcard,
    /// Chromium reads `Access-Control-Max-Age` with a signed 64-bit integer parser: `-1` means
    /// "do not cache" (spec: not `delta-seconds`, so 5 s), `+60` means 60 s (spec: 5 s), and a
    /// value too large for 64 bits means 5 s (spec: the cap). §15 row 2.
    MaxAge,
    /// Chromium safelists script-set client hints (`Save-Data`, `DPR`, `Width`,
    /// `Viewport-Width`, `Device-Memory`, `Downlink`, `ECT`, `RTT`) with plausible values, and
    /// `Intervention`; the spec preflights them. §15 row 3.
    ChromiumSafelistedHeader,
    /// Chromium's `Range` safelist check uses its HTTP range parser: the unit is matched
    /// case-insensitively (`Bytes=0-`), numbers may carry a `+` sign and must fit in 64 bits.
    /// The spec's "simple range header value" is case-sensitive and unbounded.
    RangeHeader,
    /// `Cross-Origin-Resource-Policy: same-site` between two origins on the same IP address:
    /// the spec calls them same site (equal hosts); Chromium never counts an IP-address host
    /// as same site for CORP and blocks the response.
    CorpSameSiteIpAddress,
}

impl Deviation {
    /// Stable identifier, e.g. `"AuthorizationCoveredByWildcard"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deviation::AuthorizationCoveredByWildcard => "AuthorizationCoveredByWildcard",
            Deviation::MaxAge => "MaxAge",
            Deviation::ChromiumSafelistedHeader => "ChromiumSafelistedHeader",
            Deviation::RangeHeader => "RangeHeader",
            Deviation::CorpSameSiteIpAddress => "CorpSameSiteIpAddress",
        }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One place where the spec and Chromium 156 give different answers for this request.
///
/// ```
/// use corsguard_browser::{Deviation, SpecNote};
///
/// let note = SpecNote::new(
///     Deviation::MaxAge,
///     "-1",
///     "a parse failure, so the preflight is cached for 5 s",
///     "treats it as 0: the preflight is not cached",
/// );
/// assert_eq!(
///     note.to_string(),
///     "Access-Control-Max-Age '-1': the spec says a parse failure, so the preflight is cached \
///      for 5 s; Chromium currently treats it as 0: the preflight is not cached"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecNote {
    /// Which deviation.
    pub deviation: Deviation,
    /// What it is about: a header name, a header value, …
    pub subject: String,
    /// What the spec prescribes.
    pub spec: String,
    /// What Chromium 156 does (the outcome the model predicts).
    pub chromium: String,
    /// The DevTools `Audits.issueAdded` issue Chromium raises, if any.
    pub devtools_issue: Option<String>,
}

impl SpecNote {
    /// Builds a note without a DevTools issue.
    pub fn new(
        deviation: Deviation,
        subject: impl Into<String>,
        spec: impl Into<String>,
        chromium: impl Into<String>,
    ) -> Self {
        SpecNote {
            deviation,
            subject: subject.into(),
            spec: spec.into(),
            chromium: chromium.into(),
            devtools_issue: None,
        }
    }

    /// Sets the DevTools issue Chromium reports.
    pub fn with_devtools_issue(mut self, issue: impl Into<String>) -> Self {
        self.devtools_issue = Some(issue.into());
        self
    }
}

impl fmt::Display for SpecNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.deviation {
            Deviation::AuthorizationCoveredByWildcard => {
                "Access-Control-Allow-Headers '*' covering request header"
            }
            Deviation::MaxAge => "Access-Control-Max-Age",
            Deviation::ChromiumSafelistedHeader => "request header",
            Deviation::RangeHeader => "Range",
            Deviation::CorpSameSiteIpAddress => "Cross-Origin-Resource-Policy",
        };
        write!(
            f,
            "{what} '{}': the spec says {}; Chromium currently {}",
            self.subject, self.spec, self.chromium
        )?;
        if let Some(issue) = &self.devtools_issue {
            write!(f, " (DevTools issue {issue})")?;
        }
        Ok(())
    }
}

/// Appends `note` unless an equal note is already present.
pub(crate) fn push_note(notes: &mut Vec<SpecNote>, note: SpecNote) {
    if !notes.contains(&note) {
        notes.push(note);
    }
}
