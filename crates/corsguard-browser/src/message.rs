//! Chromium's CDP `corsError` names and console messages (cors-protocol.md §14).

use std::fmt;

use serde::{Serialize, Serializer};

/// The console prefix Chromium inserts for preflight-response failures.
pub const PREFLIGHT_PREFIX: &str =
    "Response to preflight request doesn't pass access control check: ";

/// The hint Chromium 156 appends to the ACAO mismatch / multiple / invalid messages.
const VALID_VALUE_HINT: &str = " Have the server send the header with a valid value.";

/// The CDP `Network.CorsError` values this model produces. CDP treats the enum as open and it
/// changes between Chromium versions; [`CorsError::as_str`] gives the exact CDP spelling and
/// [`CorsError::from_cdp`] parses it back (`None` for values the model never predicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CorsError {
    /// `DisallowedByMode`: a cross-origin request with `mode: 'same-origin'`.
    DisallowedByMode,
    /// `CorsDisabledScheme`: a cross-origin CORS request to a non-HTTP(S) URL.
    CorsDisabledScheme,
    /// `WildcardOriginNotAllowed`: ACAO `*` on a credentialed request.
    WildcardOriginNotAllowed,
    /// `MissingAllowOriginHeader`: no ACAO.
    MissingAllowOriginHeader,
    /// `MultipleAllowOriginValues`: ACAO (combined) contains a space or a comma.
    MultipleAllowOriginValues,
    /// `InvalidAllowOriginValue`: ACAO is not a parsable URL.
    InvalidAllowOriginValue,
    /// `AllowOriginMismatch`: ACAO differs from the serialized origin.
    AllowOriginMismatch,
    /// `InvalidAllowCredentials`: credentialed and ACAC is not exactly `true`.
    InvalidAllowCredentials,
    /// `PreflightWildcardOriginNotAllowed`.
    PreflightWildcardOriginNotAllowed,
    /// `PreflightMissingAllowOriginHeader`.
    PreflightMissingAllowOriginHeader,
    /// `PreflightMultipleAllowOriginValues`.
    PreflightMultipleAllowOriginValues,
    /// `PreflightInvalidAllowOriginValue`.
    PreflightInvalidAllowOriginValue,
    /// `PreflightAllowOriginMismatch`.
    PreflightAllowOriginMismatch,
    /// `PreflightInvalidAllowCredentials`.
    PreflightInvalidAllowCredentials,
    /// `PreflightInvalidStatus`: the preflight status is not 200–299.
    PreflightInvalidStatus,
    /// `PreflightDisallowedRedirect`: the preflight was answered with a redirect.
    PreflightDisallowedRedirect,
    /// `InvalidAllowMethodsPreflightResponse`: an ACAM item is not a token.
    InvalidAllowMethodsPreflightResponse,
    /// `InvalidAllowHeadersPreflightResponse`: an ACAH item is not a token.
    InvalidAllowHeadersPreflightResponse,
    /// `MethodDisallowedByPreflightResponse`.
    MethodDisallowedByPreflightResponse,
    /// `HeaderDisallowedByPreflightResponse`.
    HeaderDisallowedByPreflightResponse,
    /// `RedirectContainsCredentials`: a redirect `Location` with `user:pass@`.
    RedirectContainsCredentials,
    /// `LocalNetworkAccessPermissionDenied`: a public page fetching a local or loopback address
    /// without the user's permission (Local Network Access, Chromium ≥ 142).
    LocalNetworkAccessPermissionDenied,
    /// `InsecureLocalNetwork`: the same from a page that is not a secure context.
    InsecureLocalNetwork,
    /// `InvalidLocalNetworkAccess`: `fetch()`'s `targetAddressSpace` differs from the
    /// target's address space.
    InvalidLocalNetworkAccess,
}

