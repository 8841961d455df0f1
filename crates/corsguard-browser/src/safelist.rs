//! Safelists and forbidden lists of the Fetch standard, as Chromium 156 applies them.
//!
//! `#cors-safelisted-method`, `#cors-safelisted-request-header`,
//! `#cors-unsafe-request-header-byte`, `#cors-unsafe-request-header-names`,
//! `#forbidden-method`, `#forbidden-request-header`, `#cors-safelisted-response-header-name`.

use super::notes::{Deviation, SpecNote, push_note};
use super::preflight::PreflightReason;
use super::request::{Initiator, PreparedHeaders};

/// The largest value, in bytes, of a single safelisted request header.
pub const MAX_SAFELISTED_VALUE_LEN: usize = 128;

/// The largest sum, in bytes, of the values of all safelisted request headers of one request.
pub const SAFELIST_VALUE_BUDGET: usize = 1024;

/// `Content-Type` essences that may be sent cross-origin without a preflight
/// (`#cors-safelisted-request-header`).
pub const SAFELISTED_CONTENT_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// `Content-Type` essences covered by the CORS protocol exceptions (§3.5): user-agent reports
/// carrying them arrive without a preflight.
pub const PROTOCOL_EXCEPTION_CONTENT_TYPES: [&str; 4] = [
    "application/csp-report",
    "application/expect-ct-report+json",
    "application/xss-auditor-report",
    "application/ocsp-request",
];

/// Response header names readable by script without being listed in ACEH
/// (`#cors-safelisted-response-header-name`), lower-case.
pub const SAFELISTED_RESPONSE_HEADERS: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// Headers Chromium 156 treats as safelisted although the spec does not (§15 row 3), lower-case.
pub const CHROMIUM_ONLY_SAFELISTED_HEADERS: [&str; 9] = [
    "device-memory",
    "dpr",
    "downlink",
    "ect",
    "intervention",
    "rtt",
    "save-data",
    "viewport-width",
    "width",
];

/// Whether `s` is a non-empty RFC 9110 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    corsguard::fetch::is_token(s.as_bytes())
}

/// `#cors-safelisted-method`: `GET`, `HEAD` or `POST` (case-sensitive; apply method
/// normalization first).
pub fn is_cors_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// `#forbidden-method`: `CONNECT`, `TRACE`, `TRACK`, byte-case-insensitively.
pub fn is_forbidden_method(method: &str) -> bool {
    corsguard::fetch::is_forbidden_method(method)
}

/// `#cors-unsafe-request-header-byte`.
pub fn is_cors_unsafe_request_header_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09) || b == 0x7F || b"\"():<>?@[\\]{}".contains(&b)
}

/// `#forbidden-request-header`: scripts cannot set it; `fetch()` silently drops it.
pub fn is_forbidden_request_header(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if corsguard::fetch::is_forbidden_request_header(&lower) {
        return true;
    }
    if matches!(
        lower.as_str(),
        "x-http-method" | "x-http-method-override" | "x-method-override"
    ) {
        return value
            .split(',')
            .map(|m| m.trim_matches([' ', '\t']))
            .any(is_forbidden_method);
    }
    false
}

/// `#forbidden-response-header-name`: `Set-Cookie`, `Set-Cookie2`; never exposed to script.
pub fn is_forbidden_response_header_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("set-cookie") || name.eq_ignore_ascii_case("set-cookie2")
}

/// `#cors-safelisted-response-header-name` (without the ACEH list).
pub fn is_safelisted_response_header_name(name: &str) -> bool {
    SAFELISTED_RESPONSE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// Whether (name, value) is a CORS-safelisted request-header **as Chromium 156 decides it**
/// (including its client-hint additions). The value must already be normalized.
///
/// ```
/// use corsguard_browser::is_cors_safelisted_request_header;
///
/// assert!(is_cors_safelisted_request_header("Content-Type", "text/plain;charset=utf-8"));
/// assert!(!is_cors_safelisted_request_header("Content-Type", "application/json"));
/// assert!(is_cors_safelisted_request_header("Range", "bytes=200-"));
/// assert!(!is_cors_safelisted_request_header("Range", "bytes=-200"));
/// assert!(!is_cors_safelisted_request_header("Accept", &"a".repeat(129)));
/// assert!(is_cors_safelisted_request_header("Save-Data", "on")); // Chromium only (§15)
/// ```
pub fn is_cors_safelisted_request_header(name: &str, value: &str) -> bool {
    !matches!(
        classify(name, value, Initiator::Script),
        Classification::Unsafe(..)
    )
}

/// `#no-cors-safelisted-request-header`.
pub(crate) fn is_no_cors_safelisted_request_header(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "accept" | "accept-language" | "content-language" | "content-type"
    ) && matches!(
        classify(name, value, Initiator::Script),
        Classification::Safelisted
    )
}

/// How one header fares against the safelist.
#[derive(Debug, Clone)]
pub(crate) enum Classification {
    /// Safelisted per the spec and Chromium.
    Safelisted,
    /// Sent without preflight because of a CORS protocol exception (user-agent reports).
    ProtocolException(String),
    /// Safelisted by Chromium only; the note explains the spec's view.
    ChromiumOnly(SpecNote),
    /// Unsafe in Chromium (the reason), with a note when the spec would safelist it.
    Unsafe(PreflightReason, Option<SpecNote>),
}

