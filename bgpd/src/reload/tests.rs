//! Reload events and their consumers: configuration pairs → events → who takes them, no
//! sockets.

use std::collections::HashSet;

use conf::{NeighborField, PolicyScope};

use super::*;

const HEAD: &str = "router_id = \"10.99.0.1\"\nlocal_as = 64512\n";

fn neighbor(name: &str, addr: &str, asn: u32, extra: &str) -> String {
    format!("[[neighbors]]\nname = \"{name}\"\naddress = \"{addr}\"\nremote_as = {asn}\n{extra}")
}

fn config(parts: &[String]) -> Config {
    let text = format!("{HEAD}{}", parts.concat());
    Config::from_str(&text, "t.toml").expect("valid test config")
}

fn name(s: &str) -> NeighborName {
    config(&[neighbor(s, "10.99.0.2", 1, "")]).neighbors[0]
        .name
        .clone()
}

fn base() -> Vec<String> {
    vec![
        neighbor("Mesh_10_99_0_2", "10.99.0.2", 64512, ""),
        neighbor("Node_10_99_0_3", "10.99.0.3", 65003, ""),
    ]
}

fn events(old: &[String], new: &[String]) -> Vec<ConfigEvent> {
    conf::diff(&config(old), &config(new))
}

/// Who consumes each event of a reload.
fn routed(events: &[ConfigEvent]) -> Vec<(&ConfigEvent, &'static [Consumer])> {
    events.iter().map(|e| (e, consumers(e))).collect()
}

#[test]
fn identical_configurations_do_nothing() {
    assert!(events(&base(), &base()).is_empty());
}

#[test]
fn description_only_updates_the_task_in_place_and_not_the_rib() {
    let mut new = base();
    new[1] = neighbor(
        "Node_10_99_0_3",
        "10.99.0.3",
        65003,
        "description = \"tor\"\n",
    );
    let ev = events(&base(), &new);
    assert_eq!(
        routed(&ev),
        vec![(
            &ConfigEvent::NeighborUpdated {
                name: name("Node_10_99_0_3"),
                fields: vec![NeighborField::Description],
            },
            &[Consumer::Peers, Consumer::Control][..]
        )]
    );
}

#[test]
fn remote_as_change_resets_only_that_neighbor() {
    let mut new = base();
    new[1] = neighbor("Node_10_99_0_3", "10.99.0.3", 65004, "");
    let ev = events(&base(), &new);
    assert_eq!(
        routed(&ev),
        vec![(
            &ConfigEvent::NeighborReset {
                name: name("Node_10_99_0_3"),
                fields: vec![NeighborField::RemoteAs],
            },
            &[Consumer::Peers, Consumer::Rib, Consumer::Control][..]
        )]
    );
}

#[test]
fn next_hop_change_goes_to_the_rib_scoped_to_that_neighbor() {
    let mut new = base();
    new[1] = neighbor(
        "Node_10_99_0_3",
        "10.99.0.3",
        65003,
        "next_hop = \"self\"\n",
    );
    let ev = events(&base(), &new);
    let scope =
        ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(vec![name("Node_10_99_0_3")]));
    assert!(ev.contains(&scope), "{ev:?}");
    assert_eq!(consumers(&scope), &[Consumer::Rib]);
    assert!(ev
        .iter()
        .all(|e| !matches!(e, ConfigEvent::NeighborReset { .. })));
}

#[test]
fn the_rib_gets_the_neighbors_its_events_name_not_the_whole_configuration() {
    let old = config(&base());
    let mut parts = base();
    parts[1] = neighbor(
        "Node_10_99_0_3",
        "10.99.0.3",
        65003,
        "next_hop = \"self\"\n",
    );
    parts.push(neighbor("Mesh_10_99_0_4", "10.99.0.4", 64512, ""));
    let new = config(&parts);
    let rib_events: Vec<ConfigEvent> = conf::diff(&old, &new)
        .into_iter()
        .filter(|e| consumers(e).contains(&Consumer::Rib))
        .collect();
    let ids: HashMap<&str, u32> = [
        ("Mesh_10_99_0_2", 1),
        ("Node_10_99_0_3", 2),
        ("Mesh_10_99_0_4", 3),
    ]
    .into_iter()
    .collect();
    let (cmd, _rx) = mpsc::channel(1);
    let r = Reconfigure::new(rib_events, &new, |n| {
        Some(PeerTask {
            id: PeerId(*ids.get(n.as_str())?),
            handles: Some((Arc::default(), cmd.clone())),
        })
    });
    let mut named: Vec<&str> = r.peers.keys().map(NeighborName::as_str).collect();
    named.sort_unstable();
    assert_eq!(named, vec!["Mesh_10_99_0_4", "Node_10_99_0_3"]);
}

