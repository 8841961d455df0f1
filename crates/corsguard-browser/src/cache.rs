//! The CORS-preflight cache (`#cors-preflight-cache`), modelled on Chromium 156's
//! `PreflightCache` so that "how many OPTIONS will the server see" can be predicted.
//!
//! Chromium keeps **one result per (page origin, URL)** (plus the network partition, not
//! modelled): the methods and header names of the last successful preflight, whether it was
//! credentialed, and an expiry. A lookup that finds the entry stale or insufficient **erases**
//! it; a successful preflight replaces it. The spec's per-method / per-header entries give the
//! same answers for the scenarios of cors-protocol.md §7; where they differ (the spec merges
//! entries of successive preflights, and clears them after any network error on the
//! CORS-with-preflight path), this module follows Chromium and [`PreflightCache::clear_for`]
//! is available to model the spec.
//!
//! Time is a logical clock in seconds supplied by the caller; an entry created at `t` with
//! max-age `m` serves requests at `t' < t + m` (so max-age 0 never serves anything).

use serde::Serialize;
use url::Url;

use super::check::{Allowed, HeaderCheck, PreflightOutcome};
use super::preflight::preflight_plan;
use super::request::{BrowserRequest, prepare_headers};
use super::safelist::analyze_headers;

/// Chromium does not cache preflights for URLs this long or longer (`kMaxKeyLength`).
pub const MAX_CACHED_URL_LEN: usize = 1024;

/// One cached preflight result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheEntry {
    /// The page's serialized origin.
    pub origin: String,
    /// The request URL (serialized, without fragment).
    pub url: String,
    /// Whether the preflight was credentialed.
    pub credentials: bool,
    /// Allowed methods (case preserved).
    pub methods: Vec<String>,
    /// Allowed header names (lower-case).
    pub header_names: Vec<String>,
    /// Logical time (seconds) at which the entry stops serving requests.
    pub expires_at: u64,
}

/// The result of a cache lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CacheLookup {
    /// A fresh entry covers the request: no preflight is sent.
    Hit,
    /// No entry for (origin, URL).
    Miss,
    /// The entry expired (and was removed).
    Stale,
    /// The entry does not cover this request (and was removed): e.g. it is uncredentialed and
    /// the request is credentialed, or a method/header is not in it. Chromium checks cached
    /// entries with `Authorization` excluded from `*`, so a request with `Authorization` that
    /// only `*` covered always misses.
    Insufficient,
}

/// A model of Chromium's preflight cache.
///
/// ```
/// use corsguard_browser::{
///     check_preflight, BrowserRequest, CacheLookup, PreflightCache, ResponseView,
/// };
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/u")
///     .method("PUT");
/// let resp = ResponseView::new(204)
///     .with_header("Access-Control-Allow-Origin", "*")
///     .with_header("Access-Control-Allow-Methods", "PUT")
///     .with_header("Access-Control-Max-Age", "600");
/// let mut cache = PreflightCache::new();
/// assert_eq!(cache.lookup(&req, 0), CacheLookup::Miss);
/// cache.store(&req, &check_preflight(&req, &resp).unwrap(), 0);
/// assert_eq!(cache.lookup(&req, 599), CacheLookup::Hit);
/// assert_eq!(cache.lookup(&req, 600), CacheLookup::Stale);
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct PreflightCache {
    entries: Vec<CacheEntry>,
    disabled: bool,
}

impl PreflightCache {
    /// An empty cache (a fresh profile or browser context).
    pub fn new() -> Self {
        Self::default()
    }

    /// Models DevTools "Disable cache" / CDP `Network.setCacheDisabled(true)`, which also
    /// bypasses the preflight cache: lookups always miss and nothing is stored.
    pub fn set_disabled(&mut self, disabled: bool) {
        self.disabled = disabled;
    }

