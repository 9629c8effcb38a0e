//! What conf accepts, the `policy` crate compiles: filter CIDR conditions through
//! `policy::filter::CidrMatch::new` and communities through `policy::filter::CommunityValue`'s
//! `FromStr`, over a grid of prefix-length bounds and over the shipped example.

use conf::{Config, ErrorKind, MatchOperator};
use policy::filter as pf;

fn op(o: MatchOperator) -> pf::MatchOperator {
    match o {
        MatchOperator::Equal => pf::MatchOperator::Equal,
        MatchOperator::NotEqual => pf::MatchOperator::NotEqual,
        MatchOperator::In => pf::MatchOperator::In,
        MatchOperator::NotIn => pf::MatchOperator::NotIn,
    }
}

fn compiles(c: &Config) {
    for f in &c.filters {
        for r in f
            .export_v4
            .iter()
            .chain(&f.import_v4)
            .chain(&f.export_v6)
            .chain(&f.import_v6)
        {
            if let Some(m) = r.cidr {
                let got = pf::CidrMatch::new(m.cidr, op(m.op), m.prefix_length_bounds());
                assert!(got.is_ok(), "{}: {m:?}: {got:?}", f.name);
            }
            let communities =
                r.community
                    .iter()
                    .chain(r.operations.iter().filter_map(|o| match o {
                        conf::Operation::AddCommunity(c) => Some(c),
                        _ => None,
                    }));
            for c in communities {
                assert!(c.to_string().parse::<pf::CommunityValue>().is_ok(), "{c}");
            }
        }
    }
    for a in &c.prefix_advertisements {
        for v in &a.communities {
            let parsed: pf::CommunityValue = v.to_string().parse().unwrap();
            assert_eq!(parsed.to_string(), v.to_string());
        }
    }
}

#[test]
fn the_example_compiles_into_policy() {
    let text = include_str!("../examples/bgpd.toml")
        .replace("password_file = \"/etc/calico/bgp-tor1.key\"\n", "");
    let c = Config::from_str(&text, "bgpd.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(!c.filters.is_empty());
    compiles(&c);
}

/// Within the family, conf accepts a prefix-length range exactly when policy does; outside it,
/// conf refuses (policy would clamp silently).
#[test]
fn prefix_length_grid_agrees_with_policy() {
    let bounds: [Option<u8>; 9] = [
        None,
        Some(0),
        Some(4),
        Some(8),
        Some(16),
        Some(24),
        Some(31),
        Some(32),
        Some(33),
    ];
    let mut checked = 0;
    for len in [0u8, 8, 16, 24, 32] {
        let cidr: ipnet::IpNet = format!("10.0.0.0/{len}")
            .parse::<ipnet::IpNet>()
            .unwrap()
            .trunc();
        for min in bounds {
            for max in bounds {
                let mut pl = Vec::new();
                if let Some(m) = min {
                    pl.push(format!("min = {m}"));
                }
                if let Some(m) = max {
                    pl.push(format!("max = {m}"));
                }
                let text = format!(
                    "router_id = \"10.0.0.1\"\nlocal_as = 64512\n[[filters]]\nname = \"f\"\n\
                     [[filters.export_v4]]\ncidr = \"{cidr}\"\nmatch_operator = \"In\"\n\
                     prefix_length = {{ {} }}\naction = \"Accept\"\n",
                    pl.join(", ")
                );
                let ours = Config::from_str(&text, "t.toml");
                let theirs = pf::CidrMatch::new(cidr, pf::MatchOperator::In, Some((min, max)));
                let beyond = min.is_some_and(|m| m > 32) || max.is_some_and(|m| m > 32);
                match (&ours, beyond) {
                    (Err(e), true) => {
                        assert!(e.iter().all(|e| e.kind == ErrorKind::OutOfRange), "{e}")
                    }
                    (Ok(_), true) => panic!("{cidr} {min:?} {max:?}: accepted beyond /32"),
                    (_, false) => assert_eq!(
                        ours.is_ok(),
                        theirs.is_ok(),
                        "{cidr} {min:?} {max:?}: conf {ours:?} policy {theirs:?}"
                    ),
                }
                if let Ok(c) = &ours {
                    compiles(c);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * 9 * 9);
}
