//! Writing a decision into a response: the owned CORS headers, the planned values, `Vary`.

use http::StatusCode;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::vary::{VARY_TOKENS, merge_vary};
use super::{Action, Decision};

/// Names the reason of an enforced CSRF refusal on the 403 (every adapter sends it, also
/// those that cannot write the text body).
const X_CORSGUARD_CSRF: HeaderName = HeaderName::from_static("x-corsguard-csrf");

/// The CORS response headers corsguard owns: on an enforced rule, any value the application
/// set for them is replaced by the policy's (never duplicated).
pub const OWNED_HEADERS: [HeaderName; 7] = [
    header::ACCESS_CONTROL_ALLOW_ORIGIN,
    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
    header::ACCESS_CONTROL_ALLOW_METHODS,
    header::ACCESS_CONTROL_ALLOW_HEADERS,
    header::ACCESS_CONTROL_MAX_AGE,
    header::ACCESS_CONTROL_EXPOSE_HEADERS,
    ACAPN,
];

/// `Access-Control-Allow-Private-Network` (not among `http`'s constants).
const ACAPN: HeaderName = HeaderName::from_static("access-control-allow-private-network");

static TRUE: HeaderValue = HeaderValue::from_static("true");

impl Decision {
    /// The headers to set (name, value), in a stable order, not counting `Vary`.
    pub fn headers(&self) -> impl Iterator<Item = (HeaderName, &HeaderValue)> {
        let p = &self.plan;
        let on = self.action != Action::PassThrough;
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, p.acao.as_ref()),
            (
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                p.acac.then_some(&TRUE),
            ),
            (header::ACCESS_CONTROL_ALLOW_METHODS, p.acam.as_ref()),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, p.acah.as_ref()),
            (header::ACCESS_CONTROL_MAX_AGE, p.acma.as_ref()),
            (ACAPN, p.acapn.then_some(&TRUE)),
            (header::ACCESS_CONTROL_EXPOSE_HEADERS, p.aceh.as_ref()),
        ]
        .into_iter()
        .filter_map(move |(n, v)| if on { v.map(|v| (n, v)) } else { None })
    }

    /// The `Vary` tokens this response needs (merged into any existing `Vary`).
    pub fn vary_tokens(&self) -> impl Iterator<Item = &'static str> {
        let bits = if self.action == Action::PassThrough {
            0
        } else {
            self.plan.vary.bits()
        };
        VARY_TOKENS
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & (1 << i) != 0)
            .map(|(_, t)| *t)
    }

    /// `true` when the application's own CORS headers must be removed before
    /// [`Decision::headers`] are set (enforced rule).
    pub fn owns_cors_headers(&self) -> bool {
        self.plan.owns && self.action != Action::PassThrough
    }

    /// Writes the decision into a response's headers: removes the application's CORS headers
    /// (on enforced rules), sets ours (never two ACAO lines), merges `Vary`.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let origin = http::HeaderValue::from_static("https://a.example");
    /// let mut head = corsguard::adapter::RequestHead::new("GET", "/");
    /// head.push_header(&http::header::ORIGIN, &origin);
    /// let mut resp = http::HeaderMap::new();
    /// resp.insert("vary", "Accept-Encoding".parse().unwrap());
    /// resp.append("access-control-allow-origin", "*".parse().unwrap());
    /// p.decide(&head).apply(&mut resp);
    /// assert_eq!(resp.get_all("access-control-allow-origin").iter().count(), 1);
    /// assert_eq!(resp["access-control-allow-origin"], "https://a.example");
    /// assert_eq!(resp["vary"], "Accept-Encoding, Origin");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn apply(&self, headers: &mut HeaderMap) {
        if self.action == Action::PassThrough {
            return;
        }
        // One pass over the (usually few) response headers is cheaper than seven hashed
        // removals, and a fresh preflight map has nothing to remove at all.
        if self.plan.owns
            && headers
                .keys()
                .any(|k| k.as_str().starts_with("access-control-"))
        {
            for n in &OWNED_HEADERS {
                headers.remove(n);
            }
        }
        self.write(headers);
    }

    /// Sets each planned header directly (no name array to build and filter: this runs on
    /// every request), then merges `Vary`.
    fn write(&self, headers: &mut HeaderMap) {
        let p = &self.plan;
        let mut set = |name: HeaderName, value: Option<&HeaderValue>| {
            if let Some(v) = value {
                headers.insert(name, v.clone());
            }
        };
        set(header::ACCESS_CONTROL_ALLOW_ORIGIN, p.acao.as_ref());
        if p.acac {
            set(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, Some(&TRUE));
        }
        set(header::ACCESS_CONTROL_ALLOW_METHODS, p.acam.as_ref());
        set(header::ACCESS_CONTROL_ALLOW_HEADERS, p.acah.as_ref());
        set(header::ACCESS_CONTROL_MAX_AGE, p.acma.as_ref());
        if p.acapn {
            set(ACAPN, Some(&TRUE));
        }
        set(header::ACCESS_CONTROL_EXPOSE_HEADERS, p.aceh.as_ref());
        merge_vary(headers, p.vary);
    }

    /// The headers of the answer to [`Action::Respond`] besides the CORS ones, `Vary` and
    /// `Content-Length`: an enforced CSRF refusal's `X-Corsguard-Csrf` (its code) and the
    /// content type of [`Decision::body`]. Nothing for other actions. Adapters that build
    /// the answer in their own types set these after [`Decision::headers`].
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example'], csrf: {mode: enforce}}")?;
    /// let mut head = corsguard::adapter::RequestHead::new("POST", "/");
    /// let site = http::HeaderValue::from_static("cross-site");
    /// head.push_header(&http::HeaderName::from_static("sec-fetch-site"), &site);
    /// let d = p.decide(&head);
    /// let extra: Vec<_> = d.respond_headers().map(|(n, v)| format!("{n}: {}", v.to_str().unwrap())).collect();
    /// assert_eq!(extra, ["x-corsguard-csrf: csrf-cross-site", "content-type: text/plain; charset=utf-8"]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn respond_headers(&self) -> impl Iterator<Item = (HeaderName, HeaderValue)> {
        let responding = matches!(self.action, Action::Respond(_));
        let refusal = self.csrf.refusal().filter(|_| responding);
        let text = responding && !self.body().is_empty();
        [
            refusal.map(|r| (X_CORSGUARD_CSRF, HeaderValue::from_static(r.code()))),
            text.then(|| {
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )
            }),
        ]
        .into_iter()
        .flatten()
    }

    /// Builds the complete response for [`Action::Respond`]: status, `Content-Length: 0`
    /// (except on 204) and the decision's headers.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").allow_methods(["PUT"]).build()?;
    /// let (o, m) = (http::HeaderValue::from_static("https://a.example"), http::HeaderValue::from_static("PUT"));
    /// let mut head = corsguard::adapter::RequestHead::new("OPTIONS", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// head.push_header(&http::header::ACCESS_CONTROL_REQUEST_METHOD, &m);
    /// let d = p.decide(&head);
    /// let resp = d.response_parts().unwrap();
    /// assert_eq!(resp.0, http::StatusCode::NO_CONTENT);
    /// assert_eq!(resp.1["access-control-allow-methods"], "PUT");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn response_parts(&self) -> Option<(StatusCode, HeaderMap)> {
        let Action::Respond(status) = self.action else {
            return None;
        };
        let mut h = HeaderMap::with_capacity(8);
        // Say how long the body is, except on 204, which must not carry Content-Length
        // (RFC 9110 §8.6).
        let body = self.body();
        for (name, value) in self.respond_headers() {
            h.insert(name, value);
        }
        if !body.is_empty() {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        } else if status != StatusCode::NO_CONTENT {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }

        self.write(&mut h);
        Some((status, h))
    }
}
