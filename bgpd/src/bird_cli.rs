//! BIRD 1.6's command line (`bird`, `bird6`), so that calico-node's runit script and confd's
//! check command run `bgpd` unchanged:
//! `bird -R -s /var/run/calico/bird.ctl -d -c /etc/calico/confd/config/bird.cfg` and
//! `bird -p -c .bird.cfgNNNN`.
//!
//! When it applies ([`applies`]): the program's file name is `bird` or `bird6` (a copy or a
//! symlink), or the arguments use a flag only BIRD has (`-d -D -f -g -l -p -P -u`; bgpd's own
//! short flags are `-c -s -R -h -V`, so the two cannot be confused). `bird6` reads the file as
//! IPv6 (`bird6.cfg`), everything else as IPv4.
//!
//! The flags (getopt rules: clustered `-dR`, `-cFILE` or `-c FILE`, `--` ends them):
//! - `-c FILE`: the BIRD configuration (default `/etc/bird.conf`, `/etc/bird6.conf` for bird6);
//! - `-s SOCKET`: the one control socket (default `/var/run/bird.ctl`, `/var/run/bird6.ctl`);
//! - `-l`: those two defaults become `bird.conf`/`bird.ctl` (`bird6.*`) in the working
//!   directory (an explicit `-c`/`-s` still wins);
//! - `-R`: start in graceful-restart recovery (it waits for the peers that come up;
//!   `BGPD_GRACEFUL_RESTART_RECOVERY=all-peers` in the environment: for every peer, as BIRD);
//! - `-d`: stay in the foreground and log to stderr;
//! - `-D FILE`: also write the log to FILE (appended); like BIRD, this keeps the foreground too;
//! - `-f`: stay in the foreground;
//! - `-p`: read the configuration, report errors, exit;
//! - `-P FILE`: write our process id to FILE, removed on exit;
//! - `-u USER`, `-g GROUP`: names or numbers; privileges are dropped once the sockets are open;
//! - `-h`, `--help`: the help text; `--version`: the version (both alone, on stderr, exit 0).
//!
//! Without `-d`, `-D` or `-f` the daemon detaches as BIRD does (see [`crate::process`]).
//! [`parse`] is a pure function; the process-level effects live in [`crate::process`].

use std::path::{Path, PathBuf};

use conf::BirdFamily;

/// BIRD's option string: letters followed by `:` take a value.
const OPTIONS: &str = "c:dD:ps:P:u:g:flRh";
/// The short flags only BIRD has (not bgpd's own command line).
const BIRD_ONLY: &[char] = &['d', 'D', 'p', 'P', 'u', 'g', 'f', 'l'];
/// bgpd's own short flags that take a value.
const BGPD_VALUE_SHORT: &[char] = &['c', 's'];
/// bgpd's own long flags that take a value (when not written `--flag=value`).
const BGPD_VALUE_LONG: &[&str] = &[
    "--config",
    "--socket",
    "--log-format",
    "--graceful-restart-wait",
];

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `-h` / `--help`: print [`help`] on stderr, exit 0.
    Help,
    /// `--version`: print [`version`] on stderr, exit 0.
    Version,
    /// Run (or, with `-p`, only check the configuration).
    Run(BirdArgs),
}

/// A parsed BIRD command line, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdArgs {
    /// The program's name for messages (`bird`, `bird6`, `bgpd`).
    pub name: String,
    /// `bird6` serves IPv6, everything else IPv4.
    pub family: BirdFamily,
    /// `-c`.
    pub config: PathBuf,
    /// `-s`.
    pub socket: PathBuf,
    /// `-R`.
    pub graceful_restart_recovery: bool,
    /// `-d`.
    pub debug: bool,
    /// `-D`.
    pub debug_file: Option<PathBuf>,
    /// `-f`.
    pub foreground: bool,
    /// `-p`.
    pub parse_only: bool,
    /// `-P`.
    pub pid_file: Option<PathBuf>,
    /// `-u`.
    pub user: Option<String>,
    /// `-g`.
    pub group: Option<String>,
}

impl BirdArgs {
    /// Whether the daemon detaches from its terminal (BIRD forks unless `-d`, `-D` or `-f`).
    pub fn detaches(&self) -> bool {
        !(self.debug || self.debug_file.is_some() || self.foreground)
    }
}

/// A command line BIRD would refuse (it prints the message, a blank line and the usage line,
/// and exits 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// A flag BIRD does not have (as glibc's getopt words it).
    #[error("invalid option -- '{0}'")]
    InvalidOption(char),
    /// A flag that takes a value, at the end of the line.
    #[error("option requires an argument -- '{0}'")]
    MissingArgument(char),
    /// An argument that is not a flag (BIRD takes none); only the usage line is printed.
    #[error("unexpected argument '{0}'")]
    Positional(String),
}

impl UsageError {
    /// What goes on stderr before the usage line (BIRD prints nothing for stray arguments).
    pub fn message(&self) -> Option<String> {
        match self {
            UsageError::Positional(_) => None,
            other => Some(other.to_string()),
        }
    }
}

/// The program's file name: BIRD's name for itself in messages (`bird` when there is none).
pub fn program_name(argv0: &str) -> String {
    Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "bird".to_owned())
}

