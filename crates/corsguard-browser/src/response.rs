//! [`ResponseView`]: what came back, as the CORS checks see it.

use serde::Serialize;

/// A response's status and header lines, as a multi-map: repeated lines matter (two ACAO lines
/// fail the CORS check even when identical).
///
/// Values are stored as given; lookups trim leading/trailing spaces and tabs of each line, as
/// HTTP parsing does, and [`ResponseView::get`] combines repeated lines with `, ` as the
/// header-list "get" algorithm and Chromium's `GetNormalizedHeader` do.
///
/// ```
/// use corsguard_browser::ResponseView;
///
/// let resp = ResponseView::new(200)
///     .with_header("Access-Control-Allow-Origin", " * ")
///     .with_header("access-control-allow-origin", "*");
/// assert_eq!(resp.get("Access-Control-Allow-Origin").as_deref(), Some("*, *"));
/// assert_eq!(resp.get_all("access-control-allow-origin"), vec!["*", "*"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ResponseView {
    /// HTTP status code.
    pub status: u16,
    /// Header lines in order (name as received, value as received).
    pub headers: Vec<(String, String)>,
}

impl ResponseView {
    /// A response with `status` and no headers.
    pub fn new(status: u16) -> Self {
        ResponseView {
            status,
            headers: Vec::new(),
        }
    }

    /// Adds a header line (builder style).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a header line.
    pub fn push_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// Every line of `name` (case-insensitive), each trimmed of spaces and tabs.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches([' ', '\t']))
            .collect()
    }

    /// The lines of `name` combined with `, `, or `None` when absent.
    pub fn get(&self, name: &str) -> Option<String> {
        let lines = self.get_all(name);
        (!lines.is_empty()).then(|| lines.join(", "))
    }

    /// Whether at least one line of `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The first `Location` line, trimmed.
    pub fn location(&self) -> Option<&str> {
        self.get_all("location").into_iter().next()
    }

    /// Whether the status is a redirect status (`#redirect-status`: 301, 302, 303, 307, 308).
    pub fn is_redirect_status(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }

    /// Whether the response is a redirect the network stack follows: a redirect status with a
    /// non-empty `Location`. (A 3xx without `Location` is an ordinary response.)
    pub fn is_redirect(&self) -> bool {
        self.is_redirect_status() && self.location().is_some_and(|l| !l.is_empty())
    }

    /// Whether the status is an ok status (200–299, `#ok-status`).
    pub fn is_ok_status(&self) -> bool {
        (200..=299).contains(&self.status)
    }

    /// The distinct header names, lower-case, sorted (the order `Headers` iterates in).
    pub fn header_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Builds a view from a status and an `http::HeaderMap` (repeated values are kept in order;
    /// non-UTF-8 bytes are decoded as Latin-1, like an isomorphic decode).
    pub fn from_parts(status: http::StatusCode, headers: &http::HeaderMap) -> Self {
        let headers = headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.as_bytes().iter().map(|b| char::from(*b)).collect(),
                )
            })
            .collect();
        ResponseView {
            status: status.as_u16(),
            headers,
        }
    }

    /// Builds a view from an `http::Response` (the body is ignored).
    ///
    /// ```
    /// use corsguard_browser::ResponseView;
    ///
    /// let resp = http::Response::builder()
    ///     .status(204)
    ///     .header("Access-Control-Allow-Origin", "https://app.example")
    ///     .body(())
    ///     .unwrap();
    /// let view = ResponseView::from_http(&resp);
    /// assert_eq!(view.status, 204);
    /// assert_eq!(view.get("access-control-allow-origin").as_deref(), Some("https://app.example"));
    /// ```
    pub fn from_http<B>(response: &http::Response<B>) -> Self {
        Self::from_parts(response.status(), response.headers())
    }
}
