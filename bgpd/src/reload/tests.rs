//! The reload planner: configuration pairs → operations, no sockets.

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

#[test]
fn identical_configurations_do_nothing() {
    assert!(plan(&config(&base()), &config(&base())).is_empty());
}

#[test]
fn description_only_updates_in_place() {
    let mut new = base();
    new[1] = neighbor(
        "Node_10_99_0_3",
        "10.99.0.3",
        65003,
        "description = \"tor\"\n",
    );
    let p = plan(&config(&base()), &config(&new));
    assert_eq!(
        p.peers,
        vec![PeerOp::Update {
            name: name("Node_10_99_0_3"),
            fields: vec![NeighborField::Description],
        }]
    );
    assert!(p.disrupted().is_empty());
}

#[test]
fn hold_time_waits_for_the_next_session() {
    let mut new = base();
    new[0] = neighbor("Mesh_10_99_0_2", "10.99.0.2", 64512, "hold_time = 30\n");
    let p = plan(&config(&base()), &config(&new));
    assert!(p.disrupted().is_empty(), "{p:?}");
    let [PeerOp::Update { fields, .. }] = &p.peers[..] else {
        panic!("one in-place update expected: {p:?}");
    };
    assert!(fields.contains(&NeighborField::HoldTime), "{fields:?}");
    assert!(fields
        .iter()
        .all(|f| f.effect() == conf::ChangeEffect::NextSession));
}

#[test]
fn remote_as_change_resets_only_that_neighbor() {
    let mut new = base();
    new[1] = neighbor("Node_10_99_0_3", "10.99.0.3", 65004, "");
    let p = plan(&config(&base()), &config(&new));
    assert_eq!(
        p.peers,
        vec![PeerOp::Reset {
            name: name("Node_10_99_0_3"),
            fields: vec![NeighborField::RemoteAs],
            global: Vec::new(),
        }]
    );
    assert_eq!(p.disrupted(), vec![&name("Node_10_99_0_3")]);
}

#[test]
fn password_and_address_reset() {
    let mut new = base();
    new[0] = neighbor("Mesh_10_99_0_2", "10.99.0.12", 64512, "");
    let p = plan(&config(&base()), &config(&new));
    assert!(
        matches!(&p.peers[..], [PeerOp::Reset { fields, .. }] if fields == &[NeighborField::Address])
    );
}

#[test]
fn added_and_removed_neighbors_start_and_stop_only_themselves() {
    let mut new = base();
    new.remove(0);
    new.push(neighbor("Mesh_10_99_0_4", "10.99.0.4", 64512, ""));
    let p = plan(&config(&base()), &config(&new));
    assert_eq!(
        p.peers,
        vec![
            PeerOp::Stop(name("Mesh_10_99_0_2")),
            PeerOp::Start(name("Mesh_10_99_0_4")),
        ]
    );
    assert_eq!(p.disrupted(), vec![&name("Mesh_10_99_0_2")]);
}

#[test]
fn router_id_change_resets_every_kept_neighbor_but_not_added_ones() {
    let old = config(&base());
    let mut parts = base();
    parts.push(neighbor("Mesh_10_99_0_4", "10.99.0.4", 64512, ""));
    let text = format!(
        "router_id = \"10.99.0.9\"\nlocal_as = 64512\n{}",
        parts.concat()
    );
    let new = Config::from_str(&text, "t.toml").expect("valid");
    let p = plan(&old, &new);
    let resets: Vec<_> = p
        .peers
        .iter()
        .filter(|o| matches!(o, PeerOp::Reset { global, .. } if global == &[GlobalField::RouterId]))
        .collect();
    assert_eq!(resets.len(), 2, "{p:?}");
    assert!(p.peers.contains(&PeerOp::Start(name("Mesh_10_99_0_4"))));
}

#[test]
fn next_hop_change_reevaluates_without_reset() {
    let mut new = base();
    new[1] = neighbor(
        "Node_10_99_0_3",
        "10.99.0.3",
        65003,
        "next_hop = \"self\"\n",
    );
    let p = plan(&config(&base()), &config(&new));
    assert!(p.disrupted().is_empty(), "{p:?}");
    assert_eq!(
        p.policy,
        Some(PolicyScope::Neighbors(vec![name("Node_10_99_0_3")]))
    );
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
    let p = plan(&old, &new);
    assert!(p.peers.is_empty());
    assert_eq!(
        p.blocks_added,
        vec!["10.244.1.0/26".parse::<IpNet>().expect("net")]
    );
    assert!(p.metrics_changed);
    // Listening sockets are bound anew by the reload, no restart needed.
    assert!(p.listen_changed);
    assert!(p.needs_restart.is_empty(), "{:?}", p.needs_restart);
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

/// Which plan field carries `ev` out: an event of the diff that no part of the reload consumes
/// would be a setting silently dropped (a new variant does not compile here until it has one).
fn consumed(ev: &ConfigEvent, p: &Plan) -> bool {
    match ev {
        ConfigEvent::GlobalReset { fields } => p
            .peers
            .iter()
            .any(|op| matches!(op, PeerOp::Reset { global, .. } if global == fields)),
        ConfigEvent::ListenChanged => p.listen_changed,
        ConfigEvent::NeighborRemoved(n) => p.peers.contains(&PeerOp::Stop(n.clone())),
        ConfigEvent::NeighborAdded(n) => p.peers.contains(&PeerOp::Start(n.clone())),
        ConfigEvent::NeighborReset { name, .. } => p
            .peers
            .iter()
            .any(|op| matches!(op, PeerOp::Reset { name: n, .. } if n == name)),
        ConfigEvent::NeighborUpdated { name, fields } => p.peers.contains(&PeerOp::Update {
            name: name.clone(),
            fields: fields.clone(),
        }),
        // The RIB actor gets the whole new configuration (policy, decision options, blocks).
        ConfigEvent::PolicyChanged(scope) => p.policy.as_ref() == Some(scope),
        ConfigEvent::BlocksChanged { added, removed } => {
            &p.blocks_added == added && &p.blocks_removed == removed
        }
        ConfigEvent::PoolsChanged => p.pools_changed,
        ConfigEvent::KernelChanged => p.kernel_filter || p.needs_restart.contains(&"kernel"),
        ConfigEvent::ControlChanged => p.needs_restart.contains(&"control"),
        ConfigEvent::MetricsChanged => p.metrics_changed,
    }
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
        let events = conf::diff(&old, &new).events();
        assert!(!events.is_empty(), "no event for:\n{text}");
        let p = plan(&old, &new);
        for ev in &events {
            assert!(consumed(ev, &p), "{ev:?} not consumed by {p:?}");
            seen.insert(std::mem::discriminant(ev));
        }
    }
    // Every kind of event was produced by some change above.
    assert_eq!(
        seen.len(),
        12,
        "a ConfigEvent variant without an example here"
    );
}
