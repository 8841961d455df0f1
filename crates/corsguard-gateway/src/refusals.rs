//! The last N refused requests with their traces, for the admin page (a bounded ring
//! buffer: memory stays constant whatever the traffic).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use corsguard::{CsrfRefusal, Refusal, Trace};

/// One refused request as the admin page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedRequest {
    /// When it was decided (Unix seconds).
    pub at_unix: u64,
    /// Policy version that refused it.
    pub policy_version: u64,
    /// The CORS refusal, if CORS refused it.
    pub refusal: Option<Refusal>,
    /// The CSRF refusal, if the CSRF check refused it (in either mode).
    pub csrf: Option<CsrfRefusal>,
    /// The engine's full trace (reason, checks, fix; the `csrf` step says why).
    pub trace: Trace,
}

impl RefusedRequest {
    /// The refusal's code: the CSRF one (it decides whether the application runs), else the
    /// CORS one.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let mut head = corsguard::adapter::RequestHead::new("GET", "/");
    /// head.push_header_bytes("origin", b"https://b.example");
    /// let (d, trace) = p.explain(&head);
    /// let r = corsguard_gateway::RefusedRequest { at_unix: 0, policy_version: 1, refusal: d.refusal(), csrf: None, trace };
    /// assert_eq!(r.code(), "origin-not-allowed");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn code(&self) -> &'static str {
        match (self.csrf, self.refusal) {
            (Some(c), _) => c.code(),
            (None, Some(r)) => r.code(),
            (None, None) => "none",
        }
    }

    /// Roughly the bytes this entry holds (its strings), for the log's byte budget.
    fn weight(&self) -> usize {
        let t = &self.trace;
        let steps: usize = t
            .steps
            .iter()
            .map(|s| s.check.len() + s.detail.len() + 16)
            .sum();
        let headers: usize = t.headers.iter().map(|(n, v)| n.len() + v.len() + 16).sum();
        let fix = t.fix.as_ref().map_or(0, |f| {
            f.change.len() + f.warning.as_ref().map_or(0, String::len)
        });
        256 + t.rule.len()
            + t.rule_matcher.len()
            + t.method.len()
            + t.path.len()
            + t.origin.as_ref().map_or(0, String::len)
            + t.reason.len()
            + t.action.len()
            + steps
            + headers
            + fix
    }
}

/// A bounded log of refusals: at most `capacity` entries and `max_bytes` bytes of them.
#[derive(Debug)]
pub(crate) struct RefusalLog {
    capacity: usize,
    max_bytes: usize,
    entries: Mutex<(VecDeque<(usize, RefusedRequest)>, usize)>,
}

/// The refusal log's byte budget (the admin page and `/refused.json` stay small).
pub(crate) const REFUSAL_LOG_BYTES: usize = 1 << 20;

impl RefusalLog {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        RefusalLog {
            capacity,
            max_bytes,
            entries: Mutex::new((VecDeque::with_capacity(capacity.min(1024)), 0)),
        }
    }

    /// `false` when nothing is kept (capacity 0): callers skip building the trace.
    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(crate) fn push(&self, r: RefusedRequest) {
        let w = r.weight();
        if self.capacity == 0 || w > self.max_bytes {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (e, bytes) = &mut *guard;
        while e.len() >= self.capacity || *bytes + w > self.max_bytes {
            match e.pop_front() {
                Some((old, _)) => *bytes -= old,
                None => break,
            }
        }
        *bytes += w;
        e.push_back((w, r));
    }

    /// Newest first.
    pub(crate) fn snapshot(&self) -> Vec<RefusedRequest> {
        let guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.iter().rev().map(|(_, r)| r.clone()).collect()
    }

    /// The bytes held now (by the entries' estimate).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// Refusal log lines written per second; more are counted, not written.
pub(crate) const REFUSAL_LINES_PER_SECOND: u64 = 20;

/// Whether a refusal's log line may be written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Write it; `suppressed` lines were dropped in the windows since the last one written.
    Write { suppressed: u64 },
    /// Over the rate: count it as dropped.
    Drop,
}

/// A fixed-window rate limiter for refusal log lines (lock-free).
#[derive(Debug)]
pub(crate) struct LogLimiter {
    start: Instant,
    per_second: u64,
    window: AtomicU64,
    used: AtomicU64,
    dropped: AtomicU64,
}

impl LogLimiter {
    pub(crate) fn new(per_second: u64) -> Self {
        LogLimiter {
            start: Instant::now(),
            per_second,
            window: AtomicU64::new(0),
            used: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    pub(crate) fn admit(&self) -> Admit {
        self.admit_at(self.start.elapsed().as_secs())
    }

    /// [`LogLimiter::admit`] in the window `now` (seconds since the limiter started).
    fn admit_at(&self, now: u64) -> Admit {
        let w = self.window.load(Ordering::Relaxed);
        if now != w
            && self
                .window
                .compare_exchange(w, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.used.store(0, Ordering::Relaxed);
        }
        if self.used.fetch_add(1, Ordering::Relaxed) < self.per_second {
            Admit::Write {
                suppressed: self.dropped.swap(0, Ordering::Relaxed),
            }
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            Admit::Drop
        }
    }
}

/// Unix seconds of `t` (0 before the epoch).
pub(crate) fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (proleptic Gregorian, UTC).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(origin_len: usize) -> RefusedRequest {
        let p = corsguard::Policy::builder()
            .allow_origin("https://a.example")
            .build()
            .unwrap();
        let origin = http::HeaderValue::from_str(&"o".repeat(origin_len)).unwrap();
        let mut head = corsguard::adapter::RequestHead::new("GET", "/");
        head.push_header(&http::header::ORIGIN, &origin);
        let (d, trace) = p.explain(&head);
        RefusedRequest {
            at_unix: 0,
            policy_version: 1,
            refusal: d.refusal(),
            csrf: None,
            trace,
        }
    }

    #[test]
    fn the_log_is_bounded_in_entries_and_bytes() {
        let log = RefusalLog::new(3, 1 << 20);
        for _ in 0..10 {
            log.push(refused(20));
        }
        assert_eq!(log.snapshot().len(), 3);
        let small = RefusalLog::new(1000, 8 * 1024);
        for _ in 0..1000 {
            small.push(refused(30_000));
        }
        assert!(small.bytes() <= 8 * 1024, "{}", small.bytes());
        assert!(!small.snapshot().is_empty());
        // The trace itself cuts the 30 KB origin.
        let one = refused(30_000);
        assert!(one.weight() < 4096, "{}", one.weight());
        assert!(one.trace.origin.unwrap().ends_with("…(30000 bytes)"));
    }

    #[test]
    fn the_limiter_admits_a_burst_then_counts_drops() {
        let l = LogLimiter::new(5);
        let admitted = (0..50)
            .filter(|_| matches!(l.admit_at(7), Admit::Write { .. }))
            .count();
        assert_eq!(admitted, 5);
        // The next window writes again and reports what was dropped.
        assert_eq!(l.admit_at(8), Admit::Write { suppressed: 45 });
        assert_eq!(l.admit_at(8), Admit::Write { suppressed: 0 });
    }

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
