//! `configure [soft] ["FILE"]` and `configure check ["FILE"]` (BIRD 1.6 `cmd_reconfig`,
//! `cmd_check_config` in `sysdep/unix/main.c`). The file (default: the one the daemon started
//! with) is loaded and fully validated with `conf`: `0002-Reading configuration from F`, then
//! - `configure check`: `0020 Configuration OK`;
//! - `configure`: the daemon applies it ([`crate::reload`]) and answers `0003 Reconfigured`;
//!   when the reload (or the ones queued before it: SIGHUP, other clients) is not done within
//!   [`RELOAD_WAIT`], `0004 Reconfiguration in progress` (it goes on; its outcome is logged);
//! - on errors (both): `8002 F, line N: message`, one line per error (BIRD prints the first
//!   only, in the same form), and the running configuration stays.
//!
//! Without a reload channel (unit tests), `configure` answers `8006` and applies nothing.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::control::reply::{code, Framer};
use crate::control::state::View;
use crate::reload::{self, ReloadRequest};

/// BIRD's `CONF_DONE` reply (`0003 Reconfigured`).
pub const RECONFIGURED: u16 = 3;
/// BIRD's `CONF_PROGRESS` reply (`0004 Reconfiguration in progress`).
pub const IN_PROGRESS: u16 = 4;
/// How long `configure` waits for the reload before answering [`IN_PROGRESS`].
pub const RELOAD_WAIT: Duration = Duration::from_secs(10);

fn errors(all: &[String], f: &mut Framer) {
    let Some((last, first)) = all.split_last() else {
        return f.end(code::CONFIG_ERROR, "invalid configuration");
    };
    for e in first {
        f.line(code::CONFIG_ERROR, e);
    }
    f.end(code::CONFIG_ERROR, last);
}

/// Runs on a blocking thread (the control socket runs commands off the async workers).
pub fn run(view: &View, check: bool, file: Option<&str>, f: &mut Framer) {
    run_waiting(view, check, file, RELOAD_WAIT, f)
}

/// [`run`], waiting at most `wait` for the reload.
fn run_waiting(view: &View, check: bool, file: Option<&str>, wait: Duration, f: &mut Framer) {
    let path: Option<PathBuf> = file
        .map(PathBuf::from)
        .or_else(|| view.state.config_path.clone());
    match &path {
        Some(p) => f.line(
            code::READING_CONFIG,
            &format!("Reading configuration from {}", p.display()),
        ),
        None => f.line(
            code::READING_CONFIG,
            "Reading configuration from the embedded default",
        ),
    }
    match (&view.state.reload, check) {
        (Some(tx), false) => {
            let (reply, rx) = oneshot::channel();
            let req = ReloadRequest {
                path: path.clone(),
                reply,
            };
            if tx.blocking_send(req).is_err() {
                return f.end(
                    code::RELOAD_FAILED,
                    "Reconfiguration failed: daemon stopping",
                );
            }
            let answer = match tokio::runtime::Handle::try_current() {
                Ok(h) => h.block_on(tokio::time::timeout(wait, rx)),
                Err(_) => Ok(rx.blocking_recv()),
            };
            match answer {
                Ok(Ok(Ok(_))) => f.end(RECONFIGURED, "Reconfigured"),
                Ok(Ok(Err(rejected))) => errors(&rejected.errors, f),
                Ok(Err(_)) => f.end(
                    code::RELOAD_FAILED,
                    "Reconfiguration failed: daemon stopping",
                ),
                Err(_) => f.end(IN_PROGRESS, "Reconfiguration in progress"),
            }
        }
        _ => {
            // The same front end as the running configuration (BIRD text for `bird`/`bird6`).
            match reload::load(path.as_deref(), view.state.config_format) {
                Ok(_) if check => f.end(code::CONFIG_OK, "Configuration OK"),
                Ok(_) => f.end(
                    code::RELOAD_FAILED,
                    "Reconfiguration not available: configuration OK but not applied",
                ),
                Err(rejected) => errors(&rejected.errors, f),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn check_validates_for_real() {
        let (view, _keep) = view_with(&[]);
        let dir = std::env::temp_dir().join(format!("bgpd-configure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(&good, "router_id = \"10.0.0.1\"\nlocal_as = 64512\n").unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(
            &bad,
            "router_id = \"10.0.0.1\"\nlocal_as = 64512\nbogus = 1\n",
        )
        .unwrap();
        let mut f = Framer::new();
        run(&view, true, Some(good.to_str().unwrap()), &mut f);
        assert_eq!(
            f.take(),
            format!(
                "0002-Reading configuration from {}\n0020 Configuration OK\n",
                good.display()
            )
        );
        run(&view, true, Some(bad.to_str().unwrap()), &mut f);
        let t = f.take();
        assert!(t.starts_with("0002-Reading configuration from "), "{t}");
        let errors: Vec<&str> = t.lines().skip(1).collect();
        assert!(errors.last().unwrap().starts_with("8002 "), "{t}");
        assert!(t.contains("bogus"), "the unknown field is named: {t}");
        assert!(
            t.contains("bad.toml, line 3: "),
            "errors carry file and line: {t}"
        );
        run(&view, false, Some(good.to_str().unwrap()), &mut f);
        assert!(f
            .take()
            .ends_with("\n8006 Reconfiguration not available: configuration OK but not applied\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_reload_still_running_is_answered_in_progress() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (mut view, _keep) = view_with(&[]);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<ReloadRequest>(4);
        std::sync::Arc::get_mut(&mut view.state).unwrap().reload = Some(tx);
        // The daemon is busy: the request is taken but not answered in time.
        let busy = rt.spawn(async move {
            let req = rx.recv().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            drop(req);
        });
        let _guard = rt.enter();
        let mut f = Framer::new();
        run_waiting(&view, false, None, Duration::from_millis(100), &mut f);
        assert_eq!(
            f.take(),
            "0002-Reading configuration from the embedded default\n\
             0004 Reconfiguration in progress\n"
        );
        rt.block_on(busy).unwrap();
    }
}
