//! The RIB's share of a reload ([`super::reconfigure`]) driven directly: scoped policy
//! changes touch only the peers they name, every RIB event is acted on.

use std::net::Ipv4Addr;

use bgp_proto::attribute::PathAttributes;
use bgp_proto::update::Update;
use bgp_proto::Asn;
use rib::SelectedRoute;

use super::tests::*;
use super::*;

#[tokio::test]
async fn a_reload_changes_policy_blocks_and_peers_without_a_session_reset() {
    let mut h = harness();
    let (w2, mut r2) = mpsc::channel(16);
    send(&mut h, 1, vec![up(2, w2)]).await;
    assert_eq!(
        decode(&r2.try_recv().expect("initial table").concat())
            .0
            .len(),
        1
    );
    // New configuration: a second block, a filter keeping the first from mesh_2, mesh_3 gone.
    let text = CONFIG.replace(
        "local_blocks = [\"10.64.1.0/26\"]",
        "local_blocks = [\"10.64.1.0/26\", \"10.64.5.0/26\"]\n\
         filters = [{ name = \"f\", export_v4 = [{ cidr = \"10.64.1.0/26\", \
         match_operator = \"Equal\", action = \"Reject\" }] }]",
    );
    let text = text.replace(
        "name = \"mesh_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\n",
        "name = \"mesh_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\nfilters = [\"f\"]\n",
    );
    let text = text[..text.find("[[neighbors]]\nname = \"mesh_3\"").unwrap()].to_string();
    let config = Config::from_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let r = reconfigure::between(&base(), &config, h.stats[0].clone(), mpsc::channel(1).0);
    h.actor.request(RibRequest::Reconfigure(Box::new(r))).await;
    let mut ann = Vec::new();
    let mut wd = Vec::new();
    while let Ok(b) = r2.try_recv() {
        let (a, w, _) = decode(&b.concat());
        ann.extend(a.into_iter().map(|(p, _)| p));
        wd.extend(w);
    }
    assert_eq!(ann, vec!["10.64.5.0/26".parse::<Prefix>().unwrap()]);
    assert_eq!(wd, vec!["10.64.1.0/26".parse::<Prefix>().unwrap()]);
    assert!(!h.actor.peers.contains_key(&PeerId(2)), "mesh_3 removed");
    assert_eq!(
        ask_local(&mut h, None).await.len(),
        2,
        "both blocks in Loc-RIB"
    );
}

/// A route for 10.64.9.0/26 from neighbour AS `first_as` with MED `med`, next hop the peer.
fn with_med(n: u8, first_as: u32, med: u32) -> PeerEvent {
    let attributes = PathAttributes {
        origin: Some(bgp_proto::attribute::Origin::Igp),
        as_path: Some(bgp_proto::attribute::AsPath::from_sequence([Asn(first_as)])),
        next_hop: Some(Ipv4Addr::new(10, 99, 0, n)),
        med: Some(med),
        ..PathAttributes::default()
    };
    PeerEvent::Update(Box::new(Update {
        attributes,
        nlri: vec![bgp_proto::nlri::NlriEntry::new(
            "10.64.9.0/26".parse().unwrap(),
        )],
        ..Update::default()
    }))
}

#[tokio::test]
async fn a_reload_of_the_decision_options_reruns_best_path_selection() {
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    let (w3, _r3) = mpsc::channel(16);
    send(&mut h, 1, vec![up(2, w2), with_med(2, 65002, 50)]).await;
    send(&mut h, 2, vec![up(3, w3), with_med(3, 65003, 10)]).await;
    let best = |routes: Vec<(Prefix, Vec<SelectedRoute>)>| {
        routes
            .into_iter()
            .find(|(p, _)| *p == "10.64.9.0/26".parse::<Prefix>().unwrap())
            .map(|(_, r)| r.iter().map(|s| s.peer).collect::<Vec<_>>())
    };
    // Different neighbour ASes: MED not compared (RFC 4271 §9.1.2.2 (c)); one path, the lower
    // router id.
    let one_path = CONFIG.to_owned() + "\n[bgp]\nmax_paths = 1\n";
    let reload = |h: &mut Harness, old: &str, new: &str| {
        let [old, new] =
            [old, new].map(|t| Config::from_str(t, "t.toml").unwrap_or_else(|e| panic!("{e}")));
        let r = reconfigure::between(&old, &new, h.stats[0].clone(), mpsc::channel(1).0);
        RibRequest::Reconfigure(Box::new(r))
    };
    let r = reload(&mut h, CONFIG, &one_path);
    h.actor.request(r).await;
    assert_eq!(
        best(ask_local(&mut h, None).await),
        Some(vec![Some(PeerId(1))])
    );
    let r = reload(
        &mut h,
        &one_path,
        &(one_path.clone() + "always_compare_med = true\n"),
    );
    h.actor.request(r).await;
    assert_eq!(
        best(ask_local(&mut h, None).await),
        Some(vec![Some(PeerId(2))]),
        "the lower MED wins once MEDs are compared across ASes"
    );
    // Both sessions stay (no Down); iBGP-learned, the new best goes to neither iBGP peer.
    assert!(h.actor.peers.values().all(|p| p.session.is_some()));
}

