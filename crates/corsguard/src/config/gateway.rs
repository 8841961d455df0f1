//! The `gateway:` section, read by `corsguard serve`. It lives in the engine so that one
//! validator (and `corsguard check`) covers the whole file with precise locations.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::schema::{Walker, join};
use super::tree::{Node, NodeKind};

/// Settings of the `gateway:` section (all optional in the file; defaults shown per field).
///
/// ```
/// use corsguard::Policy;
/// let p = Policy::from_yaml_str(r#"
/// defaults: { allow_origins: ['https://app.example.com'] }
/// gateway:
///   listen: 127.0.0.1:8081
///   upstream: http://127.0.0.1:9000
///   timeouts: { upstream_response: 2s }
///   limits: { max_body_bytes: 1048576 }
/// "#).unwrap();
/// let g = p.gateway().unwrap();
/// assert_eq!(g.listen.port(), 8081);
/// assert_eq!(g.timeouts.upstream_response.as_secs(), 2);
/// assert_eq!(g.limits.max_body_bytes, 1048576);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GatewaySettings {
    /// Address the gateway listens on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Default upstream URL (`http://host:port`); path rules may name their own `upstream`.
    pub upstream: Option<String>,
    /// Address of the admin listener (`/healthz`, `/readyz`, `/metrics`, `/`); off unless set.
    pub admin_listen: Option<SocketAddr>,
    /// TLS towards clients (rustls); ALPN offers h2 and http/1.1.
    pub tls: Option<TlsSettings>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Limits.
    pub limits: Limits,
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed (CIDRs or IPs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// WebSocket handling.
    pub websocket: WebSocketSettings,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream: None,
            admin_listen: None,
            tls: None,
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
            websocket: WebSocketSettings::default(),
        }
    }
}

/// Certificate and key files (PEM).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TlsSettings {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// Gateway timeouts. Written as integer seconds or strings like `500ms`, `5s`, `2m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Timeouts {
    /// Connecting to the upstream (default 5 s).
    pub connect: Duration,
    /// Waiting for the upstream's response head (default 30 s) → 504.
    pub upstream_response: Duration,
    /// Reading a client's request head (default 10 s).
    pub client_header_read: Duration,
    /// Idle keep-alive connections are closed after this (default 60 s).
    pub idle: Duration,
    /// Graceful-shutdown drain deadline (default 30 s).
    pub shutdown_grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            upstream_response: Duration::from_secs(30),
            client_header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Gateway limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Request head size limit (default 16384) → 431.
    pub max_request_header_bytes: usize,
    /// Request body size limit (default 10 MiB) → 413.
    pub max_body_bytes: u64,
    /// Concurrent client connections (default 1024) → 503 beyond.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_header_bytes: 16 * 1024,
            max_body_bytes: 10 * 1024 * 1024,
            max_connections: 1024,
        }
    }
}

/// WebSocket settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct WebSocketSettings {
    /// Refuse (403) handshakes whose `Origin` is not allowed by the policy: the
    /// Cross-Site WebSocket Hijacking guard that CORS itself does not give.
    pub check_origin: bool,
}

pub(crate) type RawGateway = GatewaySettings;

const GATEWAY_KEYS: &[&str] = &[
    "listen",
    "upstream",
    "admin_listen",
    "tls",
    "timeouts",
    "limits",
    "trusted_proxies",
    "websocket",
];

/// Parses a duration: integer seconds, or a number with `ms`, `s`, `m` or `h`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(corsguard::parse_duration("250ms"), Some(Duration::from_millis(250)));
/// assert_eq!(corsguard::parse_duration("3"), Some(Duration::from_secs(3)));
/// assert_eq!(corsguard::parse_duration("2m"), Some(Duration::from_secs(120)));
/// assert_eq!(corsguard::parse_duration("soon"), None);
/// ```
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    match unit.trim() {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

/// Validates an upstream URL (`http://` or `https://`, a host, no query or fragment).
pub(crate) fn check_upstream(s: &str) -> Result<(), String> {
    let u = url::Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "upstream scheme must be http or https, found `{}`",
            u.scheme()
        ));
    }
    if u.host_str().is_none() {
        return Err(format!("upstream `{s}` has no host"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(format!("upstream `{s}` must not have a query or fragment"));
    }
    Ok(())
}

fn addr(w: &mut Walker<'_>, v: &Node, p: &str) -> Option<SocketAddr> {
    let s = w.string(v, p)?;
    match s.value.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            w.error(
                "gateway-invalid-address",
                p,
                &v.span,
                format!("`{}` is not an IP:port socket address", s.value),
                Some("e.g. 127.0.0.1:8080 or [::1]:8080".into()),
            );
            None
        }
    }
}

