//! The `gateway:` section, read by `corsguard serve`. It lives in the engine so that one
//! validator (and `corsguard check`) covers the whole file with precise locations.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::schema::{Walker, join};
use super::tree::{Node, NodeKind};
use crate::Code;

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
    /// HTTP/2 towards clients.
    pub http2: Http2Settings,
    /// How request paths are made canonical before rules are matched and the request is
    /// forwarded.
    pub normalize: NormalizeSettings,
    /// `Host` values the admin listener answers (besides loopback names and its own
    /// `admin_listen` address); any other `Host` gets 421, so a DNS-rebinding page cannot
    /// read it.
    pub admin_hosts: Vec<String>,
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
            http2: Http2Settings::default(),
            normalize: NormalizeSettings::default(),
            admin_hosts: Vec::new(),
        }
    }
}

/// HTTP/2 settings (towards clients).
///
/// ```
/// assert_eq!(corsguard::gateway::Http2Settings::default().max_concurrent_streams, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Http2Settings {
    /// Concurrent streams one client connection may open (default 100, as Envoy and
    /// nginx recommend): one connection can never fan out to more upstream requests.
    pub max_concurrent_streams: u32,
}

impl Default for Http2Settings {
    fn default() -> Self {
        Http2Settings {
            max_concurrent_streams: 100,
        }
    }
}

/// What the gateway does with `%2F` / `%5C` (an encoded `/` or `\`) in a request path.
///
/// ```
/// assert_eq!(corsguard::gateway::EncodedSlashes::default(), corsguard::gateway::EncodedSlashes::Reject);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EncodedSlashes {
    /// Answer 400: the path means one thing to the rules and maybe another to an upstream
    /// that decodes it (the default, like Envoy's `REJECT_REQUEST`).
    #[default]
    Reject,
    /// Keep them encoded and match rules on the encoded text (for APIs whose path
    /// segments hold encoded slashes; the upstream must not decode them before routing).
    Keep,
}

/// Path normalisation settings (`gateway.normalize`).
///
/// ```
/// let n = corsguard::gateway::NormalizeSettings::default();
/// assert_eq!(n.encoded_slashes, corsguard::gateway::EncodedSlashes::Reject);
/// assert!(n.merge_slashes);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NormalizeSettings {
    /// `%2F` / `%5C` in a path: `reject` (default) or `keep`.
    pub encoded_slashes: EncodedSlashes,
    /// Merge runs of `/` into one (default `true`, as nginx and Envoy's `merge_slashes`):
    /// `//admin/x` is then judged by the `/admin/` rule, as the upstream serves it.
    pub merge_slashes: bool,
}

impl Default for NormalizeSettings {
    fn default() -> Self {
        NormalizeSettings {
            encoded_slashes: EncodedSlashes::Reject,
            merge_slashes: true,
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
    /// A response that moves no byte for this long (the client does not read, or the
    /// upstream sends nothing) is aborted and its connection closed (default 60 s, as
    /// nginx's `send_timeout`).
    pub send: Duration,
    /// A WebSocket tunnel with no byte in either direction for this long is closed
    /// (default 60 s, as nginx's `proxy_read_timeout`; keep client pings more frequent).
    pub tunnel_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            upstream_response: Duration::from_secs(30),
            client_header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
            send: Duration::from_secs(60),
            tunnel_idle: Duration::from_secs(60),
        }
    }
}

/// Gateway limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Request head size limit (default 16384) → 431.
    pub max_request_header_bytes: usize,
    /// Request header lines (default 100) → 431.
    pub max_request_headers: usize,
    /// Request body size limit (default 10 MiB) → 413.
    pub max_body_bytes: u64,
    /// Concurrent client connections, WebSocket tunnels included (default 1024) → 503
    /// beyond.
    pub max_connections: usize,
    /// Concurrent requests (so connections) to one upstream (default 256) → 503 when none
    /// frees up within `timeouts.connect`.
    pub max_upstream_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_header_bytes: 16 * 1024,
            max_request_headers: 100,
            max_body_bytes: 10 * 1024 * 1024,
            max_connections: 1024,
            max_upstream_connections: 256,
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
    "http2",
    "normalize",
    "admin_hosts",
];

