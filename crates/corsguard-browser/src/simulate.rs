//! [`simulate`]: a whole `fetch()` as Chromium 156 runs it — preflight if needed (and not
//! cached), the actual request, redirects — against a caller-supplied responder.

use serde::Serialize;
use url::Url;

use super::cache::{CacheLookup, PreflightCache};
use super::check::{ActualOutcome, PreflightOutcome, check_preflight, check_response};
use super::corp::{ResponseBlock, corp_check};
use super::lna::{LnaVerdict, check_local_network};
use super::message::{CorsError, CorsFailure};
use super::notes::{SpecNote, push_note};
use super::preflight::{SimRequest, build_actual_request, preflight_plan};
use super::request::{
    BrowserRequest, DroppedHeader, FetchError, FetchErrorKind, RequestMode, display_url,
    prepare_headers, same_origin_str,
};
use super::response::ResponseView;

/// The most redirects a fetch follows (`#http-redirect-fetch`).
pub const MAX_REDIRECTS: usize = 20;

/// One exchange of a simulated fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Step {
    /// An `OPTIONS` preflight went to the server.
    Preflight {
        /// What was sent.
        request: SimRequest,
        /// What came back.
        response: ResponseView,
        /// The result when the preflight passed.
        outcome: Option<PreflightOutcome>,
        /// The failure when it did not.
        failure: Option<CorsFailure>,
    },
    /// A preflight was needed but a cached result covered the request.
    PreflightCacheHit {
        /// The URL of the cached entry.
        url: String,
    },
    /// The actual request (or one hop of it, when redirected).
    Request {
        /// What was sent.
        request: SimRequest,
        /// What came back.
        response: ResponseView,
        /// The result when the response passed the checks.
        outcome: Option<ActualOutcome>,
        /// The failure when it did not.
        failure: Option<CorsFailure>,
    },
}

impl Step {
    /// Whether this step sent a preflight to the server.
    pub fn is_preflight(&self) -> bool {
        matches!(self, Step::Preflight { .. })
    }
}

/// The result of [`simulate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the page gets the response (for `no-cors`, an opaque one).
    pub allowed: bool,
    /// Every exchange, in order.
    pub steps: Vec<Step>,
    /// The CORS failure, if blocked by CORS (Chromium reports a `corsError`).
    pub failure: Option<CorsFailure>,
    /// A non-CORS failure (`TypeError` before sending, too many redirects, …).
    pub error: Option<FetchError>,
    /// The final response's outcome when allowed.
    pub response: Option<ActualOutcome>,
    /// The URL of the final (or failing) request.
    pub final_url: String,
    /// Header names script can read on the final response, lower-case, sorted.
    pub exposed_headers: Vec<String>,
    /// Script headers the browser did not send.
    pub dropped_headers: Vec<DroppedHeader>,
    /// Where the spec would decide differently; the verdict predicts Chromium.
    pub notes: Vec<SpecNote>,
    /// The Local Network Access check of the first request (or of the hop it blocked).
    pub local_network: Option<LnaVerdict>,
    /// A response blocked by CORP/COEP: not a CORS failure.
    pub blocked_by_response: Option<ResponseBlock>,
}

impl Verdict {
    fn new(url: &str) -> Self {
        Verdict {
            allowed: false,
            steps: Vec::new(),
            failure: None,
            error: None,
            response: None,
            final_url: url.to_owned(),
            exposed_headers: Vec::new(),
            dropped_headers: Vec::new(),
            notes: Vec::new(),
            local_network: None,
            blocked_by_response: None,
        }
    }

    /// How many `OPTIONS` requests reached the server.
    pub fn preflights_sent(&self) -> usize {
        self.steps.iter().filter(|s| s.is_preflight()).count()
    }

    /// The first preflight step (sent or served from cache), if any.
    pub fn preflight(&self) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| matches!(s, Step::Preflight { .. } | Step::PreflightCacheHit { .. }))
    }

    /// The last actual-request step, if any.
    pub fn actual(&self) -> Option<&Step> {
        self.steps
            .iter()
            .rev()
            .find(|s| matches!(s, Step::Request { .. }))
    }

    /// The CDP `corsError` of the failure, if any.
    pub fn cors_error(&self) -> Option<CorsError> {
        self.failure.as_ref().map(|f| f.cors_error)
    }

    /// Chromium's console message for the failure, if any.
    pub fn console_message(&self) -> Option<String> {
        self.failure.as_ref().map(CorsFailure::message)
    }
}

