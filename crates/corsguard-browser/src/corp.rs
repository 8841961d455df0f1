//! Blocks that are not CORS: `Cross-Origin-Resource-Policy` (CORP) on `no-cors` responses and
//! the page's `Cross-Origin-Embedder-Policy` (COEP), per Fetch `#cross-origin-resource-policy-check`
//! as Chromium 156 implements it (`services/network/public/cpp/cross_origin_resource_policy.cc`).
//!
//! A `cors`-mode request (`fetch()` default, `<img crossorigin>`) is judged by CORS alone; CORP
//! only matters for `no-cors` subresources (`<img>`, `<script>`, `<link rel=stylesheet>`,
//! `fetch(url, {mode: 'no-cors'})` …) and, under COEP, for `<iframe>` navigations.

use std::fmt;

use serde::Serialize;
use url::Url;

use crate::notes::{Deviation, SpecNote};
use crate::request::{BrowserRequest, RequestMode, site_of, tuple_origin};
use crate::response::ResponseView;

/// A request's destination (`#concept-request-destination`, sent as `Sec-Fetch-Dest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Destination {
    /// `fetch()` / XHR (`""`, `Sec-Fetch-Dest: empty`).
    #[default]
    Empty,
    /// `<img>`.
    Image,
    /// `<script>`.
    Script,
    /// `<link rel=stylesheet>`.
    Style,
    /// `@font-face`.
    Font,
    /// `<audio>`.
    Audio,
    /// `<video>`.
    Video,
    /// `<track>`.
    Track,
    /// `<iframe>` (a nested navigation).
    Iframe,
    /// `<object>`.
    Object,
    /// `<embed>`.
    Embed,
}

impl Destination {
    /// Every destination the model knows.
    pub const ALL: [Destination; 11] = [
        Destination::Empty,
        Destination::Image,
        Destination::Script,
        Destination::Style,
        Destination::Font,
        Destination::Audio,
        Destination::Video,
        Destination::Track,
        Destination::Iframe,
        Destination::Object,
        Destination::Embed,
    ];

    /// Parses the `Sec-Fetch-Dest` spelling (`image`, `script`, …).
    pub fn parse(s: &str) -> Option<Destination> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The `Sec-Fetch-Dest` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Destination::Empty => "empty",
            Destination::Image => "image",
            Destination::Script => "script",
            Destination::Style => "style",
            Destination::Font => "font",
            Destination::Audio => "audio",
            Destination::Video => "video",
            Destination::Track => "track",
            Destination::Iframe => "iframe",
            Destination::Object => "object",
            Destination::Embed => "embed",
        }
    }

    /// The HTML that makes such a request without CORS, for explanations.
    pub fn element(self) -> &'static str {
        match self {
            Destination::Empty => "fetch(url, {mode: 'no-cors'})",
            Destination::Image => "<img src>",
            Destination::Script => "<script src>",
            Destination::Style => "<link rel=stylesheet href>",
            Destination::Font => "@font-face src",
            Destination::Audio => "<audio src>",
            Destination::Video => "<video src>",
            Destination::Track => "<track src>",
            Destination::Iframe => "<iframe src>",
            Destination::Object => "<object data>",
            Destination::Embed => "<embed src>",
        }
    }

    /// Whether the request is a navigation (an `<iframe>`).
    pub fn is_navigation(self) -> bool {
        self == Destination::Iframe
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The page's `Cross-Origin-Embedder-Policy` value (`#embedder-policy-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmbedderPolicy {
    /// No COEP (or an unparsable one).
    #[default]
    UnsafeNone,
    /// `require-corp`: every cross-origin `no-cors` subresource must opt in with CORP.
    RequireCorp,
    /// `credentialless`: cross-origin `no-cors` subresources are fetched without cookies and
    /// need no CORP.
    Credentialless,
}

impl EmbedderPolicy {
    /// Parses a `Cross-Origin-Embedder-Policy` value (a structured-header token, parameters
    /// such as `report-to` ignored); anything else is `unsafe-none`.
    ///
    /// ```
    /// use corsguard_browser::EmbedderPolicy;
    /// assert_eq!(EmbedderPolicy::parse("require-corp; report-to=\"e\""), EmbedderPolicy::RequireCorp);
    /// assert_eq!(EmbedderPolicy::parse("Require-Corp"), EmbedderPolicy::UnsafeNone);
    /// ```
    pub fn parse(value: &str) -> EmbedderPolicy {
        match value.split(';').next().unwrap_or("").trim() {
            "require-corp" => EmbedderPolicy::RequireCorp,
            "credentialless" => EmbedderPolicy::Credentialless,
            _ => EmbedderPolicy::UnsafeNone,
        }
    }

