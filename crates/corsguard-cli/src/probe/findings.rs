//! What the browser does not tell you: server-side CORS mistakes visible in real responses
//! (cache poisoning through a missing `Vary: Origin`, reflection of arbitrary origins, `null`
//! accepted, credentials with reflected origins, max-age above the browser caps, preflights
//! redirected or answered by an authentication layer, duplicate or malformed headers, error
//! responses that lose the CORS headers the server's other answers carry).

use corsguard_browser::{CHROMIUM_MAX_AGE_CAP, ResponseView};
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// Worth knowing.
    Info,
    /// Probably a bug, or a risk.
    Warning,
    /// A security problem, or what breaks the browser.
    Error,
}

impl Level {
    /// `info`, `warning` or `error`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    /// Stable kebab-case code, e.g. `missing-vary-origin`.
    pub code: &'static str,
    /// Severity.
    pub level: Level,
    /// Which response it is about (`preflight`, `response`, `probe with Origin: null` …).
    pub seen_in: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The label of the extra request with a random origin.
pub(crate) const RANDOM_ORIGIN_PROBE: &str = "probe with a random origin";
/// The label of the extra request with `Origin: null`.
pub(crate) const NULL_ORIGIN_PROBE: &str = "probe with Origin: null";
/// The label (followed by the path) of the `--error-path` request.
pub(crate) const ERROR_PATH_PROBE: &str = "probe of the error path";
/// The label of the preflight sent to learn what the server answers when it does not fail.
pub(crate) const REFERENCE_PROBE: &str = "probe with a preflight to the same URL";

/// A response the findings look at.
pub(crate) struct Seen<'a> {
    /// Which one (`preflight`, `response`, …).
    pub label: String,
    /// `true` for an `OPTIONS` preflight.
    pub preflight: bool,
    /// The `Origin` sent.
    pub origin: &'a str,
    /// The response.
    pub response: &'a ResponseView,
}

fn acao(r: &ResponseView) -> Vec<String> {
    r.get_all("access-control-allow-origin")
        .iter()
        .map(|v| v.trim().to_owned())
        .collect()
}

fn vary_has_origin(r: &ResponseView) -> bool {
    r.get_all("vary").iter().any(|line| {
        line.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.eq_ignore_ascii_case("origin"))
    })
}

fn acac(r: &ResponseView) -> Option<String> {
    r.get("access-control-allow-credentials")
}

