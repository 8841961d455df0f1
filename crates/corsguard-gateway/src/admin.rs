//! The admin listener: `/healthz`, `/readyz`, `/metrics`, `/explain`, `/refused.json` and
//! `/`, an HTML page (no external assets, every value escaped) with the active policy, its
//! version and load time, and the last refused requests with their traces.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use crate::refusals::{rfc3339, unix};
use crate::simple::{Handler, response};
use crate::state::Shared;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Whether the admin listener answers a request with this `Host` (or `:authority`): none,
/// an IP literal (a DNS-rebinding page always sends a name), `localhost` and
/// `*.localhost`, or an entry of `gateway.admin_hosts` (a name, or `name:port`).
pub(crate) fn host_allowed(host: Option<&str>, extra: &[String]) -> bool {
    let Some(host) = host else {
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => match host.rsplit_once(':') {
            Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => host,
        },
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || name
            .len()
            .checked_sub(".localhost".len())
            .and_then(|i| name.get(i..))
            .is_some_and(|s| s.eq_ignore_ascii_case(".localhost"))
    {
        return true;
    }
    extra.iter().any(|e| {
        if e.contains(':') {
            e.eq_ignore_ascii_case(host)
        } else {
            e.eq_ignore_ascii_case(name)
        }
    })
}

pub(crate) fn handler(shared: Arc<Shared>) -> Handler {
    Arc::new(move |req, _peer| {
        let shared = shared.clone();
        Box::pin(async move {
            let host = req.uri().authority().map(|a| a.as_str()).or_else(|| {
                req.headers()
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
            });
            if !host_allowed(host, &shared.settings.admin_hosts) {
                return response(
                    421,
                    &[("content-type", "text/plain")],
                    "unknown Host: the admin listener answers loopback names, IP addresses and gateway.admin_hosts\n",
                );
            }
            let path = req.uri().path();
            match path {
                "/healthz" => response(200, &[("content-type", "text/plain")], "ok\n"),
                "/readyz" => {
                    if shared.ready.load(Ordering::Acquire) {
                        response(200, &[("content-type", "text/plain")], "ready\n")
                    } else {
                        response(503, &[("content-type", "text/plain")], "draining\n")
                    }
                }
                "/metrics" => {
                    shared.policy_loaded();
                    response(
                        200,
                        &[("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                        shared.metrics.render(),
                    )
                }
                "/explain" => {
                    let v = shared.policy.load();
                    let (status, json) =
                        crate::explain::respond(&v, v.version, req.uri().query(), None);
                    response(
                        status.as_u16(),
                        &[("content-type", "application/json")],
                        json,
                    )
                }
                "/refused.json" => {
                    let list = shared.refusals.snapshot();
                    let json = serde_json::to_vec_pretty(&list).unwrap_or_default();
                    response(200, &[("content-type", "application/json")], json)
                }
                "/" => response(
                    200,
                    &[
                        ("content-type", "text/html; charset=utf-8"),
                        ("cache-control", "no-store"),
                        (
                            "content-security-policy",
                            "default-src 'none'; style-src 'unsafe-inline'",
                        ),
                    ],
                    page(&shared),
                ),
                _ => response(404, &[("content-type", "text/plain")], "not found\n"),
            }
        })
    })
}

fn page(shared: &Shared) -> String {
    let (version, loaded) = shared.policy_loaded();
    let policy = shared.policy.load();
    let (ok, failed) = shared.metrics.reloads();
    let mut o = String::with_capacity(16 * 1024);
    o.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>corsguard gateway</title><style>\
         body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
         table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}\
         th{background:#f4f4f4}code,pre{font:12px/1.35 ui-monospace,monospace}pre{background:#f8f8f8;padding:.5em;overflow:auto}\
         .refused{color:#a00}summary{cursor:pointer}\
         </style></head><body>\n<h1>corsguard gateway</h1>\n",
    );
    let _ = writeln!(
        o,
        "<p>Policy version <b id=\"policy-version\">{version}</b>, loaded {} · started {} · reloads: {ok} ok, {failed} failed · {}</p>",
        escape(&rfc3339(unix(loaded))),
        escape(&rfc3339(unix(shared.started_at))),
        if shared.ready.load(Ordering::Acquire) {
            "ready"
        } else {
            "draining"
        }
    );
    o.push_str("<p><a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a> · <a href=\"/readyz\">/readyz</a> · <a href=\"/refused.json\">/refused.json</a></p>\n");
    o.push_str("<h2>Active policy</h2>\n<table><tr><th>rule</th><th>matches</th><th>origins</th><th>methods</th><th>headers</th><th>expose</th><th>credentials</th><th>max-age</th><th>mode</th><th>upstream</th></tr>\n");
    for s in policy.summaries() {
        let join = |v: &[String]| escape(&v.join(", "));
        let matches = if s.hosts.is_empty() {
            escape(&s.matcher)
        } else {
            format!("{} on {}", escape(&s.matcher), join(&s.hosts))
        };
        let mode = if !s.cors {
            "cors: false".to_owned()
        } else {
            escape(&format!("{:?}/{:?}", s.mode, s.on_reject).to_lowercase())
        };
        let upstream = s
            .upstream
            .clone()
            .or_else(|| policy.gateway().and_then(|g| g.upstream.clone()))
            .unwrap_or_else(|| "(default)".into());
        let _ = writeln!(
            o,
            "<tr><td><code>{}</code></td><td>{matches}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{mode}</td><td>{}</td></tr>",
            escape(&s.name),
            join(&s.allow_origins),
            join(&s.allow_methods),
            join(&s.allow_headers),
            join(&s.expose_headers),
            s.allow_credentials,
            s.max_age.map_or_else(|| "-".into(), |m| m.to_string()),
            escape(&upstream),
        );
    }
    o.push_str("</table>\n");
    let refused = shared.refusals.snapshot();
    let _ = writeln!(
        o,
        "<h2>Last refused requests ({} shown, newest first)</h2>",
        refused.len()
    );
    if refused.is_empty() {
        o.push_str("<p>None yet.</p>\n");
    }
    o.push_str("<ol id=\"refused\">\n");
    for r in &refused {
        let t = &r.trace;
        let _ = write!(
            o,
            "<li class=\"refused\"><details><summary>{} <code>{} {}</code> from <code>{}</code>: <b>{}</b> — {}</summary>\n<pre>{}</pre>",
            escape(&rfc3339(r.at_unix)),
            escape(&t.method),
            escape(&t.path),
            escape(t.origin.as_deref().unwrap_or("(none)")),
            escape(r.code()),
            escape(&t.reason),
            escape(&t.to_string()),
        );
        if let Some(fix) = &t.fix {
            let _ = write!(o, "<p>Fix: {}</p>", escape(&fix.to_string()));
        }
        let _ = writeln!(
            o,
            "<p>policy version {}</p></details></li>",
            r.policy_version
        );
    }
    o.push_str("</ol>\n");
    let _ = writeln!(
        o,
        "<p><small>rendered {}</small></p></body></html>",
        escape(&rfc3339(unix(SystemTime::now())))
    );
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    use super::host_allowed;

    #[test]
    fn dns_rebinding_hosts_are_refused() {
        let extra = vec!["admin.internal".to_owned(), "ops.example:9901".to_owned()];
        for ok in [
            None,
            Some("127.0.0.1:9901"),
            Some("10.0.0.5:9901"),
            Some("[::1]:9901"),
            Some("localhost:9901"),
            Some("LOCALHOST"),
            Some("app.localhost:9901"),
            Some("admin.internal:9901"),
            Some("ops.example:9901"),
        ] {
            assert!(host_allowed(ok, &extra), "{ok:?}");
        }
        for bad in [
            Some("attacker.example"),
            Some("attacker.example:9901"),
            Some("localhost.attacker.example"),
            Some("evillocalhost"),
            Some("ops.example:80"),
            Some("[not-an-ip]"),
            Some("127.0.0.1.attacker.example"),
        ] {
            assert!(!host_allowed(bad, &extra), "{bad:?}");
        }
    }
}
