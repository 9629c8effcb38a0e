//! BIRD's link-local neighbor forms: `neighbor fe80::1%eth1 as N;`, `neighbor fe80::1 % 'eth1'
//! as N;` and `interface "eth1";` (BIRD 1.6 and 2 `ipa_scope`), in bird6.cfg.

use std::path::PathBuf;

use crate::error::{ConfigErrors, ErrorKind};
use crate::model::{BirdFamily, Config, TtlMode};

fn load(tag: &str, text: &str, family: BirdFamily) -> Result<Config, ConfigErrors> {
    let dir: PathBuf = std::env::temp_dir().join(format!("bgpd-ll-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bird6.cfg");
    std::fs::write(&path, text).unwrap();
    let r = super::super::load(&path, family);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

const HEAD: &str = "router id 10.0.0.1;\n";

#[test]
fn every_bird_scope_form_names_the_interface() {
    let c = load(
        "forms",
        &format!(
            "{HEAD}protocol bgp a {{ local as 64512; neighbor fe80::1%eth1 as 65000; }}
protocol bgp b {{ local as 64512; neighbor fe80::1 % 'eth2' as 65000; }}
protocol bgp c {{ local as 64512; neighbor fe80::2 as 64512; interface \"eth3\"; }}
protocol bgp d {{ local fe80::99 % eth4 as 64512; neighbor fe80::3 as 65000; }}
protocol bgp e {{ local as 64512; neighbor fd99::5 as 65000; interface \"eth5\"; }}
"
        ),
        BirdFamily::V6,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(String, Option<&str>)> = c
        .neighbors
        .iter()
        .map(|n| (n.scoped_address().to_string(), n.interface.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("fe80::1%eth1".to_string(), Some("eth1")),
            ("fe80::1%eth2".to_string(), Some("eth2")),
            ("fe80::2%eth3".to_string(), Some("eth3")),
            ("fe80::3%eth4".to_string(), Some("eth4")),
            ("fd99::5%eth5".to_string(), Some("eth5")),
        ]
    );
    // iBGP bound to a link is single hop (BIRD rejects multihop there).
    assert_eq!(c.neighbors[2].ttl, TtlMode::Direct);
}

#[test]
fn link_local_neighbor_without_interface_is_refused_as_bird_does() {
    let e = load(
        "noif",
        &format!("{HEAD}protocol bgp a {{ local as 64512; neighbor fe80::1 as 65000; }}\n"),
        BirdFamily::V6,
    )
    .expect_err("refused");
    assert_eq!(e.errors.len(), 1, "{e}");
    let err = &e.errors[0];
    assert_eq!((err.line(), err.kind), (2, ErrorKind::Missing), "{e}");
    assert!(
        err.message
            .contains("link-local addresses require defined interface"),
        "{e}"
    );
}

#[test]
fn multihop_with_an_interface_is_refused() {
    let e = load(
        "mh",
        &format!(
            "{HEAD}protocol bgp a {{ local as 64512; neighbor fe80::1%eth1 as 65000; multihop 2; }}\n"
        ),
        BirdFamily::V6,
    )
    .expect_err("refused");
    assert!(
        e.to_string().contains("multihop BGP cannot be bound"),
        "{e}"
    );
}