/// Runs `req` like Chromium 156 with an empty preflight cache: preflight if needed, then the
/// actual request, following redirects (up to 20), each response going through the checks of
/// this module. `respond` answers each [`SimRequest`] — the policy engine for
/// `corsguard explain`, the live server for `corsguard probe`.
///
/// ```
/// use corsguard_browser::{simulate, BrowserRequest, CorsError, ResponseView};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/api")
///     .method("DELETE");
/// let verdict = simulate(&req, |sent| {
///     if sent.is_preflight() {
///         ResponseView::new(204)
///             .with_header("Access-Control-Allow-Origin", "http://127.0.0.1:18081")
///             .with_header("Access-Control-Allow-Methods", "GET, PUT")
///     } else {
///         ResponseView::new(200)
///     }
/// });
/// assert!(!verdict.allowed);
/// assert_eq!(verdict.cors_error(), Some(CorsError::MethodDisallowedByPreflightResponse));
/// assert_eq!(
///     verdict.console_message().unwrap(),
///     "Access to fetch at 'http://127.0.0.1:18082/api' from origin 'http://127.0.0.1:18081' \
///      has been blocked by CORS policy: Method DELETE is not allowed by \
///      Access-Control-Allow-Methods in preflight response."
/// );
/// ```
pub fn simulate(req: &BrowserRequest, respond: impl FnMut(&SimRequest) -> ResponseView) -> Verdict {
    let mut cache = PreflightCache::new();
    simulate_with_cache(req, &mut cache, 0, respond)
}