/// Findings on the exchanges of a probe: `main` are the responses the browser judged,
/// `random` and `null` the answers to the same request sent with a random origin and with
/// `Origin: null`.
pub(crate) fn analyze(
    main: &[Seen<'_>],
    random: Option<&Seen<'_>>,
    null: Option<&Seen<'_>>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut push = |code, level, seen_in: &str, message: String| {
        if !out
            .iter()
            .any(|f: &Finding| f.code == code && f.seen_in == seen_in)
        {
            out.push(Finding {
                code,
                level,
                seen_in: seen_in.to_owned(),
                message,
            });
        }
    };
    for s in main.iter().chain(random).chain(null) {
        let r = s.response;
        let values = acao(r);
        if values.len() > 1
            || values
                .first()
                .is_some_and(|v| v.contains(',') || v.trim().contains(' '))
        {
            push(
                "duplicate-acao",
                Level::Error,
                &s.label,
                format!(
                    "Access-Control-Allow-Origin is sent {} ({}): usually the application and a proxy both add it. Browsers reject it (MultipleAllowOriginValues); let exactly one layer set CORS headers (nginx: proxy_hide_header Access-Control-Allow-Origin)",
                    if values.len() > 1 {
                        format!("{} times", values.len())
                    } else {
                        "with several values".to_owned()
                    },
                    values
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let acac_lines = r.get_all("access-control-allow-credentials");
        if let Some(v) = acac(r)
            && (acac_lines.len() > 1 || v.trim() != "true")
        {
            push(
                "acac-not-true",
                Level::Error,
                &s.label,
                format!(
                    "Access-Control-Allow-Credentials is `{v}`: browsers accept only the exact, lower-case value `true` (and treat anything else as a refusal); send `true` or leave the header out"
                ),
            );
        }
        if values.len() == 1
            && values.first().is_some_and(|v| v == "*")
            && acac(r).is_some_and(|v| v.trim() == "true")
        {
            push(
                "wildcard-with-credentials",
                Level::Info,
                &s.label,
                "Access-Control-Allow-Origin `*` with Access-Control-Allow-Credentials `true`: browsers refuse `*` on credentialed requests, so credentialed fetches fail (WildcardOriginNotAllowed)".to_owned(),
            );
        }
    }
    for s in main {
        let r = s.response;
        if s.preflight {
            if r.is_redirect_status() {
                push(
                    "preflight-redirected",
                    Level::Error,
                    &s.label,
                    format!(
                        "the preflight was answered with a {} redirect{}: browsers never follow redirects for preflights. Typical causes are a trailing-slash canonicalisation, an http→https redirect or a login redirect; answer OPTIONS directly at this URL",
                        r.status,
                        r.location()
                            .map(|l| format!(" to `{l}`"))
                            .unwrap_or_default()
                    ),
                );
            } else if r.status == 401 || r.status == 403 {
                let auth = r
                    .get("www-authenticate")
                    .map(|a| format!(" (WWW-Authenticate: {a})"))
                    .unwrap_or_default();
                push(
                    "preflight-auth",
                    Level::Error,
                    &s.label,
                    format!(
                        "the preflight was answered {}{auth}, apparently by an authentication or authorisation layer: preflights never carry cookies or Authorization, so that layer must let CORS preflights (OPTIONS with Origin and Access-Control-Request-Method) through to the CORS handler",
                        r.status
                    ),
                );
            } else if !r.is_ok_status() {
                push(
                    "preflight-not-ok",
                    Level::Error,
                    &s.label,
                    format!(
                        "the preflight was answered {}: the server does not handle CORS preflights at this URL (browsers need a 2xx status)",
                        r.status
                    ),
                );
            }
            if let Some(m) = r.get("access-control-max-age") {
                let t = m.trim();
                match t.parse::<i64>() {
                    Ok(n) if n < 0 => push(
                        "max-age-negative",
                        Level::Warning,
                        &s.label,
                        format!(
                            "Access-Control-Max-Age is {n}: Chromium then does not cache the preflight at all, and the spec reads it as invalid (5 s); send 0 to disable caching"
                        ),
                    ),
                    Ok(n) if u64::try_from(n).is_ok_and(|n| n > CHROMIUM_MAX_AGE_CAP) => push(
                        "max-age-above-cap",
                        Level::Warning,
                        &s.label,
                        format!(
                            "Access-Control-Max-Age is {n}: Chromium caps it at 7200 s and Safari at 600 s, silently; 600 is the largest value every browser honours in full"
                        ),
                    ),
                    Ok(n) if n > 600 => push(
                        "max-age-above-cap",
                        Level::Info,
                        &s.label,
                        format!(
                            "Access-Control-Max-Age is {n}: Safari caps it at 600 s (Chromium at 7200 s)"
                        ),
                    ),
                    Ok(_) => {}
                    Err(_) => push(
                        "max-age-invalid",
                        Level::Warning,
                        &s.label,
                        format!(
                            "Access-Control-Max-Age `{t}` is not a number of seconds: browsers use the default of 5 s"
                        ),
                    ),
                }
            }
        }
    }
    // Responses that depend on Origin must say so in Vary.
    let actual: Vec<&Seen<'_>> = main.iter().filter(|s| !s.preflight).collect();
    let specific = |s: &Seen<'_>| {
        let v = acao(s.response);
        v.len() == 1 && v.first().is_some_and(|a| a != "*")
    };
    let differs = random.is_some_and(|rnd| {
        !rnd.preflight
            && actual
                .last()
                .is_some_and(|a| acao(a.response) != acao(rnd.response))
    });
    for s in actual
        .iter()
        .copied()
        .chain(random.filter(|r| !r.preflight))
    {
        if (specific(s) || differs) && !vary_has_origin(s.response) {
            push(
                "missing-vary-origin",
                Level::Warning,
                &s.label,
                format!(
                    "this response depends on Origin ({}) but its Vary does not list Origin: a shared cache or CDN can serve it to another origin, breaking that origin's requests or leaking this one (cache poisoning). Add `Vary: Origin`",
                    match acao(s.response).first() {
                        Some(v) => format!("Access-Control-Allow-Origin: {v}"),
                        None => "no Access-Control-Allow-Origin here, but one for another origin"
                            .to_owned(),
                    }
                ),
            );
        }
    }
    if let Some(rnd) = random {
        let v = acao(rnd.response);
        if v.len() == 1 && v.first().is_some_and(|a| a == rnd.origin) {
            let creds = acac(rnd.response).is_some_and(|c| c.trim() == "true");
            if creds {
                push(
                    "credentials-with-reflected-origin",
                    Level::Error,
                    &rnd.label,
                    format!(
                        "the server reflects an arbitrary origin (`{}`) together with Access-Control-Allow-Credentials: true: any website can make requests with your users' cookies and read the responses. Allow only the origins you trust",
                        rnd.origin
                    ),
                );
            } else {
                push(
                    "reflects-any-origin",
                    Level::Warning,
                    &rnd.label,
                    format!(
                        "the server reflects an arbitrary origin (`{}`) in Access-Control-Allow-Origin: every website may read these responses. If that is intended, send `*` (cacheable, no Vary needed); otherwise allow only the origins you trust",
                        rnd.origin
                    ),
                );
            }
        }
    }
    if let Some(n) = null {
        let v = acao(n.response);
        if v.len() == 1 && v.first().is_some_and(|a| a == "null") {
            let creds = acac(n.response).is_some_and(|c| c.trim() == "true");
            push(
                "null-origin-accepted",
                if creds { Level::Error } else { Level::Warning },
                &n.label,
                format!(
                    "the server accepts `Origin: null`{}: any sandboxed iframe, data: URL or file: page can send it, so allowing it is almost never safe",
                    if creds { " with credentials" } else { "" }
                ),
            );
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.level));
    out
}

/// How to make error responses keep their CORS headers, for the server that answered
/// (`Server:`), then for the common ones.
fn error_fixes(server: Option<&str>) -> String {
    const NGINX: &str = "nginx: `add_header Access-Control-Allow-Origin … always;` (and the same `always` on every CORS add_header: without it nginx adds headers to 2xx/3xx only)";
    const EXPRESS: &str = "Express: `app.use(cors(…))` before the routes, the body parser, authentication and the error handlers, and error handlers that keep the headers already set";
    const MIDDLEWARE: &str = "frameworks: the CORS middleware outermost, around everything that can fail (tower/axum: the CORS layer added last; ASP.NET: UseCors before UseAuthentication; Django: CorsMiddleware first; Spring: the CORS filter before Spring Security)";
    let lower = server.unwrap_or("").to_ascii_lowercase();
    let first = if lower.contains("nginx") || lower.contains("openresty") {
        format!(
            "this server is {}: the fix is `always`. ",
            server.unwrap_or("nginx")
        )
    } else {
        String::new()
    };
    format!("{first}Add the CORS headers to error responses too — {NGINX}; {EXPRESS}; {MIDDLEWARE}")
}

/// Error responses (4xx/5xx) without CORS headers from a server whose other answers carry
/// them — nginx `add_header` without `always`, a CORS middleware behind the layer that
/// failed: the browser then reports a CORS error instead of the real status.
///
/// `main` are the responses the browser judged; `extra` the extra probes (the
/// `--error-path` request and the reference preflight among them).
pub(crate) fn error_without_cors(main: &[Seen<'_>], extra: &[Seen<'_>]) -> Vec<Finding> {
    let with_cors = |s: &&Seen<'_>| s.response.status < 400 && !acao(s.response).is_empty();
    let reference = main
        .iter()
        .chain(extra.iter().filter(|s| s.label == REFERENCE_PROBE))
        .find(with_cors);
    let error_path = extra.iter().find(|s| s.label.starts_with(ERROR_PATH_PROBE));
    let mut out = Vec::new();
    let errors = main
        .iter()
        .rfind(|s| !s.preflight)
        .into_iter()
        .chain(error_path);
    for e in errors {
        let r = e.response;
        if r.status < 400 || !acao(r).is_empty() {
            continue;
        }
        let Some(good) = reference else { continue };
        out.push(Finding {
            code: "error-without-cors",
            level: Level::Warning,
            seen_in: e.label.clone(),
            message: format!(
                "the {} response has no CORS headers, while the {} from the same server ({}) carries them: for this error the browser reports a CORS error (MissingAllowOriginHeader) and the script never sees the {}. {}",
                r.status,
                good.label,
                good.response.status,
                r.status,
                error_fixes(r.get("server").as_deref().or(good.response.get("server").as_deref()))
            ),
        });
    }
    if let Some(e) = error_path.filter(|e| e.response.status < 400) {
        out.push(Finding {
            code: "error-path-did-not-fail",
            level: Level::Info,
            seen_in: e.label.clone(),
            message: format!(
                "the error path answered {}, not an error: pick a path the server answers with 4xx or 5xx",
                e.response.status
            ),
        });
    }
    out
}
