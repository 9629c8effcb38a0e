//! BIRD's time columns, in local time like BIRD: `tf_base` (`%F %T`, `show status`) and
//! `tf_proto` / `tf_route` (`%T` when younger than 20 hours, else `%F`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// BIRD 1.6's default switch from `%T` to `%F` for protocol and route times.
const SHORT_FORMAT_LIMIT: Duration = Duration::from_secs(20 * 3600);

/// Broken-down local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
    /// `HH:MM:SS`.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// `t` in the local time zone (the C library's `localtime_r`, so `TZ` applies as for BIRD).
pub fn local(t: SystemTime) -> Civil {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    localtime(secs).unwrap_or_else(|| utc(secs))
}

#[allow(unsafe_code)]
fn localtime(secs: i64) -> Option<Civil> {
    let t: libc::time_t = secs;
    // SAFETY: `tm` is a plain C struct for which all-zero bytes are a valid value;
    // `localtime_r` only reads `t` and writes `tm`, both live locals, and is thread-safe.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: as above; a null return means failure and leaves nothing to free.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        return None;
    }
    Some(Civil {
        year: i64::from(tm.tm_year) + 1900,
        month: u32::try_from(tm.tm_mon + 1).ok()?,
        day: u32::try_from(tm.tm_mday).ok()?,
        hour: u32::try_from(tm.tm_hour).ok()?,
        minute: u32::try_from(tm.tm_min).ok()?,
        second: u32::try_from(tm.tm_sec).ok()?,
    })
}

/// UTC civil time from Unix seconds (H. Hinnant's days-from-civil inverse).
pub fn utc(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
    }
}

/// `tf_base`: `YYYY-MM-DD HH:MM:SS`.
pub fn base(t: SystemTime) -> String {
    let c = local(t);
    format!("{} {}", c.date(), c.time())
}

/// `tf_proto` / `tf_route`: `HH:MM:SS` when `t` is less than 20 hours before `now`, else the date.
pub fn short(t: SystemTime, now: SystemTime) -> String {
    let c = local(t);
    match now.duration_since(t) {
        Ok(age) if age > SHORT_FORMAT_LIMIT => c.date(),
        _ => c.time(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_conversion_matches_known_dates() {
        // 2026-11-24 05:29:13 UTC.
        let c = utc(1_795_498_153);
        assert_eq!(
            (c.date(), c.time()),
            ("2026-11-24".into(), "05:29:13".into())
        );
        assert_eq!(utc(0).date(), "1970-01-01");
        assert_eq!(utc(951_782_400).date(), "2000-02-29");
    }

    #[test]
    fn short_format_switches_to_date_after_20_hours() {
        let now = SystemTime::now();
        assert_eq!(short(now, now).len(), 8);
        assert!(short(now, now).contains(':'));
        let old = now - Duration::from_secs(21 * 3600);
        assert_eq!(short(old, now).len(), 10);
        assert!(short(old, now).contains('-'));
        assert_eq!(base(now).len(), 19);
    }
}
