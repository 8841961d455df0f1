//! Proxy header hygiene: hop-by-hop headers (RFC 9110 §7.6.1) and
//! `X-Forwarded-For/-Proto/-Host` / `Forwarded` (RFC 7239), trusted only from
//! `gateway.trusted_proxies`.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// End-to-end headers a `Connection` line can never remove: the request's identity and
/// credentials, and the forwarding chain (a client or a sloppy front proxy listing them
/// would otherwise strip them before the upstream sees them).
static PROTECTED: [&HeaderName; 11] = [
    &header::HOST,
    &header::ORIGIN,
    &header::AUTHORIZATION,
    &header::COOKIE,
    &header::CONTENT_LENGTH,
    &header::CONTENT_TYPE,
    &header::FORWARDED,
    &X_FORWARDED_FOR,
    &X_FORWARDED_PROTO,
    &X_FORWARDED_HOST,
    &X_REAL_IP,
];

/// Removes hop-by-hop headers: `Connection` and every header it lists (except the
/// end-to-end ones in `PROTECTED`), `Keep-Alive`, `Proxy-Connection`, `Proxy-Authorization`,
/// `Proxy-Authenticate`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`. For a protocol
/// upgrade (`keep_upgrade`), `Upgrade` is kept and `Connection: upgrade` re-set.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    if headers.contains_key(header::CONNECTION) {
        let listed: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
            .filter(|n| !PROTECTED.contains(&n))
            .collect();
        for n in listed {
            if keep_upgrade && n == header::UPGRADE {
                continue;
            }
            headers.remove(&n);
        }
    }
    for n in [
        &header::CONNECTION,
        &KEEP_ALIVE,
        &PROXY_CONNECTION,
        &header::PROXY_AUTHORIZATION,
        &header::PROXY_AUTHENTICATE,
        &header::TE,
        &header::TRAILER,
        &header::TRANSFER_ENCODING,
    ] {
        headers.remove(n);
    }
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// `true` for an HTTP/1.1 protocol upgrade request (`Connection: upgrade` + `Upgrade`).
pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// `true` if `Upgrade` names `websocket`.
pub(crate) fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
}

/// Whether `peer` is one of the trusted proxies.
pub(crate) fn is_trusted(peer: IpAddr, trusted: &[ipnet::IpNet]) -> bool {
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|n| n.contains(&peer))
}

/// The scheme and host the client used, as far as the gateway can tell: from a trusted
/// proxy's `X-Forwarded-Proto/-Host` (or `Forwarded: proto=…;host=…`), else the connection's
/// scheme and the request's authority / `Host`.
#[derive(Debug, Clone)]
pub(crate) struct ClientView {
    pub(crate) scheme: String,
    pub(crate) host: Option<String>,
}

