//! Refusal log lines: one info line per refused request, written from the request's bytes.

use super::{Decision, Refusal, RequestHead};
use crate::csrf::{CsrfRefusal, CsrfVerdict};

impl Decision {
    /// Writes the info line [`Policy::decide`] writes for a refused request (target
    /// `corsguard`; the origin, path and request headers cut at [`crate::SHOWN_BYTES`]).
    /// Does nothing for a request that was not refused.
    ///
    /// [`Policy::decide`]: crate::Policy::decide
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let head = corsguard::adapter::RequestHead::new("GET", "/");
    /// p.decide_silent(&head).log_refusal(&head); // not refused: writes nothing
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    #[cold]
    pub fn log_refusal(&self, req: &RequestHead<'_>) {
        if let Some(r) = self.refusal {
            log_refusal(req, self, &RefusalReason { req, refusal: r });
        }
        if let Some(r) = self.csrf.refusal() {
            log_csrf_refusal(req, self, r);
        }
    }
}

/// The one-line reason of a refusal, written straight from the request's bytes.
struct RefusalReason<'r, 'a> {
    req: &'r RequestHead<'a>,
    refusal: Refusal,
}

impl std::fmt::Display for RefusalReason<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn lossy(b: Option<&[u8]>) -> crate::Clipped<'_> {
            crate::Clipped::new(b.unwrap_or_default())
        }
        match self.refusal {
            Refusal::OriginNotAllowed => {
                write!(f, "origin `{}` is not allowed", lossy(self.req.origin))
            }
            Refusal::NullOrigin => f.write_str("`null` origin refused (allow_null_origin is off)"),
            Refusal::OriginTooLong => f.write_str("Origin over 326 bytes"),
            Refusal::MultipleOrigins => f.write_str("several Origin header lines"),
            Refusal::MethodNotAllowed => {
                write!(f, "method `{}` is not allowed", lossy(self.req.acrm))
            }
            Refusal::InvalidRequestMethod => write!(
                f,
                "Access-Control-Request-Method `{}` is not a single method token",
                lossy(self.req.acrm)
            ),
            Refusal::HeaderNotAllowed => write!(
                f,
                "a requested header is not allowed (Access-Control-Request-Headers: {})",
                AcrhLines(self.req.request_header_lines())
            ),
            Refusal::MalformedRequestHeaders => f.write_str(
                "Access-Control-Request-Headers is malformed or over the parsing limits",
            ),
            Refusal::PrivateNetworkNotAllowed => {
                f.write_str("private network access was requested and allow_private_network is off")
            }
        }
    }
}

/// `Access-Control-Request-Headers` lines joined by ` | `, the whole cut at
/// [`crate::SHOWN_BYTES`] (a few lines of 4 KiB never make a 16 KiB log line).
struct AcrhLines<'r, 'a>(&'r [&'a [u8]]);

impl std::fmt::Display for AcrhLines<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: usize = self.0.iter().map(|l| l.len() + 3).sum::<usize>();
        let mut budget = crate::SHOWN_BYTES;
        for (i, line) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            let take = line.len().min(budget);
            budget -= take;
            let head = line.get(..take).unwrap_or(line);
            f.write_str(&String::from_utf8_lossy(head))?;
            if budget == 0 {
                return write!(f, "…({} bytes)", total.saturating_sub(3));
            }
        }
        Ok(())
    }
}

fn log_csrf_refusal(req: &RequestHead<'_>, d: &Decision, r: CsrfRefusal) {
    let enforced = matches!(d.csrf, CsrfVerdict::Refused { enforced: true, .. });
    tracing::info!(
        target: "corsguard",
        origin = %crate::Clipped::new(req.origin.unwrap_or_default()),
        sec_fetch_site = %crate::Clipped::new(req.sec_fetch_site.unwrap_or_default()),
        method = %crate::Clipped::new(req.method.as_bytes()),
        path = %crate::Clipped::new(req.path.as_bytes()),
        refusal = r.code(),
        enforced,
        "cross-origin request refused (CSRF): {r}"
    );
}

pub(super) fn log_refusal(req: &RequestHead<'_>, d: &Decision, reason: &dyn std::fmt::Display) {
    if let Some(r) = d.refusal {
        tracing::info!(
            target: "corsguard",
            origin = %crate::Clipped::new(req.origin.unwrap_or_default()),
            method = %crate::Clipped::new(req.method.as_bytes()),
            path = %crate::Clipped::new(req.path.as_bytes()),
            refusal = r.code(),
            shadow = d.shadow,
            "CORS request refused: {reason}"
        );
    }
}