impl CorsError {
    const ALL: [CorsError; 24] = [
        CorsError::DisallowedByMode,
        CorsError::CorsDisabledScheme,
        CorsError::WildcardOriginNotAllowed,
        CorsError::MissingAllowOriginHeader,
        CorsError::MultipleAllowOriginValues,
        CorsError::InvalidAllowOriginValue,
        CorsError::AllowOriginMismatch,
        CorsError::InvalidAllowCredentials,
        CorsError::PreflightWildcardOriginNotAllowed,
        CorsError::PreflightMissingAllowOriginHeader,
        CorsError::PreflightMultipleAllowOriginValues,
        CorsError::PreflightInvalidAllowOriginValue,
        CorsError::PreflightAllowOriginMismatch,
        CorsError::PreflightInvalidAllowCredentials,
        CorsError::PreflightInvalidStatus,
        CorsError::PreflightDisallowedRedirect,
        CorsError::InvalidAllowMethodsPreflightResponse,
        CorsError::InvalidAllowHeadersPreflightResponse,
        CorsError::MethodDisallowedByPreflightResponse,
        CorsError::HeaderDisallowedByPreflightResponse,
        CorsError::RedirectContainsCredentials,
        CorsError::LocalNetworkAccessPermissionDenied,
        CorsError::InsecureLocalNetwork,
        CorsError::InvalidLocalNetworkAccess,
    ];

    /// The CDP spelling, e.g. `"PreflightInvalidStatus"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CorsError::DisallowedByMode => "DisallowedByMode",
            CorsError::CorsDisabledScheme => "CorsDisabledScheme",
            CorsError::WildcardOriginNotAllowed => "WildcardOriginNotAllowed",
            CorsError::MissingAllowOriginHeader => "MissingAllowOriginHeader",
            CorsError::MultipleAllowOriginValues => "MultipleAllowOriginValues",
            CorsError::InvalidAllowOriginValue => "InvalidAllowOriginValue",
            CorsError::AllowOriginMismatch => "AllowOriginMismatch",
            CorsError::InvalidAllowCredentials => "InvalidAllowCredentials",
            CorsError::PreflightWildcardOriginNotAllowed => "PreflightWildcardOriginNotAllowed",
            CorsError::PreflightMissingAllowOriginHeader => "PreflightMissingAllowOriginHeader",
            CorsError::PreflightMultipleAllowOriginValues => "PreflightMultipleAllowOriginValues",
            CorsError::PreflightInvalidAllowOriginValue => "PreflightInvalidAllowOriginValue",
            CorsError::PreflightAllowOriginMismatch => "PreflightAllowOriginMismatch",
            CorsError::PreflightInvalidAllowCredentials => "PreflightInvalidAllowCredentials",
            CorsError::PreflightInvalidStatus => "PreflightInvalidStatus",
            CorsError::PreflightDisallowedRedirect => "PreflightDisallowedRedirect",
            CorsError::InvalidAllowMethodsPreflightResponse => {
                "InvalidAllowMethodsPreflightResponse"
            }
            CorsError::InvalidAllowHeadersPreflightResponse => {
                "InvalidAllowHeadersPreflightResponse"
            }
            CorsError::MethodDisallowedByPreflightResponse => "MethodDisallowedByPreflightResponse",
            CorsError::HeaderDisallowedByPreflightResponse => "HeaderDisallowedByPreflightResponse",
            CorsError::RedirectContainsCredentials => "RedirectContainsCredentials",
            CorsError::LocalNetworkAccessPermissionDenied => "LocalNetworkAccessPermissionDenied",
            CorsError::InsecureLocalNetwork => "InsecureLocalNetwork",
            CorsError::InvalidLocalNetworkAccess => "InvalidLocalNetworkAccess",
        }
    }

    /// Parses a CDP `corsError` string; `None` for values this model does not produce.
    pub fn from_cdp(name: &str) -> Option<CorsError> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Whether Chromium puts [`PREFLIGHT_PREFIX`] before the message tail (the `Preflight*`
    /// values only; the ACAM/ACAH parse and method/header failures have no prefix).
    pub fn has_preflight_prefix(self) -> bool {
        matches!(
            self,
            CorsError::PreflightWildcardOriginNotAllowed
                | CorsError::PreflightMissingAllowOriginHeader
                | CorsError::PreflightMultipleAllowOriginValues
                | CorsError::PreflightInvalidAllowOriginValue
                | CorsError::PreflightAllowOriginMismatch
                | CorsError::PreflightInvalidAllowCredentials
                | CorsError::PreflightInvalidStatus
                | CorsError::PreflightDisallowedRedirect
        )
    }

    /// The `Preflight*` variant of an origin/credentials failure (others unchanged), as
    /// Chromium's `CheckPreflightAccess` maps them.
    pub fn for_preflight(self) -> CorsError {
        match self {
            CorsError::WildcardOriginNotAllowed => CorsError::PreflightWildcardOriginNotAllowed,
            CorsError::MissingAllowOriginHeader => CorsError::PreflightMissingAllowOriginHeader,
            CorsError::MultipleAllowOriginValues => CorsError::PreflightMultipleAllowOriginValues,
            CorsError::InvalidAllowOriginValue => CorsError::PreflightInvalidAllowOriginValue,
            CorsError::AllowOriginMismatch => CorsError::PreflightAllowOriginMismatch,
            CorsError::InvalidAllowCredentials => CorsError::PreflightInvalidAllowCredentials,
            other => other,
        }
    }
}