fn first_element(v: &HeaderValue) -> Option<&str> {
    v.to_str()
        .ok()
        .and_then(|s| s.split(',').next())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A parameter of the first `Forwarded` element.
fn forwarded_param(headers: &HeaderMap, name: &str) -> Option<String> {
    let first = first_element(headers.get(header::FORWARDED)?)?;
    first.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

impl ClientView {
    pub(crate) fn of(
        headers: &HeaderMap,
        uri: &http::Uri,
        conn_scheme: &str,
        trusted: bool,
    ) -> ClientView {
        let own_host = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
        if !trusted {
            return ClientView {
                scheme: conn_scheme.to_owned(),
                host: own_host,
            };
        }
        let scheme = headers
            .get(&X_FORWARDED_PROTO)
            .and_then(first_element)
            .map(str::to_ascii_lowercase)
            .or_else(|| forwarded_param(headers, "proto").map(|s| s.to_ascii_lowercase()))
            .filter(|s| s == "http" || s == "https")
            .unwrap_or_else(|| conn_scheme.to_owned());
        let host = headers
            .get(&X_FORWARDED_HOST)
            .and_then(first_element)
            .map(str::to_owned)
            .or_else(|| forwarded_param(headers, "host"))
            .or(own_host);
        ClientView { scheme, host }
    }
}

/// Sets `X-Forwarded-For/-Proto/-Host` on the upstream request. From an untrusted peer,
/// incoming `Forwarded` / `X-Forwarded-*` are discarded (they could be forged) and replaced;
/// from a trusted proxy, the peer is appended to `X-Forwarded-For` and the proxy's
/// `-Proto`/`-Host`/`Forwarded` are kept.
pub(crate) fn set_forwarded(
    headers: &mut HeaderMap,
    peer: IpAddr,
    trusted: bool,
    view: &ClientView,
) {
    let peer_s = peer.to_string();
    if trusted {
        let prior: Vec<String> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let xff = if prior.is_empty() {
            peer_s
        } else {
            format!("{}, {peer_s}", prior.join(", "))
        };
        if let Ok(v) = HeaderValue::from_str(&xff) {
            headers.insert(X_FORWARDED_FOR.clone(), v);
        }
    } else {
        headers.remove(header::FORWARDED);
        headers.remove(&X_FORWARDED_HOST);
        if let Ok(v) = HeaderValue::from_str(&peer_s) {
            headers.insert(X_FORWARDED_FOR.clone(), v.clone());
            // `X-Real-IP` is believed by many apps: from an untrusted peer it is the peer.
            headers.insert(X_REAL_IP.clone(), v);
        }
    }
    if (!trusted || !headers.contains_key(&X_FORWARDED_PROTO))
        && let Ok(v) = HeaderValue::from_str(&view.scheme)
    {
        headers.insert(X_FORWARDED_PROTO.clone(), v);
    }
    if (!trusted || !headers.contains_key(&X_FORWARDED_HOST))
        && let Some(h) = view
            .host
            .as_deref()
            .and_then(|h| HeaderValue::from_str(h).ok())
    {
        headers.insert(X_FORWARDED_HOST.clone(), h);
    }
}

/// Removes every `Access-Control-*` response header (the decision writes its own).
pub(crate) fn strip_access_control(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|n| n.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for n in names {
        headers.remove(&n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_connection_listed_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("upgrade", HeaderValue::from_static("h2c"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn connection_cannot_strip_end_to_end_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static(
                "close, origin, authorization, cookie, x-forwarded-for, host, x-drop",
            ),
        );
        for n in [
            "origin",
            "authorization",
            "cookie",
            "x-forwarded-for",
            "host",
            "x-drop",
        ] {
            h.insert(HeaderName::from_static(n), HeaderValue::from_static("v"));
        }
        h.insert(
            "proxy-authorization",
            HeaderValue::from_static("Basic eA=="),
        );
        strip_hop_by_hop(&mut h, false);
        for n in [
            "origin",
            "authorization",
            "cookie",
            "x-forwarded-for",
            "host",
        ] {
            assert!(h.contains_key(n), "{n} was stripped");
        }
        assert!(!h.contains_key("x-drop"));
        assert!(!h.contains_key("proxy-authorization"));
        assert!(!h.contains_key("connection"));
    }

    #[test]
    fn untrusted_x_real_ip_is_the_peer() {
        let mut h = HeaderMap::new();
        h.insert("x-real-ip", HeaderValue::from_static("6.6.6.6"));
        let view = ClientView {
            scheme: "http".into(),
            host: None,
        };
        set_forwarded(&mut h, "10.1.2.3".parse().unwrap(), false, &view);
        assert_eq!(h["x-real-ip"], "10.1.2.3");
    }

    #[test]
    fn untrusted_forwarded_headers_are_replaced() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        h.insert("x-forwarded-host", HeaderValue::from_static("evil"));
        h.insert("forwarded", HeaderValue::from_static("for=6.6.6.6"));
        let view = ClientView {
            scheme: "http".into(),
            host: Some("api.test".into()),
        };
        set_forwarded(&mut h, "10.1.2.3".parse().unwrap(), false, &view);
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert_eq!(h["x-forwarded-host"], "api.test");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert!(!h.contains_key("forwarded"));
    }

    #[test]
    fn trusted_proxies_are_appended_and_believed() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("api.example.com"),
        );
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(is_trusted(peer, &trusted));
        let uri: http::Uri = "/x".parse().unwrap();
        let view = ClientView::of(&h, &uri, "http", true);
        assert_eq!(view.scheme, "https");
        assert_eq!(view.host.as_deref(), Some("api.example.com"));
        set_forwarded(&mut h, peer, true, &view);
        assert_eq!(h["x-forwarded-for"], "1.2.3.4, 10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "https");
    }

    #[test]
    fn forwarded_header_from_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert(
            "forwarded",
            HeaderValue::from_static(
                "for=1.2.3.4;proto=https;host=\"api.example.com\", for=5.6.7.8",
            ),
        );
        let uri: http::Uri = "/x".parse().unwrap();
        let view = ClientView::of(&h, &uri, "http", true);
        assert_eq!(view.scheme, "https");
        assert_eq!(view.host.as_deref(), Some("api.example.com"));
    }
}
