//! What the benchmarks read of a process in `/proc`: memory lines of `status` and CPU time.
//! A process that is gone reads as NaN (memory) or 0 (CPU), so a measurement loop never fails
//! on a daemon that ended between two samples.

/// A `kB` line of `/proc/PID/status` (`VmHWM:`, `VmRSS:`, ...), in KiB.
pub fn status_kib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Peak resident memory (`VmHWM`) in MiB.
pub fn hwm_mib(pid: u32) -> f64 {
    status_kib(pid, "VmHWM:") / 1024.0
}

/// utime + stime of `pid` in clock ticks (fields 14 and 15 of `/proc/PID/stat`).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may contain spaces: fields are counted after its closing parenthesis,
    // where the state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let f: Vec<&str> = stat
        .rfind(')')
        .map(|i| stat[i + 1..].split_whitespace().collect())
        .unwrap_or_default();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    t(11) + t(12)
}

/// utime + stime of `pid` in seconds (USER_HZ is 100 on Linux).
pub fn cpu_secs(pid: u32) -> f64 {
    cpu_ticks(pid) as f64 / 100.0
}

/// Nanoseconds on CPU of `pid`'s live threads (first field of `/proc/PID/task/*/schedstat`):
/// clock ticks are too coarse for loads of a few tens of milliseconds.
pub fn cpu_nanos(pid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_has_memory_and_cpu_and_a_missing_one_reads_empty() {
        let me = std::process::id();
        assert!(hwm_mib(me) > 0.0);
        let spin: u64 = (0..5_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        assert!(cpu_nanos(me) > 0);
        // u32::MAX is above the kernel's pid_max: no such process.
        assert!(hwm_mib(u32::MAX).is_nan());
        assert_eq!((cpu_ticks(u32::MAX), cpu_nanos(u32::MAX)), (0, 0));
    }
}