/// Classifies one (name, value) pair, value already normalized.
pub(crate) fn classify(name: &str, value: &str, initiator: Initiator) -> Classification {
    let lower = name.to_ascii_lowercase();
    if value.len() > MAX_SAFELISTED_VALUE_LEN {
        let reason = if is_safelist_candidate(&lower) {
            PreflightReason::ValueTooLong {
                name: lower,
                length: value.len(),
            }
        } else {
            PreflightReason::HeaderName { name: lower }
        };
        return Classification::Unsafe(reason, None);
    }
    match lower.as_str() {
        "accept" => match value
            .bytes()
            .find(|b| is_cors_unsafe_request_header_byte(*b))
        {
            Some(byte) => {
                Classification::Unsafe(PreflightReason::UnsafeByte { name: lower, byte }, None)
            }
            None => Classification::Safelisted,
        },
        "accept-language" | "content-language" => {
            match value.bytes().find(|b| !is_language_byte(*b)) {
                Some(byte) => Classification::Unsafe(
                    PreflightReason::LanguageByte { name: lower, byte },
                    None,
                ),
                None => Classification::Safelisted,
            }
        }
        "content-type" => classify_content_type(lower, value, initiator),
        "range" => classify_range(value),
        _ if CHROMIUM_ONLY_SAFELISTED_HEADERS.contains(&lower.as_str()) => {
            if chromium_client_hint_value_ok(&lower, value) {
                Classification::ChromiumOnly(SpecNote::new(
                    Deviation::ChromiumSafelistedHeader,
                    lower,
                    "it is not a CORS-safelisted request-header (client hints were removed \
                     from the safelist in 2019), so it needs a preflight and appears in \
                     Access-Control-Request-Headers",
                    "sends it without a preflight",
                ))
            } else {
                Classification::Unsafe(
                    PreflightReason::ClientHintValue {
                        name: lower,
                        value: value.to_owned(),
                    },
                    None,
                )
            }
        }
        _ => Classification::Unsafe(PreflightReason::HeaderName { name: lower }, None),
    }
}

fn is_safelist_candidate(lower: &str) -> bool {
    matches!(
        lower,
        "accept" | "accept-language" | "content-language" | "content-type" | "range"
    ) || CHROMIUM_ONLY_SAFELISTED_HEADERS.contains(&lower)
}

fn is_language_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)
}

fn classify_content_type(lower: String, value: &str, initiator: Initiator) -> Classification {
    if let Some(byte) = value
        .bytes()
        .find(|b| is_cors_unsafe_request_header_byte(*b))
    {
        return Classification::Unsafe(PreflightReason::UnsafeByte { name: lower, byte }, None);
    }
    let essence = mime_essence(value);
    match essence.as_deref() {
        Some(e) if SAFELISTED_CONTENT_TYPES.contains(&e) => Classification::Safelisted,
        Some(e)
            if initiator == Initiator::UserAgentReport
                && PROTOCOL_EXCEPTION_CONTENT_TYPES.contains(&e) =>
        {
            Classification::ProtocolException(e.to_owned())
        }
        _ => {
            let protocol_exception = essence
                .as_deref()
                .is_some_and(|e| PROTOCOL_EXCEPTION_CONTENT_TYPES.contains(&e));
            Classification::Unsafe(
                PreflightReason::ContentType {
                    value: value.to_owned(),
                    essence,
                    protocol_exception,
                },
                None,
            )
        }
    }
}

fn classify_range(value: &str) -> Classification {
    let chromium = chromium_simple_range(value);
    let spec = spec_simple_range(value);
    match (chromium, spec) {
        (true, true) => Classification::Safelisted,
        (true, false) => Classification::ChromiumOnly(SpecNote::new(
            Deviation::RangeHeader,
            value,
            "it is not a simple range header value (the unit must be exactly `bytes`, \
             digits only), so it needs a preflight",
            "accepts it as a single byte range and sends it without a preflight",
        )),
        (false, true) => Classification::Unsafe(
            PreflightReason::Range {
                value: value.to_owned(),
            },
            Some(SpecNote::new(
                Deviation::RangeHeader,
                value,
                "it is a simple range header value, so no preflight is needed",
                "cannot parse it as a 64-bit byte range and preflights it",
            )),
        ),
        (false, false) => Classification::Unsafe(
            PreflightReason::Range {
                value: value.to_owned(),
            },
            None,
        ),
    }
}

/// Chromium's client-hint value checks (`services/network/public/cpp/cors/cors.cc`).
fn chromium_client_hint_value_ok(lower: &str, value: &str) -> bool {
    match lower {
        "device-memory" | "dpr" | "downlink" => is_similar_to_double(value),
        "width" | "viewport-width" | "rtt" => {
            !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
        }
        "ect" => matches!(value, "slow-2g" | "2g" | "3g" | "4g"),
        "save-data" => value.eq_ignore_ascii_case("on"),
        _ => true, // `intervention`: any value
    }
}

