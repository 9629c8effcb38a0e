//! What BIRD's command line does to the process ([`crate::bird_cli`]): the PID file (`-P`),
//! the user and group to run as (`-u`, `-g`) and detaching from the terminal (no `-d`/`-D`/`-f`).
//!
//! Detaching: as BIRD, after the configuration was read and before anything runs, the process
//! forks, the parent exits 0, the child starts a new session and points stdin/stdout/stderr at
//! `/dev/null` (`daemon(3)`; done before the tokio runtime starts any thread). Its log then goes
//! only to the `-D` file when one is given (BIRD would log to syslog; we do not). Errors after
//! the fork (a port in use, a socket path not writable) end the child with status 1 and show
//! only in that log. calico-node always passes `-d`.
//!
//! Users and groups are looked up in `/etc/passwd` and `/etc/group` (the binary is linked
//! statically, so NSS modules are not used), or given as numbers. Dropping privileges sets the
//! supplementary groups to the one group, then the group, then the user. Unlike BIRD (which keeps
//! `CAP_NET_ADMIN`, `CAP_NET_BIND_SERVICE` and `CAP_NET_RAW` across the switch), no capability is
//! kept: the BGP and control sockets are already open, but kernel route writes made afterwards
//! fail unless the user may make them. calico-node never passes `-u`.

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid};

/// Why a process-level step failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("Cannot find user '{0}'")]
    UnknownUser(String),
    #[error("Cannot find group '{0}'")]
    UnknownGroup(String),
    #[error("{file}: {source}")]
    Lookup {
        file: &'static str,
        source: std::io::Error,
    },
    #[error("Cannot create PID file {path}: {source}")]
    PidFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{op}: {source}")]
    Privileges {
        op: &'static str,
        source: nix::Error,
    },
    #[error("cannot detach (daemon): {0}")]
    Detach(nix::Error),
}

/// The user and group to switch to once the sockets are open (`-u`, `-g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Privileges {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl Privileges {
    /// Resolves `-u` and `-g` (names or numbers), as BIRD does before reading the configuration.
    pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Privileges, ProcessError> {
        let read = |file: &'static str| {
            std::fs::read_to_string(file).map_err(|source| ProcessError::Lookup { file, source })
        };
        let uid = match user {
            None => None,
            Some(u) => Some(match u.parse::<u32>() {
                Ok(n) => n,
                Err(_) => id_of(&read("/etc/passwd")?, u)
                    .ok_or_else(|| ProcessError::UnknownUser(u.to_owned()))?,
            }),
        };
        let gid = match group {
            None => None,
            Some(g) => Some(match g.parse::<u32>() {
                Ok(n) => n,
                Err(_) => id_of(&read("/etc/group")?, g)
                    .ok_or_else(|| ProcessError::UnknownGroup(g.to_owned()))?,
            }),
        };
        Ok(Privileges { uid, gid })
    }

    /// Nothing to change.
    pub fn is_none(&self) -> bool {
        self.uid.is_none() && self.gid.is_none()
    }

    /// Switches group, then user (glibc applies each to every thread of the process).
    pub fn apply(&self) -> Result<(), ProcessError> {
        let err = |op| move |source| ProcessError::Privileges { op, source };
        if let Some(g) = self.gid {
            let gid = Gid::from_raw(g);
            nix::unistd::setgroups(&[gid]).map_err(err("setgroups"))?;
            nix::unistd::setgid(gid).map_err(err("setgid"))?;
        }
        if let Some(u) = self.uid {
            nix::unistd::setuid(Uid::from_raw(u)).map_err(err("setuid"))?;
        }
        tracing::info!(event = "privileges_dropped", uid = ?self.uid, gid = ?self.gid,
            "running as the configured user and group");
        Ok(())
    }
}

/// The id (third field) of `name` in a `/etc/passwd` or `/etc/group` text.
fn id_of(table: &str, name: &str) -> Option<u32> {
    table.lines().find_map(|line| {
        let mut f = line.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.trim().parse().ok()
    })
}

/// The PID file of `-P`: created before the daemon starts (so that a bad path is a startup
/// error), written once the process id is final (after detaching), removed on drop.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl PidFile {
    /// Creates (or opens) the file, without writing yet.
    pub fn create(path: &Path) -> Result<PidFile, ProcessError> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| ProcessError::PidFile {
                path: path.to_owned(),
                source,
            })?;
        Ok(PidFile {
            path: path.to_owned(),
            file: Some(file),
        })
    }

    /// Writes the current process id (`NNN\n`).
    pub fn write(&mut self) -> Result<(), ProcessError> {
        let err = |source| ProcessError::PidFile {
            path: self.path.clone(),
            source,
        };
        if let Some(mut f) = self.file.take() {
            f.set_len(0).map_err(err)?;
            writeln!(f, "{}", std::process::id()).map_err(err)?;
        }
        Ok(())
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Forks into the background (see the module documentation). Must run before any thread is
/// started.
pub fn detach() -> Result<(), ProcessError> {
    // nochdir: relative paths given on the command line keep their meaning, as in BIRD.
    nix::unistd::daemon(true, false).map_err(ProcessError::Detach)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_passwd_and_group_text() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                      calico:x:999:998::/home/calico:/bin/sh\n";
        assert_eq!(id_of(passwd, "nobody"), Some(65534));
        assert_eq!(id_of(passwd, "calico"), Some(999));
        assert_eq!(id_of(passwd, "nob"), None);
        assert_eq!(id_of("broken\n", "broken"), None);
        let group = "root:x:0:\nnogroup:x:65534:\n";
        assert_eq!(id_of(group, "nogroup"), Some(65534));
    }

    #[test]
    fn numbers_are_taken_as_ids_and_unknown_names_are_errors() {
        assert_eq!(
            Privileges::resolve(Some("123"), Some("456")).unwrap(),
            Privileges {
                uid: Some(123),
                gid: Some(456)
            }
        );
        assert!(Privileges::resolve(None, None).unwrap().is_none());
        let root = Privileges::resolve(Some("root"), Some("root")).unwrap();
        assert_eq!((root.uid, root.gid), (Some(0), Some(0)));
        let e = Privileges::resolve(Some("no-such-user-bgpd"), None).unwrap_err();
        assert_eq!(e.to_string(), "Cannot find user 'no-such-user-bgpd'");
        let e = Privileges::resolve(None, Some("no-such-group-bgpd")).unwrap_err();
        assert_eq!(e.to_string(), "Cannot find group 'no-such-group-bgpd'");
    }

    #[test]
    fn pid_file_is_written_and_removed() {
        let path = std::env::temp_dir().join(format!("bgpd-pid-{}", std::process::id()));
        std::fs::write(&path, "999999999\nold\n").unwrap();
        let mut p = PidFile::create(&path).unwrap();
        p.write().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(p);
        assert!(!path.exists());
        let e = PidFile::create(Path::new("/nonexistent-dir/x.pid")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Cannot create PID file /nonexistent-dir/x.pid: "));
    }
}