    /// The header spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EmbedderPolicy::UnsafeNone => "unsafe-none",
            EmbedderPolicy::RequireCorp => "require-corp",
            EmbedderPolicy::Credentialless => "credentialless",
        }
    }
}

/// Why Chromium blocked a response that CORS never looked at: the CDP `Network.BlockedReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum BlockedReason {
    /// `Cross-Origin-Resource-Policy: same-origin` on a cross-origin response.
    CorpNotSameOrigin,
    /// No CORP on a cross-origin response while the page has COEP (CORP defaults to
    /// `same-origin`).
    CorpNotSameOriginAfterDefaultedToSameOriginByCoep,
    /// `Cross-Origin-Resource-Policy: same-site` on a cross-site response.
    CorpNotSameSite,
    /// An `<iframe>` in a COEP page whose document has no COEP itself.
    CoepFrameResourceNeedsCoepHeader,
}

impl BlockedReason {
    /// The CDP `Network.loadingFailed.blockedReason` spelling.
    pub fn as_cdp(self) -> &'static str {
        match self {
            BlockedReason::CorpNotSameOrigin => "corp-not-same-origin",
            BlockedReason::CorpNotSameOriginAfterDefaultedToSameOriginByCoep => {
                "corp-not-same-origin-after-defaulted-to-same-origin-by-coep"
            }
            BlockedReason::CorpNotSameSite => "corp-not-same-site",
            BlockedReason::CoepFrameResourceNeedsCoepHeader => {
                "coep-frame-resource-needs-coep-header"
            }
        }
    }

    /// The net error Chromium reports (`Network.loadingFailed.errorText`) for a subresource;
    /// a blocked `<iframe>` reports plain `net::ERR_BLOCKED_BY_RESPONSE`.
    pub fn net_error(self, destination: Destination) -> String {
        if destination.is_navigation() {
            return "net::ERR_BLOCKED_BY_RESPONSE".to_owned();
        }
        let suffix = match self {
            BlockedReason::CorpNotSameOrigin => "NotSameOrigin",
            BlockedReason::CorpNotSameOriginAfterDefaultedToSameOriginByCoep => {
                "NotSameOriginAfterDefaultedToSameOriginByCoep"
            }
            BlockedReason::CorpNotSameSite => "NotSameSite",
            BlockedReason::CoepFrameResourceNeedsCoepHeader => "CoepFrameResourceNeedsCoepHeader",
        };
        format!("net::ERR_BLOCKED_BY_RESPONSE.{suffix}")
    }
}

impl fmt::Display for BlockedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_cdp())
    }
}

/// A response blocked by CORP or COEP (not by CORS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseBlock {
    /// The CDP `blockedReason`.
    pub reason: BlockedReason,
    /// The request's destination.
    pub destination: Destination,
    /// The response's `Cross-Origin-Resource-Policy` (combined lines), if any.
    pub corp: Option<String>,
    /// The page's COEP.
    pub coep: EmbedderPolicy,
    /// The blocked URL.
    pub url: String,
    /// Where the spec would have allowed the response.
    pub note: Option<SpecNote>,
}

impl ResponseBlock {
    /// The net error text (`Network.loadingFailed.errorText`).
    pub fn net_error(&self) -> String {
        self.reason.net_error(self.destination)
    }

    /// Chromium's console line: `Failed to load resource: net::ERR_BLOCKED_BY_RESPONSE.…`.
    pub fn console_message(&self) -> String {
        format!("Failed to load resource: {}", self.net_error())
    }
}

