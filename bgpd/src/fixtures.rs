//! Test data shared by the unit tests: Calico's rendered BIRD configurations
//! (conf/tests/fixtures/calico), loaded through the BIRD front end.

use std::path::PathBuf;

/// The IPv4 configuration of fixture `rel` (e.g. `gen2/mesh/ipip-always/bird.cfg`).
pub(crate) fn calico(rel: &str) -> conf::Config {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../conf/tests/fixtures/calico")
        .join(rel);
    conf::Config::load_bird(&p, conf::BirdFamily::V4).unwrap_or_else(|e| panic!("{e}"))
}