/// `1*DIGIT [ "." 1*DIGIT ]`.
fn is_similar_to_double(value: &str) -> bool {
    let (int, frac) = match value.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (value, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// The spec's "simple range header value" check for the safelist: `parse a single range
/// header value` with allowWhitespace false, and the start must be present.
fn spec_simple_range(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((start, end)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if start.is_empty() || !digits(start) || !digits(end) {
        return false;
    }
    end.is_empty() || compare_decimal(start, end) != std::cmp::Ordering::Greater
}

/// Compares two ASCII-digit strings numerically, whatever their length.
fn compare_decimal(a: &str, b: &str) -> std::cmp::Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Chromium's check: no whitespace or comma, `net::HttpUtil::ParseRangeHeader` on the
/// lower-cased value, exactly one range, not a suffix range.
fn chromium_simple_range(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if lower.bytes().any(|b| b == b' ' || b == b'\t' || b == b',') {
        return false;
    }
    let Some(rest) = lower.strip_prefix("bytes=") else {
        return false;
    };
    let Some((first, last)) = rest.split_once('-') else {
        return false;
    };
    if first.is_empty() {
        return false; // a suffix range (or no range at all)
    }
    let Some(first) = parse_chromium_int64(first) else {
        return false;
    };
    if first < 0 {
        return false;
    }
    if last.is_empty() {
        return true;
    }
    parse_chromium_int64(last).is_some_and(|last| last >= first)
}

/// `base::StringToInt64`: optional `+`/`-` sign, ASCII digits, no whitespace, no overflow.
pub(crate) fn parse_chromium_int64(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut acc: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        acc = acc.checked_mul(10)?;
        acc = if negative {
            acc.checked_sub(d)?
        } else {
            acc.checked_add(d)?
        };
    }
    Some(acc)
}

/// The essence (`type/subtype`, lower-case) of a MIME type per the MIME Sniffing standard's
/// "parse a MIME type"; `None` on failure. Parameters never cause failure.
///
/// ```
/// use corsguard_browser::mime_essence;
///
/// assert_eq!(mime_essence("Text/Plain;charset=utf-8").as_deref(), Some("text/plain"));
/// assert_eq!(mime_essence("text/plain;garbage").as_deref(), Some("text/plain"));
/// assert_eq!(mime_essence("text /plain"), None);
/// assert_eq!(mime_essence("text/plain,"), None);
/// ```
pub fn mime_essence(value: &str) -> Option<String> {
    let value = value.trim_matches(['\t', '\n', '\r', ' ']);
    let (ty, rest) = value.split_once('/')?;
    if !is_token(ty) {
        return None;
    }
    let subtype = rest.split(';').next().unwrap_or_default();
    let subtype = subtype.trim_end_matches(['\t', '\n', '\r', ' ']);
    if !is_token(subtype) {
        return None;
    }
    Some(format!(
        "{}/{}",
        ty.to_ascii_lowercase(),
        subtype.to_ascii_lowercase()
    ))
}

/// The result of `#cors-unsafe-request-header-names` over a prepared header list, with the
/// reasons and Chromium/spec notes gathered on the way.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderAnalysis {
    /// Sorted, de-duplicated, lower-case names (the ACRH items).
    pub(crate) unsafe_names: Vec<String>,
    pub(crate) reasons: Vec<PreflightReason>,
    pub(crate) notes: Vec<SpecNote>,
    pub(crate) protocol_exception: Option<String>,
}

pub(crate) fn analyze_headers(headers: &PreparedHeaders, initiator: Initiator) -> HeaderAnalysis {
    let mut out = HeaderAnalysis::default();
    let mut potentially_unsafe: Vec<String> = Vec::new();
    let mut chromium_only: Vec<(String, SpecNote)> = Vec::new();
    let mut budget = 0usize;
    for (name, value) in &headers.headers {
        let lower = name.to_ascii_lowercase();
        match classify(name, value, initiator) {
            Classification::Safelisted => {
                potentially_unsafe.push(lower);
                budget += value.len();
            }
            Classification::ProtocolException(essence) => {
                out.protocol_exception = Some(essence);
                potentially_unsafe.push(lower);
                budget += value.len();
            }
            Classification::ChromiumOnly(note) => {
                chromium_only.push((lower.clone(), note));
                potentially_unsafe.push(lower);
                budget += value.len();
            }
            Classification::Unsafe(reason, note) => {
                out.unsafe_names.push(lower);
                out.reasons.push(reason);
                if let Some(note) = note {
                    push_note(&mut out.notes, note);
                }
            }
        }
    }
    if budget > SAFELIST_VALUE_BUDGET {
        let mut names = potentially_unsafe.clone();
        names.sort();
        names.dedup();
        out.reasons.push(PreflightReason::Budget {
            total: budget,
            names,
        });
        out.unsafe_names.extend(potentially_unsafe);
    } else {
        for (_, note) in chromium_only {
            push_note(&mut out.notes, note);
        }
    }
    out.unsafe_names.sort();
    out.unsafe_names.dedup();
    out
}
