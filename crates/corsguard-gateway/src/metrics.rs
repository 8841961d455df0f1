//! The gateway's metrics, rendered as Prometheus text.
//!
//! Why hand-rolled atomics instead of the `metrics` facade + `metrics-exporter-prometheus`:
//! every label set here is small and fixed (request kind × verdict, nine refusal codes, a
//! handful of statuses), so a struct of `AtomicU64`s is exact, lock-free and allocation-free
//! on the request path; and because it is owned by one gateway instead of a process-global
//! recorder, several gateways in one process (the test suite starts dozens) keep separate
//! counts, and nothing has to call `install_recorder()` or `run_upkeep()`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use corsguard::adapter::{Decision, RequestKind};
use corsguard::{CsrfVerdict, Refusal};

const KINDS: [&str; 4] = ["preflight", "actual", "non-cors", "same-origin"];
const VERDICTS: [&str; 3] = ["allowed", "refused", "none"];
const REFUSALS: [Refusal; 9] = [
    Refusal::OriginNotAllowed,
    Refusal::NullOrigin,
    Refusal::OriginTooLong,
    Refusal::MultipleOrigins,
    Refusal::MethodNotAllowed,
    Refusal::InvalidRequestMethod,
    Refusal::HeaderNotAllowed,
    Refusal::MalformedRequestHeaders,
    Refusal::PrivateNetworkNotAllowed,
];
/// Statuses the gateway produces itself.
const GATEWAY_STATUSES: [u16; 7] = [400, 403, 413, 431, 502, 503, 504];
/// Upper bounds (seconds) of the upstream latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Counters and gauges of one gateway. Read them with [`Metrics::render`] (what `/metrics`
/// serves) or the accessors.
///
/// ```
/// let m = corsguard_gateway::Metrics::default();
/// m.record_reload(true);
/// assert!(m.render().contains("corsguard_reloads_total{result=\"ok\"} 1"));
/// ```
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; 3]; 4],
    refusals: [AtomicU64; 9],
    gateway_responses: [AtomicU64; 7],
    latency_buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    policy_version: AtomicU64,
    policy_loaded_unix: AtomicU64,
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    websocket_tunnels_open: AtomicU64,
    refusal_log_lines_dropped: AtomicU64,
    send_timeouts: AtomicU64,
    tunnel_idle_timeouts: AtomicU64,
    header_read_timeouts: AtomicU64,
    /// CSRF refusals by rule (`defaults`, `paths[0]` … `paths[29]`, then one slot for every
    /// later rule) × mode (enforce, report): labels come from the policy, never the request.
    csrf_refusals: [[AtomicU64; CSRF_RULE_SLOTS]; 2],
}

/// Rule slots of `corsguard_csrf_refusals_total`: the defaults, `paths[0]`..`paths[29]`, and
/// `other` for the rest.
const CSRF_RULE_SLOTS: usize = 32;

fn csrf_rule_label(slot: usize) -> String {
    match slot {
        0 => "defaults".into(),
        s if s + 1 == CSRF_RULE_SLOTS => "other".into(),
        s => format!("paths[{}]", s - 1),
    }
}

fn kind_index(k: RequestKind) -> usize {
    match k {
        RequestKind::Preflight => 0,
        RequestKind::Actual => 1,
        RequestKind::SameOrigin => 3,
        // NonCors, and any kind a later engine adds.
        _ => 2,
    }
}