/// Like [`simulate`], with a preflight cache that persists across calls and a logical clock
/// `now` (seconds), so that "max-age 600: one preflight for two identical requests" can be
/// predicted.
///
/// ```
/// use corsguard_browser::{simulate_with_cache, BrowserRequest, PreflightCache, ResponseView};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/u")
///     .method("PUT");
/// let mut respond = |_: &corsguard_browser::SimRequest| {
///     ResponseView::new(200)
///         .with_header("Access-Control-Allow-Origin", "*")
///         .with_header("Access-Control-Allow-Methods", "PUT")
///         .with_header("Access-Control-Max-Age", "0")
/// };
/// let mut cache = PreflightCache::new();
/// let first = simulate_with_cache(&req, &mut cache, 0, &mut respond);
/// let second = simulate_with_cache(&req, &mut cache, 0, &mut respond);
/// assert_eq!(first.preflights_sent() + second.preflights_sent(), 2); // max-age 0
/// ```
pub fn simulate_with_cache(
    req: &BrowserRequest,
    cache: &mut PreflightCache,
    now: u64,
    mut respond: impl FnMut(&SimRequest) -> ResponseView,
) -> Verdict {
    let mut verdict = Verdict::new(&req.url);
    if let Err(error) = req.validate() {
        verdict.error = Some(error);
        return verdict;
    }
    let initial_url = display_url(&req.url);
    verdict.dropped_headers = prepare_headers(req).dropped;
    let mut current = req.clone();
    let mut redirects = 0usize;
    loop {
        verdict.final_url = display_url(&current.url);
        let located = |mut failure: CorsFailure| {
            failure.url = display_url(&current.url);
            failure.redirected_from = (initial_url != failure.url).then(|| initial_url.clone());
            failure.page_origin = req.page_origin_serialized();
            failure
        };

        let cross = current.tainted_origin || current.is_cross_origin();
        if current.mode == RequestMode::SameOrigin && cross {
            verdict.failure = Some(located(CorsFailure::new(
                CorsError::DisallowedByMode,
                None,
                false,
            )));
            return verdict;
        }
        let cors_flag = current.cors_flag();
        let http = Url::parse(&current.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if cors_flag && !http {
            verdict.failure = Some(located(CorsFailure::new(
                CorsError::CorsDisabledScheme,
                None,
                false,
            )));
            return verdict;
        }

        // Local Network Access is checked when the connection is made: before anything,
        // the preflight included, is sent.
        let lna = check_local_network(&req.page_origin, &current.url, &req.network);
        let lna_block = lna.block;
        if verdict.local_network.is_none() || lna_block.is_some() {
            verdict.local_network = Some(lna);
        }
        if let Some(block) = lna_block {
            verdict.failure = Some(located(CorsFailure::local_network(block)));
            return verdict;
        }

        let plan = preflight_plan(&current);
        for note in plan.notes {
            push_note(&mut verdict.notes, note);
        }
        if let Some(preflight) = plan.request {
            if cache.lookup(&current, now) == CacheLookup::Hit {
                verdict.steps.push(Step::PreflightCacheHit {
                    url: display_url(&current.url),
                });
            } else {
                let response = respond(&preflight);
                match check_preflight(&current, &response) {
                    Ok(outcome) => {
                        for note in &outcome.notes {
                            push_note(&mut verdict.notes, note.clone());
                        }
                        cache.store(&current, &outcome, now);
                        verdict.steps.push(Step::Preflight {
                            request: preflight,
                            response,
                            outcome: Some(outcome),
                            failure: None,
                        });
                    }
                    Err(failure) => {
                        let failure = located(failure);
                        verdict.steps.push(Step::Preflight {
                            request: preflight,
                            response,
                            outcome: None,
                            failure: Some(failure.clone()),
                        });
                        verdict.failure = Some(failure);
                        return verdict;
                    }
                }
            }
        }

        let prepared = prepare_headers(&current);
        let request = build_actual_request(&current, &prepared);
        let response = respond(&request);
        let outcome = match check_response(&current, &response) {
            Ok(outcome) => outcome,
            Err(failure) => {
                let failure = located(failure);
                verdict.steps.push(Step::Request {
                    request,
                    response,
                    outcome: None,
                    failure: Some(failure.clone()),
                });
                verdict.failure = Some(failure);
                return verdict;
            }
        };
        let location = outcome.redirect_location.clone();
        let invalid_redirect = response.is_redirect() && location.is_none();
        let status = response.status;
        verdict.steps.push(Step::Request {
            request,
            response,
            outcome: Some(outcome.clone()),
            failure: None,
        });
        if invalid_redirect {
            verdict.error = Some(FetchError::new(
                FetchErrorKind::InvalidRedirect,
                "net::ERR_INVALID_REDIRECT: the Location header does not parse",
            ));
            return verdict;
        }
        let Some(location) = location else {
            if let Some(step) = verdict.steps.last()
                && let Step::Request { response, .. } = step
                && let Some(block) = corp_check(
                    &current,
                    current.destination,
                    current.embedder_policy,
                    response,
                )
            {
                if let Some(note) = &block.note {
                    push_note(&mut verdict.notes, note.clone());
                }
                verdict.blocked_by_response = Some(block);
                return verdict;
            }
            verdict.allowed = true;
            verdict.exposed_headers = outcome.exposed_headers.clone();
            verdict.response = Some(outcome);
            return verdict;
        };
        redirects += 1;
        if redirects > MAX_REDIRECTS {
            verdict.error = Some(FetchError::new(
                FetchErrorKind::TooManyRedirects,
                "net::ERR_TOO_MANY_REDIRECTS",
            ));
            return verdict;
        }
        current = next_hop(&current, status, location);
    }
}

/// The request for the next hop of a redirect (`#http-redirect-fetch`): method rewrite for
/// 301/302 POST and 303, body headers dropped with it, `Authorization` removed on a
/// cross-origin hop, and the tainted-origin flag.
fn next_hop(current: &BrowserRequest, status: u16, location: String) -> BrowserRequest {
    let mut next = current.clone();
    let method = current.normalized_method();
    let rewrite = ((status == 301 || status == 302) && method == "POST")
        || (status == 303 && method != "GET" && method != "HEAD");
    if rewrite {
        next.method = "GET".to_owned();
        next.headers.retain(|(name, _)| {
            ![
                "content-encoding",
                "content-language",
                "content-location",
                "content-type",
            ]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        });
    }
    if !same_origin_str(&current.url, &location) {
        next.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        if !same_origin_str(&current.page_origin, &current.url) {
            next.tainted_origin = true;
        }
    }
    next.url = location;
    next
}
