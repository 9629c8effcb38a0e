//! Reading a configuration file (the main file, a BIRD `include`, a TCP-MD5 key file) without
//! letting the file's kind or size hurt the daemon: only regular files are read, opened
//! non-blocking so that a FIFO or a device never waits for a writer, and at most
//! [`MAX_FILE_SIZE`] octets of them (`configure "/dev/zero"` must not grow memory forever, a
//! FIFO must not wedge the reload).

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Largest configuration file read (Calico's rendered `bird.cfg` for 5,000 peers is ~2 MiB).
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Why a configuration file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file (a {0})")]
    NotRegular(&'static str),
    #[error("larger than the {} MiB limit", MAX_FILE_SIZE / (1024 * 1024))]
    TooLarge,
    #[error("not UTF-8 text")]
    NotText,
}

/// What kind of non-regular file `t` is, for the message.
fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// Reads the regular file at `path` as text, at most [`MAX_FILE_SIZE`] octets. The open does
/// not block (`O_NONBLOCK`: a FIFO without a writer opens at once) and the type is checked on
/// the open file (`fstat`), so nothing but a regular file is ever read.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read_text_limited(path, MAX_FILE_SIZE)
}

fn read_text_limited(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge);
    }
    // The size may change while reading (or lie, as in /proc): the read itself is bounded.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(test: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("conf-file-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_regular_files_and_refuses_the_rest() {
        let d = dir("kinds");
        let f = d.join("ok.toml");
        std::fs::write(&f, "a = 1\n").unwrap();
        assert_eq!(read_text(&f).unwrap(), "a = 1\n");
        assert!(matches!(
            read_text(Path::new("/dev/zero")),
            Err(ReadError::NotRegular("character device"))
        ));
        assert!(matches!(
            read_text(&d),
            Err(ReadError::NotRegular("directory"))
        ));
        assert!(matches!(
            read_text(&d.join("absent")),
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_fifo_without_writer_is_refused_at_once() {
        let d = dir("fifo");
        let fifo = d.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo not available");
            return;
        }
        let started = std::time::Instant::now();
        let r = read_text(&fifo);
        assert!(matches!(r, Err(ReadError::NotRegular("FIFO"))), "{r:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(
            r.unwrap_err().to_string(),
            "not a regular file (a FIFO)",
            "the message says what the file is"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn size_is_capped() {
        let d = dir("size");
        let f = d.join("big");
        std::fs::write(&f, vec![b'#'; 2000]).unwrap();
        assert!(matches!(
            read_text_limited(&f, 1000),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(read_text_limited(&f, 2000).unwrap().len(), 2000);
        assert_eq!(
            ReadError::TooLarge.to_string(),
            "larger than the 16 MiB limit"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