/// Whether BIRD's command line applies: invoked as `bird`/`bird6`, or a BIRD-only flag is used
/// (the arguments are scanned with getopt's rules and bgpd's value-taking flags, so that a
/// value such as `-c/tmp/fd.toml` is not mistaken for flags).
pub fn applies(argv0: &str, args: &[String]) -> bool {
    let name = program_name(argv0);
    if name == "bird" || name == "bird6" {
        return true;
    }
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            return false;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if !long.contains('=') && BGPD_VALUE_LONG.contains(&arg.as_str()) {
                it.next();
            }
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            continue;
        };
        for (i, c) in cluster.char_indices() {
            if BIRD_ONLY.contains(&c) {
                return true;
            }
            if BGPD_VALUE_SHORT.contains(&c) {
                if i + c.len_utf8() == cluster.len() {
                    it.next();
                }
                break;
            }
        }
    }
    false
}

/// Whether `c` is one of BIRD's flags, and whether it takes a value.
fn option(c: char) -> Option<bool> {
    let i = OPTIONS.find(c).filter(|_| c != ':')?;
    Some(OPTIONS[i + c.len_utf8()..].starts_with(':'))
}

/// Parses BIRD's command line: `argv0` is the program path as invoked, `args` the rest.
pub fn parse(argv0: &str, args: &[String]) -> Result<Invocation, UsageError> {
    let name = program_name(argv0);
    // As BIRD: the long forms are understood only when they are the whole command line.
    if let [only] = args {
        match only.as_str() {
            "--version" => return Ok(Invocation::Version),
            "--help" => return Ok(Invocation::Help),
            _ => {}
        }
    }
    let mut config = None;
    let mut socket = None;
    let mut local = false;
    let mut a = BirdArgs {
        family: if name == "bird6" {
            BirdFamily::V6
        } else {
            BirdFamily::V4
        },
        name,
        config: PathBuf::new(),
        socket: PathBuf::new(),
        graceful_restart_recovery: false,
        debug: false,
        debug_file: None,
        foreground: false,
        parse_only: false,
        pid_file: None,
        user: None,
        group: None,
    };
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            positional.extend(it.by_ref().cloned());
            break;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            // glibc's getopt moves operands to the end: the flags after them still count.
            positional.push(arg.clone());
            continue;
        };
        for (i, c) in cluster.char_indices() {
            let takes_value = option(c).ok_or(UsageError::InvalidOption(c))?;
            if !takes_value {
                match c {
                    'd' => a.debug = true,
                    'p' => a.parse_only = true,
                    'f' => a.foreground = true,
                    'l' => local = true,
                    'R' => a.graceful_restart_recovery = true,
                    // 'h' (the only flag left): help at once, as BIRD.
                    _ => return Ok(Invocation::Help),
                }
                continue;
            }
            let rest = &cluster[i + c.len_utf8()..];
            let value = if rest.is_empty() {
                it.next().cloned().ok_or(UsageError::MissingArgument(c))?
            } else {
                rest.to_owned()
            };
            match c {
                'c' => config = Some(PathBuf::from(value)),
                's' => socket = Some(PathBuf::from(value)),
                'D' => a.debug_file = Some(PathBuf::from(value)),
                'P' => a.pid_file = Some(PathBuf::from(value)),
                'u' => a.user = Some(value),
                // 'g' (the only one left).
                _ => a.group = Some(value),
            }
            break;
        }
    }
    if let Some(p) = positional.into_iter().next() {
        return Err(UsageError::Positional(p));
    }
    let suffix = match a.family {
        BirdFamily::V4 => "",
        BirdFamily::V6 => "6",
    };
    let (conf_dir, run_dir) = if local {
        ("", "")
    } else {
        ("/etc/", "/var/run/")
    };
    a.config = config.unwrap_or_else(|| format!("{conf_dir}bird{suffix}.conf").into());
    a.socket = socket.unwrap_or_else(|| format!("{run_dir}bird{suffix}.ctl").into());
    Ok(Invocation::Run(a))
}

/// BIRD's one-line usage.
pub fn usage(name: &str) -> String {
    format!("Usage: {name} [--version] [--help] [-c <config-file>] [OPTIONS]\n")
}

/// The help text (`-h`, `--help`).
pub fn help(name: &str) -> String {
    let (conf, ctl) = if name == "bird6" {
        ("/etc/bird6.conf", "/var/run/bird6.ctl")
    } else {
        ("/etc/bird.conf", "/var/run/bird.ctl")
    };
    format!(
        "{usage}
BIRD's command line, served by bgpd (reads BIRD configuration text; bird6: IPv6).

Options:
  -c <config-file>     Configuration file (default {conf})
  -d                   Stay in the foreground and log to stderr
  -D <debug-file>      Also write the log to this file (stays in the foreground)
  -f                   Stay in the foreground
  -g <group>           Group (name or number) to switch to once the sockets are open
  -h, --help           Print this help and exit
  -l                   Default configuration file and control socket in the working directory
  -p                   Check the configuration file and exit (0 when it is valid)
  -P <pid-file>        Write the process id to this file
  -R                   Start in graceful restart recovery
  -s <control-socket>  Control socket (default {ctl})
  -u <user>            User (name or number) to switch to once the sockets are open
  --version            Print the version and exit
",
        usage = usage(name)
    )
}

/// The `--version` line.
pub fn version() -> String {
    format!("BIRD version {}\n", crate::control::reply::BIRD_VERSION)
}

/// One configuration error as `bird -p` prints it: `bird: FILE:LINE:COL message` (BIRD's
/// `die()` on its startup stderr log; BIRD writes `bird: ` for bird6 too). Errors without a
/// position (an unreadable file) print `bird: FILE: message`.
pub fn config_error_line(e: &conf::ConfigError) -> String {
    let mut s = match &e.location {
        Some(l) => format!("bird: {}:{}:{} ", e.file, l.line, l.column),
        None => format!("bird: {}: ", e.file),
    };
    crate::reload::push_error_detail(&mut s, e);
    s
}

#[cfg(test)]
mod tests;