    /// Whether the cache is disabled.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The current entries.
    pub fn entries(&self) -> &[CacheEntry] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Chromium `CheckIfRequestCanSkipPreflight`: looks `req` up at logical time `now`,
    /// removing the entry when it is stale or does not cover the request.
    pub fn lookup(&mut self, req: &BrowserRequest, now: u64) -> CacheLookup {
        if self.disabled {
            return CacheLookup::Miss;
        }
        let (origin, url) = key(req);
        let Some(index) = self
            .entries
            .iter()
            .position(|e| e.origin == origin && e.url == url)
        else {
            return CacheLookup::Miss;
        };
        let Some(entry) = self.entries.get(index) else {
            return CacheLookup::Miss;
        };
        let result = if entry.expires_at <= now {
            CacheLookup::Stale
        } else if entry_covers(entry, req) {
            CacheLookup::Hit
        } else {
            CacheLookup::Insufficient
        };
        if result != CacheLookup::Hit {
            self.entries.remove(index);
        }
        result
    }

    /// Chromium `AppendEntry`: records a successful preflight for `req` made at `now`,
    /// replacing any entry for the same (origin, URL). URLs of 1024 bytes or more are not
    /// cached.
    pub fn store(&mut self, req: &BrowserRequest, outcome: &PreflightOutcome, now: u64) {
        if self.disabled {
            return;
        }
        let (origin, url) = key(req);
        if url.len() >= MAX_CACHED_URL_LEN {
            return;
        }
        self.entries
            .retain(|e| !(e.origin == origin && e.url == url));
        self.entries.push(CacheEntry {
            origin,
            url,
            credentials: outcome.credentials,
            methods: outcome.methods.clone(),
            header_names: outcome.header_names.clone(),
            expires_at: now.saturating_add(outcome.max_age.chromium),
        });
    }

    /// Removes the entries for (`origin`, `url`) (the spec's "clear cache entries" after a
    /// network error on the CORS-with-preflight path).
    pub fn clear_for(&mut self, origin: &str, url: &str) {
        let url = canonical_url(url);
        self.entries
            .retain(|e| !(e.origin == origin && e.url == url));
    }
}

/// Whether Chromium would send a preflight for `req` at logical time `now`, given `cache`:
/// the request needs one ([`preflight_plan`]) and no cached entry covers it. Like Chromium,
/// the lookup removes a stale or insufficient entry.
///
/// ```
/// use corsguard_browser::{needs_preflight_with_cache, BrowserRequest, PreflightCache};
///
/// let mut cache = PreflightCache::new();
/// let simple = BrowserRequest::new("http://a.test", "http://b.test/");
/// assert!(!needs_preflight_with_cache(&simple, &mut cache, 0));
/// let put = simple.clone().method("PUT");
/// assert!(needs_preflight_with_cache(&put, &mut cache, 0));
/// ```
pub fn needs_preflight_with_cache(
    req: &BrowserRequest,
    cache: &mut PreflightCache,
    now: u64,
) -> bool {
    preflight_plan(req).needed && cache.lookup(req, now) != CacheLookup::Hit
}

fn key(req: &BrowserRequest) -> (String, String) {
    (req.page_origin_serialized(), canonical_url(&req.url))
}

fn canonical_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// Chromium `PreflightResult::EnsureAllowedRequest` with non-wildcard request-header support
/// enabled (the cache path always checks `Authorization` strictly).
fn entry_covers(entry: &CacheEntry, req: &BrowserRequest) -> bool {
    if !entry.credentials && req.is_credentialed() {
        return false;
    }
    let allowed = Allowed {
        methods: &entry.methods,
        header_names: &entry.header_names,
        credentials: entry.credentials,
    };
    if !allowed.allows_method(&req.normalized_method()) {
        return false;
    }
    let prepared = prepare_headers(req);
    let analysis = analyze_headers(&prepared, req.initiator);
    matches!(
        allowed.check_headers(&analysis.unsafe_names, prepared.has("authorization")),
        HeaderCheck::Pass
    )
}
