//! The daemon's configuration model.
//!
//! A TOML file (see `conf/examples/bgpd.toml` for every field, commented) goes through three
//! stages: the raw serde schema ([`schema`], `deny_unknown_fields`, spans kept), validation
//! ([`validate`], every error collected with file, line, column, field path and hint), and the
//! typed model ([`model`]: `Asn`, `RouterId`, `IpAddr`, `IpNet`, `Duration`, defaults resolved).
//! [`diff`] compares two models and says what a reload must touch.
//!
//! Modules:
//! - [`model`]: the typed configuration the daemon runs with.
//! - [`filter`]: typed BGPFilter rules and community values (the `policy` crate's types).
//! - [`schema`]: the raw TOML shape (crate-private types).
//! - [`validate`]: raw → typed, with all errors at once.
//! - [`error`]: [`ConfigError`], [`ConfigErrors`] and their positions.
//! - [`file`]: reading a file bounded in kind (regular only, never blocking) and size.
//! - [`secret`]: [`Password`], the TCP-MD5 key that never prints.
//! - [`diff`]: the reload as one set of [`ConfigEvent`]s.
//!
//! ```
//! let config = conf::Config::from_str("router_id = \"10.0.0.1\"\nlocal_as = 64512\n", "bgpd.toml")?;
//! assert_eq!(config.local_as.0, 64512);
//! # Ok::<(), conf::ConfigErrors>(())
//! ```

pub mod bird;
pub mod diff;
pub mod error;
pub mod file;
pub mod filter;
pub mod model;
pub(crate) mod schema;
pub mod secret;
mod validate;

use std::path::Path;

pub use diff::{diff, ChangeEffect, ConfigEvent, GlobalField, NeighborField, PolicyScope};
pub use error::{ConfigError, ConfigErrors, ErrorKind, Location};
pub use filter::{
    CidrMatch, CommunityValue, Filter, FilterAction, FilterName, FilterRule, MatchOperator,
    Operation, PeerType,
};
pub use model::{
    AddPathMode, Bfd, BirdFamily, BirdFilters, BirdSetup, ClusterId, Config, Control, Decision,
    EncapMode, GracefulRestart, InterfacePattern, IpPool, Kernel, LimitAction, Listen, Metrics,
    Neighbor, NeighborName, NextHopMode, PrefixAdvertisement, RecoveryMode, RouteLimit,
    RouteLimits, Services, StaticRoute, Timers, TtlMode,
};
pub use secret::Password;

/// The built-in configuration used when no file is given: runs unprivileged on loopback.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

impl Config {
    /// Reads and validates the file at `path`; messages name the file as given.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        let name = path.display().to_string();
        match file::read_text(path) {
            Ok(text) => Config::from_str(&text, &name),
            Err(e) => Err(ConfigErrors {
                errors: vec![ConfigError {
                    file: name,
                    location: None,
                    path: String::new(),
                    kind: ErrorKind::Io,
                    message: format!("cannot read the configuration: {e}"),
                    hint: None,
                }],
            }),
        }
    }

    /// Parses and validates `text`; `file` is the name used in messages.
    #[allow(clippy::should_implement_trait)] // needs the file name, so not `FromStr`
    pub fn from_str(text: &str, file: &str) -> Result<Config, ConfigErrors> {
        validate::parse(text, file)
    }

    /// Reads BIRD configuration text (Calico's rendered `bird.cfg` / `bird6.cfg` and the files
    /// it includes) for the `bird` (IPv4) or `bird6` (IPv6) daemon. Errors name the file, line
    /// and column as BIRD does (`FILE:LINE:COL message`).
    pub fn load_bird(path: impl AsRef<Path>, family: BirdFamily) -> Result<Config, ConfigErrors> {
        bird::load(path.as_ref(), family)
    }

    /// The embedded default ([`DEFAULT_TOML`]): router id 127.0.0.1, AS 64512, BGP on
    /// 127.0.0.1:1790, one passive example neighbor on loopback, kernel writes off, control socket
    /// `bgpd.ctl` in the working directory, metrics off.
    pub fn embedded_default() -> Result<Config, ConfigErrors> {
        Config::from_str(DEFAULT_TOML, "<embedded default.toml>")
    }
}