impl fmt::Display for CorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CorsError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Why the browser blocked the request: the CDP `corsErrorStatus` plus where it happened.
///
/// ```
/// use corsguard_browser::{CorsError, CorsFailure};
///
/// let failure = CorsFailure::new(CorsError::PreflightInvalidStatus, None, true);
/// assert_eq!(
///     failure.console_message("http://127.0.0.1:18082/u", "http://127.0.0.1:18081"),
///     "Access to fetch at 'http://127.0.0.1:18082/u' from origin 'http://127.0.0.1:18081' \
///      has been blocked by CORS policy: Response to preflight request doesn't pass access \
///      control check: It does not have HTTP ok status."
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorsFailure {
    /// The CDP `corsError`.
    pub cors_error: CorsError,
    /// The CDP `failedParameter` (ACAO/ACAC value, method, header name, location).
    pub failed_parameter: Option<String>,
    /// Whether the failure happened while handling the preflight (including method/header
    /// failures, which carry no console prefix).
    pub preflight: bool,
    /// The URL being fetched when it failed (the redirect target after redirects); empty when
    /// unknown.
    pub url: String,
    /// The URL originally passed to `fetch()`, when the failure happened after a redirect.
    pub redirected_from: Option<String>,
    /// The page's serialized origin, as printed in the console message (Chromium prints the
    /// page origin even when the request's origin was tainted to `null`).
    pub page_origin: String,
    /// For a Local Network Access block (the `LocalNetwork*` / `*LocalNetwork*` errors): why.
    pub local_network: Option<crate::lna::LnaBlock>,
}

impl CorsFailure {
    /// A failure without location information (`url` / `page_origin` empty).
    pub fn new(cors_error: CorsError, failed_parameter: Option<String>, preflight: bool) -> Self {
        CorsFailure {
            cors_error,
            failed_parameter,
            preflight,
            url: String::new(),
            redirected_from: None,
            page_origin: String::new(),
            local_network: None,
        }
    }

    /// A Local Network Access failure (CDP `failedParameter` empty, as in Chromium 156).
    pub fn local_network(block: crate::lna::LnaBlock) -> Self {
        CorsFailure {
            local_network: Some(block),
            ..CorsFailure::new(block.cors_error(), None, false)
        }
    }

