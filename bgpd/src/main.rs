//! `bgpd`: the command line. Loads the configuration (a file, or the embedded default), sets up
//! logging, runs the daemon until SIGTERM/SIGINT.
//!
//! Two command lines: bgpd's own (TOML configuration, below) and BIRD 1.6's, when invoked as
//! `bird`/`bird6` or with a BIRD-only flag ([`bgpd::bird_cli`]), so that calico-node runs us as
//! its `bird` and `bird6`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bgpd::bird_cli::{self, Invocation};
use bgpd::process::{PidFile, Privileges};
use clap::{Parser, ValueEnum};
use conf::{Config, ConfigErrors};
use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

/// The graceful-restart recovery's wait timer, in seconds (BIRD's `graceful restart wait`
/// default), for `-R` of both command lines.
const GRACEFUL_RESTART_WAIT: u64 = 240;

/// Under BIRD's command line: what the `-R` recovery waits for (`established-peers`, the
/// default, or `all-peers`, BIRD's behaviour); the TOML configuration's
/// `[graceful_restart] recovery`.
const RECOVERY_ENV: &str = "BGPD_GRACEFUL_RESTART_RECOVERY";

/// The BGP daemon for Calico nodes.
#[derive(Debug, Parser)]
#[command(
    name = "bgpd",
    version,
    about,
    after_help = "BIRD's command line: invoked as `bird` or `bird6` (a copy or a symlink), or \
with any flag only BIRD has (-d -D -f -g -l -p -P -u; bgpd's short flags are -c -s -R -h -V), \
bgpd takes BIRD 1.6's command line and reads BIRD configuration text instead: \
`bgpd -p -c bird.cfg` checks a BIRD file, `bird -R -s bird.ctl -d -c bird.cfg` runs as \
calico-node's bird (IPv4; `bird6`: IPv6). See `bird -h`."
)]
struct Args {
    /// Configuration file (TOML); without it the embedded default is used.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Validate the configuration, print every error with file:line:column, and exit
    /// (0 when it is valid), like `bird -p`.
    #[arg(long)]
    check: bool,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Control socket path (overrides `control.socket` of the configuration).
    #[arg(short = 's', long = "socket", value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Start in graceful-restart recovery, as BIRD's `-R` (calico-node starts BIRD so): the
    /// routes a previous run left in the kernel are kept, the graceful-restart capability
    /// carries the Restart State bit, and our routes are exported only once every peer with
    /// graceful restart that came up has sent its End-of-RIB (`[graceful_restart] recovery =
    /// "all-peers"`: every one, as BIRD) or the wait timer ran out.
    #[arg(short = 'R', long = "graceful-restart-recovery")]
    graceful_restart_recovery: bool,
    /// The recovery's wait timer in seconds (BIRD's `graceful restart wait`).
    #[arg(
        long = "graceful-restart-wait",
        value_name = "SECONDS",
        default_value_t = GRACEFUL_RESTART_WAIT
    )]
    graceful_restart_wait: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn load(args: &Args) -> Result<Config, ConfigErrors> {
    match &args.config {
        Some(path) => Config::load(path),
        None => Config::embedded_default(),
    }
}

/// Logs on stderr, and also in `file` when given (BIRD's `-D`).
fn init_logging(format: LogFormat, file: Option<std::fs::File>) {
    // RUST_LOG overrides the default level (info).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: under calico-node's runit, stderr goes to svlogd's files.
    let ansi = file.is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    match file {
        None => {
            let b = builder.with_writer(std::io::stderr);
            match format {
                LogFormat::Text => b.init(),
                LogFormat::Json => b.json().with_current_span(true).init(),
            }
        }
        Some(f) => {
            let b = builder.with_writer(std::io::stderr.and(std::sync::Mutex::new(f)));
            match format {
                LogFormat::Text => b.init(),
                LogFormat::Json => b.json().with_current_span(true).init(),
            }
        }
    }
}

/// Runs the daemon until SIGTERM/SIGINT (or `down`); `name` prefixes a fatal error on stderr.
fn serve(
    config: Config,
    config_path: Option<PathBuf>,
    options: bgpd::daemon::Options,
    name: &str,
) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).map_err(bgpd::Error::Signal)?;
        let mut int = signal(SignalKind::interrupt()).map_err(bgpd::Error::Signal)?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => tracing::info!(event = "signal", signal = "SIGTERM", "signal received"),
                _ = int.recv() => tracing::info!(event = "signal", signal = "SIGINT", "signal received"),
            }
        };
        bgpd::daemon::run_with_options(config, config_path, options, shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(event = "fatal", error = %e, "bgpd failed");
            eprintln!("{name}: {e}");
            ExitCode::from(1)
        }
    }
}

