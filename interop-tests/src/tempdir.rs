//! A scratch directory per daemon for its config, sockets, pid file and logs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{HarnessError, Result};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A directory under the system temp dir, removed on drop unless the thread is panicking
/// (then it is kept, and its path printed, so the logs in it can be read after a failure).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `/tmp/interop-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> Result<Self> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("interop-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| HarnessError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text` to `name` inside the directory and returns the full path.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf> {
        let p = self.path.join(name);
        std::fs::write(&p, text).map_err(|source| HarnessError::Io {
            path: p.clone(),
            source,
        })?;
        Ok(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("INTEROP_KEEP_TMP").is_some() {
            eprintln!("keeping {} for inspection", self.path.display());
            return;
        }
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::debug!(path = %self.path.display(), error = %e, "cannot remove temp dir");
        }
    }
}