fn duration(w: &mut Walker<'_>, v: &Node, p: &str) -> Option<Duration> {
    let d = match &v.kind {
        NodeKind::Int(i) if *i >= 0 => Some(Duration::from_secs(i.unsigned_abs())),
        NodeKind::Str(s) => parse_duration(s),
        _ => None,
    };
    if d.is_none() {
        w.error(
            "gateway-invalid-duration",
            p,
            &v.span,
            "a duration must be whole seconds or a string like `500ms`, `5s`, `2m`",
            None,
        );
    }
    d
}

fn count(w: &mut Walker<'_>, v: &Node, p: &str) -> Option<u64> {
    let i = w.int(v, p)?;
    if i.value <= 0 {
        w.error(
            "gateway-invalid-limit",
            p,
            &v.span,
            "a limit must be a positive integer",
            None,
        );
        return None;
    }
    Some(i.value.unsigned_abs())
}

pub(crate) fn read(w: &mut Walker<'_>, node: &Node) -> GatewaySettings {
    let mut g = GatewaySettings::default();
    let entries = w.entries(node, "gateway", &[GATEWAY_KEYS]);
    for (key, v) in entries.iter().map(|e| (&e.0, &e.1)) {
        let p = join("gateway", &key.name);
        match key.name.as_str() {
            "listen" => {
                if let Some(a) = addr(w, v, &p) {
                    g.listen = a;
                }
            }
            "admin_listen" => g.admin_listen = addr(w, v, &p),
            "upstream" => {
                if let Some(s) = w.string(v, &p) {
                    match check_upstream(&s.value) {
                        Ok(()) => g.upstream = Some(s.value),
                        Err(m) => w.error(
                            "gateway-invalid-upstream",
                            &p,
                            &v.span,
                            m,
                            Some("e.g. http://127.0.0.1:9000".into()),
                        ),
                    }
                }
            }
            "tls" => {
                let e = w.entries(v, &p, &[&["cert", "key"]]);
                let mut cert = None;
                let mut keyf = None;
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    let s = w.string(kv, &kp).map(|s| PathBuf::from(s.value));
                    if k.name == "cert" { cert = s } else { keyf = s }
                }
                match (cert, keyf) {
                    (Some(cert), Some(key)) => g.tls = Some(TlsSettings { cert, key }),
                    _ => w.error(
                        "gateway-tls-incomplete",
                        &p,
                        &v.span,
                        "`tls` needs both `cert` and `key`",
                        None,
                    ),
                }
            }
            "timeouts" => {
                let e = w.entries(
                    v,
                    &p,
                    &[&[
                        "connect",
                        "upstream_response",
                        "client_header_read",
                        "idle",
                        "shutdown_grace",
                    ]],
                );
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    if let Some(d) = duration(w, kv, &kp) {
                        match k.name.as_str() {
                            "connect" => g.timeouts.connect = d,
                            "upstream_response" => g.timeouts.upstream_response = d,
                            "client_header_read" => g.timeouts.client_header_read = d,
                            "idle" => g.timeouts.idle = d,
                            _ => g.timeouts.shutdown_grace = d,
                        }
                    }
                }
            }
            "limits" => {
                let e = w.entries(
                    v,
                    &p,
                    &[&[
                        "max_request_header_bytes",
                        "max_body_bytes",
                        "max_connections",
                    ]],
                );
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    if let Some(n) = count(w, kv, &kp) {
                        match k.name.as_str() {
                            "max_request_header_bytes" => {
                                g.limits.max_request_header_bytes =
                                    usize::try_from(n).unwrap_or(usize::MAX)
                            }
                            "max_body_bytes" => g.limits.max_body_bytes = n,
                            _ => {
                                g.limits.max_connections = usize::try_from(n).unwrap_or(usize::MAX)
                            }
                        }
                    }
                }
            }
            "trusted_proxies" => {
                if let Some(list) = w.string_list(v, &p) {
                    for item in list.value {
                        let parsed = item.value.parse::<ipnet::IpNet>().or_else(|_| {
                            item.value
                                .parse::<std::net::IpAddr>()
                                .map(ipnet::IpNet::from)
                        });
                        match parsed {
                            Ok(n) => g.trusted_proxies.push(n),
                            Err(_) => {
                                let span = item.loc.span.map(|s| s.start..s.end).unwrap_or(0..0);
                                w.error(
                                    "gateway-invalid-proxy",
                                    &item.loc.path,
                                    &span,
                                    format!("`{}` is not an IP address or CIDR", item.value),
                                    Some("e.g. 10.0.0.0/8 or 127.0.0.1".into()),
                                )
                            }
                        }
                    }
                }
            }
            _ => {
                let e = w.entries(v, &p, &[&["check_origin"]]);
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    if let Some(b) = w.bool(kv, &join(&p, &k.name)) {
                        g.websocket.check_origin = b.value;
                    }
                }
            }
        }
    }
    g
}