/// Runs the CORP check (and, for an `<iframe>`, the COEP-of-the-child check) on a response to
/// `req`, with the page's `coep`: `None` when the response is allowed. A block carries a [`SpecNote`] where the spec would have
/// allowed the response.
///
/// ```
/// use corsguard_browser::{corp_check, BlockedReason, BrowserRequest, Destination, EmbedderPolicy,
///     RequestMode, ResponseView};
///
/// let img = BrowserRequest::new("https://app.example", "https://cdn.example/logo.png")
///     .mode(RequestMode::NoCors);
/// let plain = ResponseView::new(200);
/// let block = corp_check(&img, Destination::Image, EmbedderPolicy::RequireCorp, &plain).unwrap();
/// assert_eq!(block.reason, BlockedReason::CorpNotSameOriginAfterDefaultedToSameOriginByCoep);
/// let opted_in = ResponseView::new(200).with_header("Cross-Origin-Resource-Policy", "cross-origin");
/// assert!(corp_check(&img, Destination::Image, EmbedderPolicy::RequireCorp, &opted_in).is_none());
/// // without COEP, no CORP header is needed; with credentialless, neither
/// assert!(corp_check(&img, Destination::Image, EmbedderPolicy::UnsafeNone, &plain).is_none());
/// assert!(corp_check(&img, Destination::Image, EmbedderPolicy::Credentialless, &plain).is_none());
/// ```
pub fn corp_check(
    req: &BrowserRequest,
    destination: Destination,
    coep: EmbedderPolicy,
    response: &ResponseView,
) -> Option<ResponseBlock> {
    let navigation = destination.is_navigation();
    if !navigation && req.mode != RequestMode::NoCors {
        return None;
    }
    if navigation && coep == EmbedderPolicy::UnsafeNone {
        return None;
    }
    let corp = response.get("cross-origin-resource-policy");
    let block = |reason| ResponseBlock {
        reason,
        destination,
        corp: corp.clone(),
        coep,
        url: req.url.clone(),
        note: None,
    };
    // Chromium parses the combined value: two lines, or `same-site, same-origin`, are a parse
    // error, which counts as no header.
    let mut policy = match corp.as_deref() {
        Some(p @ ("same-origin" | "same-site" | "cross-origin")) => Some(p),
        _ => None,
    };
    // Under `credentialless`, a cross-origin no-cors request goes without cookies, so CORP is
    // required only for navigations.
    let required = match coep {
        EmbedderPolicy::UnsafeNone => false,
        EmbedderPolicy::RequireCorp => true,
        EmbedderPolicy::Credentialless => navigation,
    };
    let defaulted = policy.is_none() && required;
    if defaulted {
        policy = Some("same-origin");
    }
    let page = tuple_origin(&req.page_origin);
    let target = Url::parse(&req.url).ok().map(|u| u.origin());
    let same_origin = matches!((&page, &target), (Some(p), Some(t)) if p == t);
    match policy {
        None | Some("cross-origin") => {}
        _ if same_origin => {}
        Some("same-origin") => {
            return Some(block(if defaulted {
                BlockedReason::CorpNotSameOriginAfterDefaultedToSameOriginByCoep
            } else {
                BlockedReason::CorpNotSameOrigin
            }));
        }
        _ => {
            let (allowed, ip_hosts) = same_site_for_corp(&req.page_origin, &req.url);
            if !allowed {
                let mut blocked = block(BlockedReason::CorpNotSameSite);
                blocked.note = ip_hosts.then(|| {
                    SpecNote::new(
                        Deviation::CorpSameSiteIpAddress,
                        "same-site",
                        "two origins on the same IP address are same site, so the response is allowed",
                        "never counts an IP-address host as same site: the response is blocked",
                    )
                });
                return Some(blocked);
            }
        }
    }
    if navigation {
        let child = response
            .get("cross-origin-embedder-policy")
            .map_or(EmbedderPolicy::UnsafeNone, |v| EmbedderPolicy::parse(&v));
        if child == EmbedderPolicy::UnsafeNone && !same_origin {
            return Some(block(BlockedReason::CoepFrameResourceNeedsCoepHeader));
        }
    }
    None
}

/// Chromium's `ShouldAllowSameSite`: never for IP-address hosts; otherwise same registrable
/// domain, and not an `http` page reading an `https` response. The second value says whether
/// an IP-address host decided it (where the spec would say same site for equal hosts).
fn same_site_for_corp(page: &str, url: &str) -> (bool, bool) {
    let (Ok(p), Ok(u)) = (Url::parse(page), Url::parse(url)) else {
        return (false, false);
    };
    let is_ip = |x: &Url| matches!(x.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)));
    if is_ip(&p) || is_ip(&u) {
        let spec_same =
            p.host_str() == u.host_str() && (p.scheme() == "https" || u.scheme() != "https");
        return (false, spec_same);
    }
    let site = |x: &Url| x.host_str().map(|h| site_of(h).to_ascii_lowercase());
    let allowed = site(&p) == site(&u) && (p.scheme() == "https" || u.scheme() != "https");
    (allowed, false)
}
