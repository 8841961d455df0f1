//! The last N refused requests with their traces, for the admin page (a bounded ring
//! buffer: memory stays constant whatever the traffic).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use corsguard::{Refusal, Trace};

/// One refused request as the admin page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedRequest {
    /// When it was decided (Unix seconds).
    pub at_unix: u64,
    /// Policy version that refused it.
    pub policy_version: u64,
    /// The refusal.
    pub refusal: Refusal,
    /// The engine's full trace (reason, checks, fix).
    pub trace: Trace,
}

/// A bounded log of refusals.
#[derive(Debug)]
pub(crate) struct RefusalLog {
    capacity: usize,
    entries: Mutex<VecDeque<RefusedRequest>>,
}

impl RefusalLog {
    pub(crate) fn new(capacity: usize) -> Self {
        RefusalLog {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    pub(crate) fn push(&self, r: RefusedRequest) {
        if self.capacity == 0 {
            return;
        }
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        while e.len() >= self.capacity {
            e.pop_front();
        }
        e.push_back(r);
    }

    /// Newest first.
    pub(crate) fn snapshot(&self) -> Vec<RefusedRequest> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.iter().rev().cloned().collect()
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

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