impl Metrics {
    /// Counts one decided request: kind (`preflight`, `actual`, `non-cors`, `same-origin`) ×
    /// verdict (`allowed`, `refused`, or `none` when CORS did not apply), and the refusal
    /// reason.
    pub fn record_decision(&self, d: &Decision) {
        let verdict = if d.refusal().is_some() {
            1
        } else if d.is_allowed() {
            0
        } else {
            2
        };
        if let Some(row) = self.requests.get(kind_index(d.kind()))
            && let Some(c) = row.get(verdict)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(r) = d.refusal()
            && let Some(i) = REFUSALS.iter().position(|x| *x == r)
            && let Some(c) = self.refusals.get(i)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let CsrfVerdict::Refused { enforced, .. } = d.csrf() {
            let slot = d
                .rule_index()
                .map_or(0, |i| (i + 1).min(CSRF_RULE_SLOTS - 1));
            if let Some(c) = self
                .csrf_refusals
                .get(usize::from(!enforced))
                .and_then(|row| row.get(slot))
            {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// CSRF refusals counted for `rule` (`defaults`, `paths[N]`, `other`) in `mode`
    /// (`enforce` or `report`).
    ///
    /// ```
    /// assert_eq!(corsguard_gateway::Metrics::default().csrf_refusals("defaults", "enforce"), 0);
    /// ```
    pub fn csrf_refusals(&self, rule: &str, mode: &str) -> u64 {
        let row = usize::from(mode == "report");
        (0..CSRF_RULE_SLOTS)
            .find(|s| csrf_rule_label(*s) == rule)
            .and_then(|s| self.csrf_refusals.get(row).and_then(|r| r.get(s)))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Requests of `kind` (`preflight`, `actual`, `non-cors`, `same-origin`) with `verdict`
    /// (`allowed`, `refused`, `none`).
    pub fn requests(&self, kind: &str, verdict: &str) -> u64 {
        let (Some(k), Some(v)) = (
            KINDS.iter().position(|x| *x == kind),
            VERDICTS.iter().position(|x| *x == verdict),
        ) else {
            return 0;
        };
        self.requests
            .get(k)
            .and_then(|r| r.get(v))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Counts a response the gateway produced itself (403, 413, 431, 502, 503, 504).
    pub fn record_gateway_response(&self, status: u16) {
        if let Some(i) = GATEWAY_STATUSES.iter().position(|s| *s == status)
            && let Some(c) = self.gateway_responses.get(i)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records the time until the upstream's response head arrived.
    pub fn record_upstream_latency(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (b, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts a reload attempt.
    pub fn record_reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Successful and failed reloads so far.
    pub fn reloads(&self) -> (u64, u64) {
        (
            self.reloads_ok.load(Ordering::Relaxed),
            self.reloads_failed.load(Ordering::Relaxed),
        )
    }

    /// Sets the active policy version and when it was loaded (Unix seconds).
    pub fn set_policy(&self, version: u64, loaded_unix: u64) {
        self.policy_version.store(version, Ordering::Relaxed);
        self.policy_loaded_unix
            .store(loaded_unix, Ordering::Relaxed);
    }

    pub(crate) fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn tunnel_opened(&self) {
        self.websocket_tunnels_open.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tunnel_closed(&self) {
        self.websocket_tunnels_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn refusal_log_lines_dropped(&self, n: u64) {
        self.refusal_log_lines_dropped
            .fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn send_timeout(&self) {
        self.send_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tunnel_idle_timeout(&self) {
        self.tunnel_idle_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn header_read_timeout(&self) {
        self.header_read_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Client connections open now (WebSocket tunnels included: a tunnel keeps its
    /// connection's slot under `limits.max_connections`).
    ///
    /// ```
    /// assert_eq!(corsguard_gateway::Metrics::default().connections_open(), 0);
    /// ```
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// Refusal log lines not written because of the rate limit.
    ///
    /// ```
    /// assert_eq!(corsguard_gateway::Metrics::default().refusal_log_lines_dropped_total(), 0);
    /// ```
    pub fn refusal_log_lines_dropped_total(&self) -> u64 {
        self.refusal_log_lines_dropped.load(Ordering::Relaxed)
    }

    /// Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        o.push_str("# HELP corsguard_requests_total Requests decided by the CORS policy, by kind and verdict.\n# TYPE corsguard_requests_total counter\n");
        for (k, row) in KINDS.iter().zip(&self.requests) {
            for (v, c) in VERDICTS.iter().zip(row) {
                let _ = writeln!(
                    o,
                    "corsguard_requests_total{{kind=\"{k}\",verdict=\"{v}\"}} {}",
                    load(c)
                );
            }
        }
        o.push_str("# HELP corsguard_refusals_total Refused CORS requests, by reason.\n# TYPE corsguard_refusals_total counter\n");
        for (r, c) in REFUSALS.iter().zip(&self.refusals) {
            let _ = writeln!(
                o,
                "corsguard_refusals_total{{reason=\"{}\"}} {}",
                r.code(),
                load(c)
            );
        }
        o.push_str("# HELP corsguard_csrf_refusals_total Unsafe cross-origin requests refused by the CSRF check, by rule and mode (report: counted, not blocked).\n# TYPE corsguard_csrf_refusals_total counter\n");
        for (mode, row) in ["enforce", "report"].iter().zip(&self.csrf_refusals) {
            for (slot, c) in row.iter().enumerate() {
                let n = load(c);
                // Every rule's series would be mostly zeros: only the defaults always show.
                if n > 0 || slot == 0 {
                    let _ = writeln!(
                        o,
                        "corsguard_csrf_refusals_total{{rule=\"{}\",mode=\"{mode}\"}} {n}",
                        csrf_rule_label(slot)
                    );
                }
            }
        }
        o.push_str("# HELP corsguard_gateway_responses_total Responses produced by the gateway itself (limits, upstream failures, WebSocket origin checks), by status.\n# TYPE corsguard_gateway_responses_total counter\n");
        for (s, c) in GATEWAY_STATUSES.iter().zip(&self.gateway_responses) {
            let _ = writeln!(
                o,
                "corsguard_gateway_responses_total{{status=\"{s}\"}} {}",
                load(c)
            );
        }
        o.push_str("# HELP corsguard_upstream_latency_seconds Time until the upstream's response head arrived.\n# TYPE corsguard_upstream_latency_seconds histogram\n");
        for (b, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                o,
                "corsguard_upstream_latency_seconds_bucket{{le=\"{b}\"}} {}",
                load(c)
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            o,
            "corsguard_upstream_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "corsguard_upstream_latency_seconds_sum {}",
            load(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(o, "corsguard_upstream_latency_seconds_count {count}");
        o.push_str("# HELP corsguard_reloads_total Policy reload attempts, by result.\n# TYPE corsguard_reloads_total counter\n");
        let _ = writeln!(
            o,
            "corsguard_reloads_total{{result=\"ok\"}} {}",
            load(&self.reloads_ok)
        );
        let _ = writeln!(
            o,
            "corsguard_reloads_total{{result=\"failed\"}} {}",
            load(&self.reloads_failed)
        );
        let gauges: [(&str, &str, &AtomicU64); 9] = [
            (
                "corsguard_policy_version",
                "Version of the active policy (1 at start, +1 per successful reload).",
                &self.policy_version,
            ),
            (
                "corsguard_policy_loaded_timestamp_seconds",
                "When the active policy was loaded (Unix time).",
                &self.policy_loaded_unix,
            ),
            (
                "corsguard_connections_open",
                "Client connections currently open (WebSocket tunnels included).",
                &self.connections_open,
            ),
            (
                "corsguard_websocket_tunnels_open",
                "WebSocket tunnels currently open.",
                &self.websocket_tunnels_open,
            ),
            (
                "corsguard_connections_total",
                "Client connections accepted.",
                &self.connections_total,
            ),
            (
                "corsguard_refusal_log_lines_dropped_total",
                "Refusal log lines not written because of the rate limit.",
                &self.refusal_log_lines_dropped,
            ),
            (
                "corsguard_send_timeouts_total",
                "Responses aborted because no byte moved for timeouts.send.",
                &self.send_timeouts,
            ),
            (
                "corsguard_tunnel_idle_timeouts_total",
                "WebSocket tunnels closed after timeouts.tunnel_idle without traffic.",
                &self.tunnel_idle_timeouts,
            ),
            (
                "corsguard_header_read_timeouts_total",
                "Connections closed because no request head arrived within timeouts.client_header_read.",
                &self.header_read_timeouts,
            ),
        ];
        for (name, help, c) in gauges {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                o,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                load(c)
            );
        }
        o
    }
}