    /// The CDP `corsError` string.
    pub fn cors_error_name(&self) -> &'static str {
        self.cors_error.as_str()
    }

    /// The text after `has been blocked by CORS policy: `, including the preflight prefix
    /// where Chromium puts it.
    pub fn tail(&self) -> String {
        let v = self.failed_parameter.as_deref().unwrap_or_default();
        if let Some(block) = self.local_network {
            return block.console_tail();
        }
        let body = match self.cors_error {
            CorsError::DisallowedByMode => {
                "Cross origin requests are not allowed by request mode.".to_owned()
            }
            CorsError::CorsDisabledScheme => {
                "Cross origin requests are only supported for protocol schemes: http, data, \
                 isolated-app, chrome-extension, chrome, https, chrome-untrusted."
                    .to_owned()
            }
            CorsError::WildcardOriginNotAllowed | CorsError::PreflightWildcardOriginNotAllowed => {
                "The value of the 'Access-Control-Allow-Origin' header in the response must not \
                 be the wildcard '*' when the request's credentials mode is 'include'."
                    .to_owned()
            }
            CorsError::MissingAllowOriginHeader | CorsError::PreflightMissingAllowOriginHeader => {
                "No 'Access-Control-Allow-Origin' header is present on the requested resource."
                    .to_owned()
            }
            CorsError::MultipleAllowOriginValues
            | CorsError::PreflightMultipleAllowOriginValues => {
                format!(
                    "The 'Access-Control-Allow-Origin' header contains multiple values '{v}', \
                     but only one is allowed.{VALID_VALUE_HINT}"
                )
            }
            CorsError::InvalidAllowOriginValue | CorsError::PreflightInvalidAllowOriginValue => {
                format!(
                    "The 'Access-Control-Allow-Origin' header contains the invalid value \
                     '{v}'.{VALID_VALUE_HINT}"
                )
            }
            CorsError::AllowOriginMismatch | CorsError::PreflightAllowOriginMismatch => format!(
                "The 'Access-Control-Allow-Origin' header has a value '{v}' that is not equal to \
                 the supplied origin.{VALID_VALUE_HINT}"
            ),
            CorsError::InvalidAllowCredentials | CorsError::PreflightInvalidAllowCredentials => {
                format!(
                    "The value of the 'Access-Control-Allow-Credentials' header in the response \
                     is '{v}' which must be 'true' when the request's credentials mode is \
                     'include'."
                )
            }
            CorsError::PreflightInvalidStatus => "It does not have HTTP ok status.".to_owned(),
            CorsError::PreflightDisallowedRedirect => {
                "Redirect is not allowed for a preflight request.".to_owned()
            }
            CorsError::InvalidAllowMethodsPreflightResponse => {
                "Cannot parse Access-Control-Allow-Methods response header field in preflight \
                 response."
                    .to_owned()
            }
            CorsError::InvalidAllowHeadersPreflightResponse => {
                "Cannot parse Access-Control-Allow-Headers response header field in preflight \
                 response."
                    .to_owned()
            }
            CorsError::MethodDisallowedByPreflightResponse => format!(
                "Method {v} is not allowed by Access-Control-Allow-Methods in preflight response."
            ),
            CorsError::HeaderDisallowedByPreflightResponse => format!(
                "Request header field {v} is not allowed by Access-Control-Allow-Headers in \
                 preflight response."
            ),
            CorsError::RedirectContainsCredentials => format!(
                "Redirect location '{v}' contains a username and password, which is disallowed \
                 for cross-origin requests."
            ),
            CorsError::LocalNetworkAccessPermissionDenied
            | CorsError::InsecureLocalNetwork
            | CorsError::InvalidLocalNetworkAccess => {
                "Local Network Access blocked the request.".to_owned()
            }
        };
        if self.cors_error.has_preflight_prefix() {
            format!("{PREFLIGHT_PREFIX}{body}")
        } else {
            body
        }
    }

    /// Chromium's console message for a `fetch()` of `url` from a page at `origin`:
    /// `Access to fetch at '<url>' from origin '<origin>' has been blocked by CORS policy: <tail>`.
    pub fn console_message(&self, url: &str, origin: &str) -> String {
        self.console_message_redirected(url, None, origin)
    }

    /// Like [`CorsFailure::console_message`], with Chromium's `(redirected from '<initial>') `
    /// part when the failing URL is a redirect target.
    pub fn console_message_redirected(
        &self,
        url: &str,
        redirected_from: Option<&str>,
        origin: &str,
    ) -> String {
        let redirect = redirected_from
            .filter(|initial| *initial != url)
            .map(|initial| format!("(redirected from '{initial}') "))
            .unwrap_or_default();
        format!(
            "Access to fetch at '{url}' {redirect}from origin '{origin}' has been blocked by CORS \
             policy: {}",
            self.tail()
        )
    }

    /// The console message using the URL, redirect origin and page origin recorded in the
    /// failure (as filled in by the checks and [`simulate`](super::simulate)).
    pub fn message(&self) -> String {
        self.console_message_redirected(
            &self.url,
            self.redirected_from.as_deref(),
            &self.page_origin,
        )
    }
}

impl fmt::Display for CorsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.cors_error, self.tail())
    }
}

impl std::error::Error for CorsFailure {}
