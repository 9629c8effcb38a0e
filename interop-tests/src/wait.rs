//! Polling until a peer reaches a state, with a deadline.

use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};

/// Polls `pred` every 200 ms until it returns `Ok(true)` or `timeout` passes.
/// Errors from `pred` count as "not yet" (a daemon's socket may not exist yet) but the last one
/// is reported in the timeout message.
pub fn wait_until<F>(what: &str, timeout: Duration, mut pred: F) -> Result<()>
where
    F: FnMut() -> Result<bool>,
{
    let start = Instant::now();
    let mut last_err = String::new();
    loop {
        match pred() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_err = e.to_string(),
        }
        if start.elapsed() >= timeout {
            let what = if last_err.is_empty() {
                what.to_owned()
            } else {
                format!("{what} (last error: {last_err})")
            };
            return Err(HarnessError::Timeout { what, timeout });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