#[test]
fn blocks_metrics_and_listen() {
    let old = config(&base());
    let text = format!(
        "{HEAD}local_blocks = [\"10.244.1.0/26\"]\n[metrics]\nlisten = \"127.0.0.1:9179\"\n\
         [listen]\naddresses = [\"127.0.0.1\"]\n{}",
        base().concat()
    );
    let new = Config::from_str(&text, "t.toml").expect("valid");
    let ev = conf::diff(&old, &new);
    assert!(ev.contains(&ConfigEvent::BlocksChanged {
        added: vec!["10.244.1.0/26".parse().expect("net")],
        removed: Vec::new(),
    }));
    assert!(ev.contains(&ConfigEvent::MetricsChanged));
    // Listening sockets are bound anew by the reload, no restart needed.
    assert!(ev.contains(&ConfigEvent::ListenChanged));
    assert!(!any_for(&ev, Consumer::Restart), "{ev:?}");
    assert!(!any_for(&ev, Consumer::Peers), "{ev:?}");
}

#[test]
fn errors_are_reported_bird_style_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("bgpd-reload-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("bad.toml");
    std::fs::write(
        &f,
        format!(
            "{HEAD}[[neighbors]]\nname = \"x\"\naddress = \"10.99.0.2\"\nremote_as = \"oops\"\n"
        ),
    )
    .expect("write");
    let r = load(Some(&f), Format::Toml).expect_err("invalid");
    assert_eq!(r.path.as_deref(), Some(f.as_path()));
    let first = &r.errors[0];
    assert!(
        first.starts_with(&format!("{}, line 6: ", f.display())),
        "{first}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn every_config_event_has_a_consumer() {
    let old = config(&base());
    let peers = base().concat();
    let changes = [
        format!("router_id = \"10.99.0.9\"\nlocal_as = 64512\n{peers}"),
        format!("{HEAD}[listen]\nport = 1790\n{peers}"),
        format!("{HEAD}{}", base()[0]),
        format!(
            "{HEAD}{peers}{}",
            neighbor("Mesh_10_99_0_4", "10.99.0.4", 64512, "")
        ),
        format!(
            "{HEAD}{}{}",
            base()[0],
            neighbor("Node_10_99_0_3", "10.99.0.3", 65099, "")
        ),
        format!(
            "{HEAD}{}{}",
            base()[0],
            neighbor(
                "Node_10_99_0_3",
                "10.99.0.3",
                65003,
                "description = \"x\"\n"
            )
        ),
        format!("{HEAD}{peers}[bgp]\nalways_compare_med = true\n"),
        format!("{HEAD}{peers}[bgp]\nmax_paths = 1\n"),
        format!("{HEAD}local_blocks = [\"10.244.1.0/26\"]\n{peers}"),
        format!("{HEAD}ip_pools = [{{ cidr = \"10.244.0.0/16\" }}]\n{peers}"),
        format!("{HEAD}{peers}[kernel]\nenable_writes = true\n"),
        format!("{HEAD}{peers}[control]\nsocket = \"x.ctl\"\n"),
        format!("{HEAD}{peers}[metrics]\nlisten = \"127.0.0.1:9179\"\n"),
    ];
    let mut seen = HashSet::new();
    for text in &changes {
        let new = Config::from_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let events = conf::diff(&old, &new);
        assert!(!events.is_empty(), "no event for:\n{text}");
        for ev in &events {
            assert!(!consumers(ev).is_empty(), "{ev:?} has no consumer");
            seen.insert(std::mem::discriminant(ev));
        }
    }
    // The BIRD front end's own events.
    for ev in [
        ConfigEvent::KernelFilterChanged,
        ConfigEvent::StaticRoutesChanged,
        ConfigEvent::DirectInterfacesChanged,
    ] {
        assert!(!consumers(&ev).is_empty(), "{ev:?} has no consumer");
        seen.insert(std::mem::discriminant(&ev));
    }
    // Every kind of event was produced by some change above.
    assert_eq!(
        seen.len(),
        17,
        "a ConfigEvent variant without an example here"
    );
}