/// Parses a duration: integer seconds, or a number with `ms`, `s`, `m` or `h`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(corsguard::gateway::parse_duration("250ms"), Some(Duration::from_millis(250)));
/// assert_eq!(corsguard::gateway::parse_duration("3"), Some(Duration::from_secs(3)));
/// assert_eq!(corsguard::gateway::parse_duration("2m"), Some(Duration::from_secs(120)));
/// assert_eq!(corsguard::gateway::parse_duration("soon"), None);
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
                Code::GatewayInvalidAddress,
                p,
                &v.span,
                format!("`{}` is not an IP:port socket address", s.value),
                Some("e.g. 127.0.0.1:8080 or [::1]:8080".into()),
            );
            None
        }
    }
}

const DAY_MS: u64 = 86_400_000;

/// The accepted range of every duration under `gateway.timeouts`, in milliseconds:
/// `(key, min, max)`. Bounded above so that no deadline can overflow a clock.
const DURATION_RANGES: &[(&str, u64, u64)] = &[
    ("connect", 10, DAY_MS),
    ("upstream_response", 10, DAY_MS),
    ("client_header_read", 10, 3_600_000),
    ("idle", 100, DAY_MS),
    ("shutdown_grace", 0, DAY_MS),
    ("send", 10, DAY_MS),
    ("tunnel_idle", 10, DAY_MS),
];

/// The accepted range of every count: `(path under gateway, min, max)`.
const COUNT_RANGES: &[(&str, u64, u64)] = &[
    ("limits.max_request_header_bytes", 1024, 1 << 20),
    ("limits.max_request_headers", 1, 1000),
    ("limits.max_body_bytes", 0, 1 << 40),
    ("limits.max_connections", 1, 1_000_000),
    ("limits.max_upstream_connections", 1, 100_000),
    ("http2.max_concurrent_streams", 1, 10_000),
];

fn range_of(table: &'static [(&'static str, u64, u64)], key: &str) -> (u64, u64) {
    table
        .iter()
        .find(|(k, ..)| *k == key)
        .map_or((0, u64::MAX), |&(_, lo, hi)| (lo, hi))
}