/// BIRD's command line (see [`bird_cli`]); messages as BIRD prints them (`bird: ...`).
fn bird_main(argv0: &str, args: &[String]) -> ExitCode {
    let name = bird_cli::program_name(argv0);
    let a = match bird_cli::parse(argv0, args) {
        Ok(Invocation::Run(a)) => a,
        Ok(Invocation::Help) => {
            eprint!("{}", bird_cli::help(&name));
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            eprint!("{}", bird_cli::version());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if let Some(m) = e.message() {
                eprintln!("{argv0}: {m}\n");
            }
            eprint!("{}", bird_cli::usage(&name));
            return ExitCode::from(1);
        }
    };
    // As BIRD: an unknown user or group is an error even for `-p`.
    let privileges = match Privileges::resolve(a.user.as_deref(), a.group.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bird: {e}");
            return ExitCode::from(1);
        }
    };
    let mut config = match Config::load_bird(&a.config, a.family) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}", bird_cli::config_error_line(e));
            }
            return ExitCode::from(1);
        }
    };
    if a.parse_only {
        return ExitCode::SUCCESS;
    }
    // BIRD's text has no such option and runit's command line is fixed: calico-node's
    // environment (the DaemonSet's `env`) reaches the daemon through runit.
    match std::env::var(RECOVERY_ENV) {
        Ok(word) => match conf::RecoveryMode::from_word(&word) {
            Some(m) => config.recovery = m,
            None => {
                let words: Vec<&str> = conf::RecoveryMode::WORDS.iter().map(|(w, _)| *w).collect();
                eprintln!(
                    "bird: {RECOVERY_ENV}: {word:?} is not one of {}",
                    words.join(", ")
                );
                return ExitCode::from(1);
            }
        },
        Err(std::env::VarError::NotPresent) => {}
        Err(std::env::VarError::NotUnicode(_)) => {
            eprintln!("bird: {RECOVERY_ENV}: not UTF-8");
            return ExitCode::from(1);
        }
    }
    // One control socket, `-s` (or BIRD's default), with this family's view.
    config.control.socket = a.socket.clone();
    config.control.socket_v6 = None;
    let log_file = match &a.debug_file {
        None => None,
        Some(p) => match std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
        {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("bird: Unable to open debug file {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
    };
    let mut pid_file = match a.pid_file.as_deref().map(PidFile::create).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bird: {e}");
            return ExitCode::from(1);
        }
    };
    if a.detaches() {
        // Before the runtime starts a thread; the parent exits 0 here.
        if let Err(e) = bgpd::process::detach() {
            eprintln!("bird: {e}");
            return ExitCode::from(1);
        }
    }
    if let Some(p) = pid_file.as_mut() {
        if let Err(e) = p.write() {
            eprintln!("bird: {e}");
            return ExitCode::from(1);
        }
    }
    init_logging(LogFormat::Text, log_file);
    for n in &config.notes {
        tracing::warn!(event = "config_note", note = %n, "configuration note");
    }
    let options = bgpd::daemon::Options {
        graceful_restart_recovery: a
            .graceful_restart_recovery
            .then(|| Duration::from_secs(GRACEFUL_RESTART_WAIT)),
        privileges,
    };
    let code = serve(config, Some(a.config.clone()), options, &name);
    drop(pid_file);
    code
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some((argv0, rest)) = argv.split_first() {
        if bird_cli::applies(argv0, rest) {
            return bird_main(argv0, rest);
        }
    }
    let args = Args::parse();
    let config = load(&args);
    if args.check {
        return match config {
            Ok(c) => {
                for n in &c.notes {
                    eprintln!("{n}");
                }
                println!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} error(s) in the configuration", errors.len());
                ExitCode::from(1)
            }
        };
    }
    let mut config = match config {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "bgpd: not started: {} error(s) in the configuration",
                errors.len()
            );
            return ExitCode::from(1);
        }
    };
    if let Some(s) = args.socket.clone() {
        config.control.socket = s;
    }
    init_logging(args.log_format, None);
    for n in &config.notes {
        tracing::warn!(event = "config_note", note = %n, "configuration note");
    }
    let options = bgpd::daemon::Options {
        graceful_restart_recovery: args
            .graceful_restart_recovery
            .then(|| Duration::from_secs(args.graceful_restart_wait)),
        privileges: Privileges::default(),
    };
    serve(config, args.config.clone(), options, "bgpd")
}