/// Everything written to a peer since the last call: (announced, withdrawn) prefixes.
fn drain(r: &mut mpsc::Receiver<Outgoing>) -> (Vec<Prefix>, Vec<Prefix>, usize) {
    let (mut ann, mut wd, mut messages) = (Vec::new(), Vec::new(), 0);
    while let Ok(b) = r.try_recv() {
        let (a, w, n) = decode(&b.concat());
        ann.extend(a.into_iter().map(|(p, _)| p));
        wd.extend(w);
        messages += n;
    }
    (ann, wd, messages)
}

/// CONFIG with mesh_2 using filter `f` of `rules` (a `[[filters]]` body).
fn with_filter_on_mesh_2(rules: &str) -> Config {
    let text = CONFIG.replace(
        "local_blocks = [\"10.64.1.0/26\"]",
        &format!("local_blocks = [\"10.64.1.0/26\"]\nfilters = [{{ name = \"f\", {rules} }}]"),
    );
    let text = text.replace(
        "name = \"mesh_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\n",
        "name = \"mesh_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\nfilters = [\"f\"]\n",
    );
    Config::from_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_export_filter_change_of_one_peer_sends_it_the_difference_and_nothing_to_the_other() {
    let mut h = harness();
    let (w2, mut r2) = mpsc::channel(16);
    let (w3, mut r3) = mpsc::channel(16);
    send(&mut h, 1, vec![up(2, w2)]).await;
    send(&mut h, 2, vec![up(3, w3)]).await;
    drain(&mut r2);
    drain(&mut r3);
    let new = with_filter_on_mesh_2(
        "export_v4 = [{ cidr = \"10.64.1.0/26\", match_operator = \"Equal\", action = \"Reject\" }]",
    );
    let r = reconfigure::between(&base(), &new, h.stats[0].clone(), mpsc::channel(1).0);
    let done = h.actor.reconfigure(r).await;
    assert_eq!(
        done,
        Reconfigured {
            applied: 2,
            reimported: 0,
            reexported_all: false,
            regrouped: 1,
        },
        "mesh_2 moved to a group of its own, nothing re-imported"
    );
    let (ann, wd, _) = drain(&mut r2);
    assert!(ann.is_empty(), "{ann:?}");
    assert_eq!(wd, vec!["10.64.1.0/26".parse::<Prefix>().unwrap()]);
    assert_eq!(drain(&mut r3).2, 0, "mesh_3 is sent no UPDATE");
    assert!(h.actor.peers.values().all(|p| p.session.is_some()));
}

#[tokio::test]
async fn an_import_filter_change_of_one_peer_reimports_only_its_routes() {
    let mut h = harness();
    let (w2, mut r2) = mpsc::channel(16);
    let (w3, mut r3) = mpsc::channel(16);
    send(&mut h, 1, vec![up(2, w2), with_med(2, 65002, 50)]).await;
    send(&mut h, 2, vec![up(3, w3)]).await;
    drain(&mut r2);
    drain(&mut r3);
    let accepted = |h: &mut Harness| h.actor.rib.route_counts(PeerId(1)).imported[0];
    assert_eq!(accepted(&mut h), 1);
    let new = with_filter_on_mesh_2(
        "import_v4 = [{ cidr = \"10.64.9.0/26\", match_operator = \"Equal\", action = \"Reject\" }]",
    );
    let r = reconfigure::between(&base(), &new, h.stats[0].clone(), mpsc::channel(1).0);
    let done = h.actor.reconfigure(r).await;
    assert_eq!(
        done,
        Reconfigured {
            applied: 2,
            reimported: 1,
            reexported_all: false,
            regrouped: 0,
        },
        "only mesh_2's Adj-RIB-In went through import again; its export is unchanged"
    );
    assert_eq!(accepted(&mut h), 0, "the route is now refused on import");
    // An iBGP route goes to no iBGP peer: nothing to withdraw from anyone.
    assert_eq!(drain(&mut r2).2 + drain(&mut r3).2, 0);
}

#[tokio::test]
async fn every_rib_event_of_a_reload_is_applied_by_the_actor() {
    let old = base();
    let mut seen = std::collections::HashSet::new();
    for text in [
        // Neighbor removed and added, one reset.
        CONFIG
            .replace("mesh_3", "mesh_4")
            .replace("10.99.0.3", "10.99.0.4"),
        CONFIG.replace(
            "address = \"10.99.0.2\"\nremote_as = 64512",
            "address = \"10.99.0.2\"\nremote_as = 64512\nport = 1790",
        ),
        // Updated in place (export and import side), blocks, pools, decision.
        CONFIG.replace(
            "address = \"10.99.0.2\"\nremote_as = 64512",
            "address = \"10.99.0.2\"\nremote_as = 64512\nnext_hop = \"self\"\nallow_own_as = 1",
        ),
        CONFIG.replace("[\"10.64.1.0/26\"]", "[\"10.64.2.0/26\"]"),
        CONFIG.replace("10.64.0.0/16", "10.64.0.0/15"),
        format!("{CONFIG}\n[bgp]\nmax_paths = 1\n"),
    ] {
        let mut h = harness();
        let new = Config::from_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let r = reconfigure::between(&old, &new, h.stats[0].clone(), mpsc::channel(1).0);
        let events = r.events.clone();
        assert!(!events.is_empty(), "{text}");
        seen.extend(events.iter().map(std::mem::discriminant));
        let done = h.actor.reconfigure(r).await;
        assert_eq!(done.applied, events.len(), "{events:?}");
    }
    // NeighborRemoved/Added/Reset/Updated, Blocks, Import, Export (scoped and all), Decision.
    assert_eq!(seen.len(), 8);
}