/// `1500` → `1500ms`, `60000` → `60s`, `3600000` → `1h`.
fn fmt_ms(ms: u64) -> String {
    match ms {
        0 => "0s".into(),
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1000 == 0 => format!("{}s", m / 1000),
        m => format!("{m}ms"),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The message for an out-of-range duration, or `None` when it is in range.
fn duration_out_of_range(key: &str, d: Duration) -> Option<(String, String)> {
    let (lo, hi) = range_of(DURATION_RANGES, key);
    let ms = millis(d);
    let sub_ms = d.as_millis() == 0 && !d.is_zero();
    (ms < lo || ms > hi || (sub_ms && lo > 0)).then(|| {
        (
            format!(
                "`timeouts.{key}` is {}: out of range",
                if sub_ms { format!("{d:?}") } else { fmt_ms(ms) }
            ),
            format!("write a duration between {} and {}", fmt_ms(lo), fmt_ms(hi)),
        )
    })
}

/// The message for an out-of-range count, or `None` when it is in range.
fn count_out_of_range(key: &str, n: u64) -> Option<(String, String)> {
    let (lo, hi) = range_of(COUNT_RANGES, key);
    (n < lo || n > hi).then(|| {
        (
            format!("`{key}` is {n}: out of range"),
            format!("write an integer between {lo} and {hi}"),
        )
    })
}

impl GatewaySettings {
    /// Every setting outside its accepted range, one message each (empty when all are
    /// fine). The file reader reports these with locations; this is the same check for
    /// settings built or changed in code.
    ///
    /// ```
    /// let mut g = corsguard::gateway::GatewaySettings::default();
    /// assert!(g.out_of_range().is_empty());
    /// g.timeouts.idle = std::time::Duration::ZERO;
    /// g.limits.max_connections = usize::MAX;
    /// assert_eq!(g.out_of_range().len(), 2);
    /// ```
    pub fn out_of_range(&self) -> Vec<String> {
        let t = &self.timeouts;
        let durations = [
            ("connect", t.connect),
            ("upstream_response", t.upstream_response),
            ("client_header_read", t.client_header_read),
            ("idle", t.idle),
            ("shutdown_grace", t.shutdown_grace),
            ("send", t.send),
            ("tunnel_idle", t.tunnel_idle),
        ];
        let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let counts = [
            (
                "limits.max_request_header_bytes",
                wide(self.limits.max_request_header_bytes),
            ),
            (
                "limits.max_request_headers",
                wide(self.limits.max_request_headers),
            ),
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("limits.max_connections", wide(self.limits.max_connections)),
            (
                "limits.max_upstream_connections",
                wide(self.limits.max_upstream_connections),
            ),
            (
                "http2.max_concurrent_streams",
                u64::from(self.http2.max_concurrent_streams),
            ),
        ];
        durations
            .iter()
            .filter_map(|&(k, d)| duration_out_of_range(k, d))
            .chain(counts.iter().filter_map(|&(k, n)| count_out_of_range(k, n)))
            .map(|(m, h)| format!("gateway: {m} ({h})"))
            .collect()
    }
}

fn duration(w: &mut Walker<'_>, v: &Node, p: &str, key: &str) -> Option<Duration> {
    let d = match &v.kind {
        NodeKind::Int(i) if *i >= 0 => Some(Duration::from_secs(i.unsigned_abs())),
        NodeKind::Str(s) => parse_duration(s),
        _ => None,
    };
    let Some(d) = d else {
        w.error(
            Code::GatewayInvalidDuration,
            p,
            &v.span,
            "a duration must be whole seconds or a string like `500ms`, `5s`, `2m`",
            None,
        );
        return None;
    };
    if let Some((msg, hint)) = duration_out_of_range(key, d) {
        w.error(Code::GatewayOutOfRange, p, &v.span, msg, Some(hint));
        return None;
    }
    Some(d)
}

/// Reads a count at `p` (`gateway.<key>`), in its range.
fn count(w: &mut Walker<'_>, v: &Node, p: &str, key: &str) -> Option<u64> {
    let i = w.int(v, p)?;
    let n = u64::try_from(i.value).unwrap_or(0);
    if i.value < 0 {
        let (lo, hi) = range_of(COUNT_RANGES, key);
        w.error(
            Code::GatewayOutOfRange,
            p,
            &v.span,
            format!("`{key}` is {}: out of range", i.value),
            Some(format!("write an integer between {lo} and {hi}")),
        );
        return None;
    }
    if let Some((msg, hint)) = count_out_of_range(key, n) {
        w.error(Code::GatewayOutOfRange, p, &v.span, msg, Some(hint));
        return None;
    }
    Some(n)
}

fn warning(w: &mut Walker<'_>, code: Code, p: &str, v: &Node, msg: String, hint: &str) {
    let location = w.loc(p, &v.span);
    w.diags.push(crate::diagnostic::Diagnostic {
        severity: crate::diagnostic::Severity::Warning,
        code,
        message: msg,
        hint: Some(hint.into()),
        location,
    });
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
            "admin_listen" => {
                g.admin_listen = addr(w, v, &p);
                if let Some(a) = g.admin_listen
                    && !a.ip().is_loopback()
                {
                    warning(
                        w,
                        Code::GatewayAdminPublic,
                        &p,
                        v,
                        format!(
                            "the admin listener binds {a}, beyond loopback: whoever reaches it \
                             reads the policy, the metrics and the refused requests"
                        ),
                        "bind it to 127.0.0.1 or [::1] and reach it through an SSH tunnel or \
                         a protected proxy",
                    );
                }
            }
            "admin_hosts" => {
                if let Some(list) = w.string_list(v, &p) {
                    g.admin_hosts = list.value.into_iter().map(|s| s.value).collect();
                }
            }
            "http2" => {
                let e = w.entries(v, &p, &[&["max_concurrent_streams"]]);
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    if let Some(n) = count(w, kv, &kp, "http2.max_concurrent_streams") {
                        g.http2.max_concurrent_streams = u32::try_from(n).unwrap_or(u32::MAX);
                    }
                }
            }
            "normalize" => {
                let e = w.entries(v, &p, &[&["encoded_slashes", "merge_slashes"]]);
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    if k.name == "merge_slashes" {
                        if let Some(b) = w.bool(kv, &kp) {
                            g.normalize.merge_slashes = b.value;
                            if !b.value {
                                warning(
                                    w,
                                    Code::GatewaySlashesNotMerged,
                                    &kp,
                                    kv,
                                    "`//` stays in paths: `//admin/x` is judged by the rule \
                                     that matches `//admin/x`, while an upstream that merges \
                                     slashes serves `/admin/x`"
                                        .into(),
                                    "turn it off only for an upstream that keeps `//` too",
                                );
                            }
                        }
                        continue;
                    }
                    let Some(s) = w.string(kv, &kp) else { continue };
                    match s.value.as_str() {
                        "reject" => g.normalize.encoded_slashes = EncodedSlashes::Reject,
                        "keep" => {
                            g.normalize.encoded_slashes = EncodedSlashes::Keep;
                            warning(
                                w,
                                Code::GatewayEncodedSlashesKept,
                                &kp,
                                kv,
                                "`%2F` and `%5C` stay encoded: rules match the encoded path, \
                                 and an upstream that decodes them before routing can serve \
                                 another resource than the one the rule was chosen for"
                                    .into(),
                                "keep it only for APIs whose path segments carry encoded \
                                 slashes, behind an upstream that does not decode them",
                            );
                        }
                        other => w.error(
                            Code::GatewayInvalidValue,
                            &kp,
                            &kv.span,
                            format!("`encoded_slashes` must be `reject` or `keep`, not `{other}`"),
                            Some("reject (the default) or keep".into()),
                        ),
                    }
                }
            }
            "upstream" => {
                if let Some(s) = w.string(v, &p) {
                    match check_upstream(&s.value) {
                        Ok(()) => g.upstream = Some(s.value),
                        Err(m) => w.error(
                            Code::GatewayInvalidUpstream,
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
                        Code::GatewayTlsIncomplete,
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
                        "send",
                        "tunnel_idle",
                    ]],
                );
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    if let Some(d) = duration(w, kv, &kp, &k.name) {
                        let t = &mut g.timeouts;
                        match k.name.as_str() {
                            "connect" => t.connect = d,
                            "upstream_response" => t.upstream_response = d,
                            "client_header_read" => t.client_header_read = d,
                            "idle" => t.idle = d,
                            "send" => t.send = d,
                            "tunnel_idle" => t.tunnel_idle = d,
                            _ => t.shutdown_grace = d,
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
                        "max_request_headers",
                        "max_body_bytes",
                        "max_connections",
                        "max_upstream_connections",
                    ]],
                );
                for (k, kv) in e.iter().map(|e| (&e.0, &e.1)) {
                    let kp = join(&p, &k.name);
                    let key = format!("limits.{}", k.name);
                    if let Some(n) = count(w, kv, &kp, &key) {
                        let l = &mut g.limits;
                        let size = usize::try_from(n).unwrap_or(usize::MAX);
                        match k.name.as_str() {
                            "max_request_header_bytes" => l.max_request_header_bytes = size,
                            "max_request_headers" => l.max_request_headers = size,
                            "max_body_bytes" => l.max_body_bytes = n,
                            "max_upstream_connections" => l.max_upstream_connections = size,
                            _ => l.max_connections = size,
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
                                    Code::GatewayInvalidProxy,
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
