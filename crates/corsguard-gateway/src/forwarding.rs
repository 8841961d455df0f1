//! Proxy header hygiene: hop-by-hop headers (RFC 9110 §7.6.1) and
//! `X-Forwarded-For/-Proto/-Host` / `Forwarded` (RFC 7239), trusted only from
//! `gateway.trusted_proxies`.

use std::borrow::Cow;
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

/// The client connection's peer, computed once per connection: its address as a header value (for `X-Forwarded-For` / `X-Real-IP`), and whether it is a trusted proxy.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) value: HeaderValue,
    pub(crate) trusted: bool,
}

impl Peer {
    pub(crate) fn new(addr: std::net::SocketAddr, trusted: &[ipnet::IpNet]) -> Peer {
        let ip = match addr.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr.ip(), IpAddr::V4),
            v4 => v4,
        };
        Peer {
            value: HeaderValue::from_str(&ip.to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
            trusted: is_trusted(addr.ip(), trusted),
        }
    }
}

/// The scheme and host the client used, as far as the gateway can tell: from a trusted
/// proxy's `X-Forwarded-Proto/-Host` (or `Forwarded: proto=…;host=…`), else the connection's
/// scheme and the request's authority / `Host`. Built without allocating in the common case
/// (the `Host` value is shared, the scheme static).
#[derive(Debug, Clone)]
pub(crate) struct ClientView {
    pub(crate) scheme: Cow<'static, str>,
    host: Option<HeaderValue>,
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

fn static_scheme(s: &str) -> Option<&'static str> {
    if s.eq_ignore_ascii_case("https") {
        Some("https")
    } else if s.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

impl ClientView {
    #[cfg(test)]
    pub(crate) fn new(scheme: &'static str, host: Option<&'static str>) -> ClientView {
        ClientView {
            scheme: Cow::Borrowed(scheme),
            host: host.map(HeaderValue::from_static),
        }
    }

    /// The host (with port, if any) the client addressed.
    pub(crate) fn host(&self) -> Option<&str> {
        self.host.as_ref().and_then(|h| h.to_str().ok())
    }

    pub(crate) fn of(
        headers: &HeaderMap,
        uri: &http::Uri,
        conn_scheme: &'static str,
        trusted: bool,
    ) -> ClientView {
        let own_host = match uri.authority() {
            Some(a) => HeaderValue::from_str(a.as_str()).ok(),
            None => headers.get(header::HOST).cloned(),
        };
        if !trusted {
            return ClientView {
                scheme: Cow::Borrowed(conn_scheme),
                host: own_host,
            };
        }
        let scheme = headers
            .get(&X_FORWARDED_PROTO)
            .and_then(first_element)
            .and_then(static_scheme)
            .or_else(|| forwarded_param(headers, "proto").and_then(|s| static_scheme(&s)))
            .unwrap_or(conn_scheme);
        let host = headers
            .get(&X_FORWARDED_HOST)
            .and_then(first_element)
            .map(str::to_owned)
            .or_else(|| forwarded_param(headers, "host"))
            .and_then(|h| HeaderValue::from_str(&h).ok())
            .or(own_host);
        ClientView {
            scheme: Cow::Borrowed(scheme),
            host,
        }
    }
}

/// Sets `X-Forwarded-For/-Proto/-Host` (and `X-Real-IP`) on the upstream request. From an
/// untrusted peer, incoming `Forwarded` / `X-Forwarded-*` / `X-Real-IP` are discarded (they
/// could be forged) and replaced; from a trusted proxy, the peer is appended to
/// `X-Forwarded-For` and the proxy's `-Proto`/`-Host`/`Forwarded`/`X-Real-IP` are kept.
pub(crate) fn set_forwarded(headers: &mut HeaderMap, peer: &Peer, view: &ClientView) {
    if peer.trusted {
        let mut prior = headers.get_all(&X_FORWARDED_FOR).iter().peekable();
        if prior.peek().is_none() {
            headers.insert(X_FORWARDED_FOR.clone(), peer.value.clone());
        } else {
            let mut xff: Vec<u8> = Vec::with_capacity(64);
            for v in prior {
                xff.extend_from_slice(v.as_bytes());
                xff.extend_from_slice(b", ");
            }
            xff.extend_from_slice(peer.value.as_bytes());
            if let Ok(v) = HeaderValue::from_bytes(&xff) {
                headers.insert(X_FORWARDED_FOR.clone(), v);
            }
        }
        if !headers.contains_key(&X_REAL_IP) {
            headers.insert(X_REAL_IP.clone(), peer.value.clone());
        }
    } else {
        headers.remove(header::FORWARDED);
        headers.remove(&X_FORWARDED_HOST);
        headers.insert(X_FORWARDED_FOR.clone(), peer.value.clone());
        // `X-Real-IP` is believed by many apps: from an untrusted peer it is the peer.
        headers.insert(X_REAL_IP.clone(), peer.value.clone());
    }
    if !peer.trusted || !headers.contains_key(&X_FORWARDED_PROTO) {
        let proto = match static_scheme(&view.scheme) {
            Some("https") => HeaderValue::from_static("https"),
            _ => HeaderValue::from_static("http"),
        };
        headers.insert(X_FORWARDED_PROTO.clone(), proto);
    }
    if (!peer.trusted || !headers.contains_key(&X_FORWARDED_HOST))
        && let Some(h) = &view.host
    {
        headers.insert(X_FORWARDED_HOST.clone(), h.clone());
    }
}

/// Removes every `Access-Control-*` response header (the decision writes its own);
/// allocates only when there is one.
pub(crate) fn strip_access_control(headers: &mut HeaderMap) {
    if !headers
        .keys()
        .any(|n| n.as_str().starts_with("access-control-"))
    {
        return;
    }
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
        let view = ClientView::new("http", None);
        let peer = Peer::new("10.1.2.3:5000".parse().unwrap(), &[]);
        set_forwarded(&mut h, &peer, &view);
        assert_eq!(h["x-real-ip"], "10.1.2.3");
    }

    #[test]
    fn untrusted_forwarded_headers_are_replaced() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        h.insert("x-forwarded-host", HeaderValue::from_static("evil"));
        h.insert("forwarded", HeaderValue::from_static("for=6.6.6.6"));
        let view = ClientView::new("http", Some("api.test"));
        let peer = Peer::new("10.1.2.3:5000".parse().unwrap(), &[]);
        set_forwarded(&mut h, &peer, &view);
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
        assert_eq!(view.host(), Some("api.example.com"));
        let peer = Peer::new(std::net::SocketAddr::new(peer, 5000), &trusted);
        assert!(peer.trusted);
        set_forwarded(&mut h, &peer, &view);
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
        assert_eq!(view.host(), Some("api.example.com"));
    }
}
