//! Routing-policy validation: exact positions for every new error, the typed result.

use bgp_proto::attribute::{Community, LargeCommunity};
use bgp_proto::types::Asn;

use crate::{
    CidrMatch, CommunityValue, Config, ConfigError, ErrorKind, FilterAction, MatchOperator,
    Operation, PeerType,
};

const HEAD: &str = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n";

fn errors(text: &str) -> Vec<ConfigError> {
    match Config::from_str(text, "bgpd.toml") {
        Ok(c) => panic!("expected errors, got a config: {c:#?}"),
        Err(e) => e.errors,
    }
}

fn one(text: &str) -> ConfigError {
    let mut e = errors(text);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e.remove(0)
}

fn ok(text: &str) -> Config {
    match Config::from_str(text, "bgpd.toml") {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn assert_at(e: &ConfigError, kind: ErrorKind, line: usize, column: usize, path: &str) {
    assert_eq!(
        (e.kind, e.line(), e.column(), e.path.as_str()),
        (kind, line, column, path),
        "{e}"
    );
}

/// A filter "f" with one rule in `list` made of `body` (lines 3.. of the file: the header is
/// line 3, the filter name line 4, the rule header line 5, the body from line 6).
fn rule(list: &str, body: &str) -> String {
    format!("{HEAD}[[filters]]\nname = \"f\"\n[[filters.{list}]]\n{body}")
}

#[test]
fn a_full_rule_becomes_the_typed_rule() {
    let c = ok(&format!(
        "{HEAD}[communities]\nlarge = \"4200000000:1:2\"\n{}",
        &rule(
            "export_v4",
            "cidr = \"10.64.0.0/16\"\nmatch_operator = \"In\"\nprefix_length = { min = 26 }\n\
             source = \"RemotePeers\"\ninterface = \"cali*\"\npeer_type = \"iBGP\"\n\
             community = \"65000:1\"\nas_path_prefix = [65001, 65002]\naction = \"Accept\"\n\
             operations = [{ add_community = \"large\" }, { prepend_as_path = [64512] }, \
             { priority = 512 }]\n"
        )[HEAD.len()..]
    ));
    let f = &c.filters[0];
    assert_eq!(f.name.as_str(), "f");
    assert!(f.import_v4.is_empty() && f.export_v6.is_empty() && f.import_v6.is_empty());
    let r = &f.export_v4[0];
    assert_eq!(
        r.cidr,
        Some(
            CidrMatch::new(
                "10.64.0.0/16".parse().unwrap(),
                MatchOperator::In,
                Some((Some(26), None))
            )
            .unwrap()
        )
    );
    assert!(r.remote_peers_only);
    assert_eq!(r.interface.as_deref(), Some("cali*"));
    assert_eq!(r.peer_type, Some(PeerType::Ibgp));
    assert_eq!(
        r.community,
        Some(CommunityValue::Standard(Community::new(65000, 1)))
    );
    assert_eq!(r.as_path_prefix, vec![Asn(65001), Asn(65002)]);
    assert_eq!(r.action, FilterAction::Accept);
    assert_eq!(
        r.operations,
        vec![
            Operation::AddCommunity(CommunityValue::Large(LargeCommunity {
                global: 4_200_000_000,
                local1: 1,
                local2: 2
            })),
            Operation::PrependAsPath(vec![Asn(64512)]),
            Operation::SetPriority(512),
        ]
    );
    // A rule with only an action matches everything.
    let c = ok(&rule("import_v6", "action = \"Reject\"\n"));
    assert_eq!(c.filters[0].import_v6[0].cidr, None);
}

#[test]
fn a_cidr_of_the_other_family_is_refused_at_the_cidr() {
    let e = one(&rule(
        "export_v4",
        "cidr = \"fd00::/8\"\nmatch_operator = \"In\"\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Conflict,
        6,
        8,
        "filter \"f\".export_v4[0].cidr",
    );
    assert_eq!(e.hint.as_deref(), Some("move the rule to export_v6"));
    let e = one(&rule(
        "import_v6",
        "cidr = \"10.0.0.0/8\"\nmatch_operator = \"In\"\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Conflict,
        6,
        8,
        "filter \"f\".import_v6[0].cidr",
    );
    assert_eq!(e.hint.as_deref(), Some("move the rule to import_v4"));
    // Host bits, as everywhere else.
    let e = one(&rule(
        "import_v4",
        "cidr = \"10.0.0.1/8\"\nmatch_operator = \"In\"\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Prefix,
        6,
        8,
        "filter \"f\".import_v4[0].cidr",
    );
}

#[test]
fn prefix_length_rules_follow_policy() {
    // Beyond the family.
    let e = one(&rule(
        "export_v4",
        "cidr = \"10.0.0.0/8\"\nmatch_operator = \"In\"\nprefix_length = { min = 8, max = 33 }\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::OutOfRange,
        8,
        34,
        "filter \"f\".export_v4[0].prefix_length.max",
    );
    // Empty after raising min to the CIDR's length (policy::filter::CidrMatch::new refuses it).
    let e = one(&rule(
        "export_v6",
        "cidr = \"fd00::/48\"\nmatch_operator = \"NotIn\"\nprefix_length = { max = 32 }\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Conflict,
        8,
        17,
        "filter \"f\".export_v6[0].prefix_length",
    );
    assert!(e.message.contains("48..=32"), "{e}");
    // Only with In / NotIn.
    let e = one(&rule(
        "export_v4",
        "cidr = \"10.0.0.0/8\"\nmatch_operator = \"Equal\"\nprefix_length = { max = 24 }\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Conflict,
        8,
        17,
        "filter \"f\".export_v4[0].prefix_length",
    );
    // A min below the CIDR's length is raised, with a note (Calico does the same).
    let c = ok(&rule(
        "export_v4",
        "cidr = \"10.0.0.0/8\"\nmatch_operator = \"In\"\nprefix_length = { min = 4 }\naction = \"Accept\"\n",
    ));
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert_at(
        &c.notes[0],
        ErrorKind::Note,
        8,
        25,
        "filter \"f\".export_v4[0].prefix_length.min",
    );
    // Without a cidr it would narrow nothing: refused, not ignored.
    let e = one(&rule(
        "import_v4",
        "prefix_length = { min = 26 }\naction = \"Reject\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Missing,
        6,
        17,
        "filter \"f\".import_v4[0].cidr",
    );
    assert!(e.message.contains("prefix_length"), "{e}");
}

#[test]
fn cidr_and_match_operator_go_together() {
    let e = one(&rule(
        "export_v4",
        "cidr = \"10.0.0.0/8\"\naction = \"Accept\"\n",
    ));
    assert_eq!(
        (e.kind, e.path.as_str()),
        (
            ErrorKind::Missing,
            "filter \"f\".export_v4[0].match_operator"
        )
    );
    let e = one(&rule(
        "export_v4",
        "match_operator = \"In\"\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Missing,
        6,
        18,
        "filter \"f\".export_v4[0].cidr",
    );
    let e = one(&rule(
        "export_v4",
        "cidr = \"10.0.0.0/8\"\nmatch_operator = \"Inside\"\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Invalid,
        7,
        18,
        "filter \"f\".export_v4[0].match_operator",
    );
    let e = one(&rule(
        "export_v4",
        "cidr = \"10.0.0.0/8\"\nmatch_operator = \"In\"\n",
    ));
    assert_eq!(
        (e.kind, e.path.as_str()),
        (ErrorKind::Missing, "filter \"f\".export_v4[0].action")
    );
}

#[test]
fn words_interfaces_and_as_numbers_in_rules() {
    let e = errors(&rule(
        "import_v4",
        "source = \"Peers\"\ninterface = \"eth 0\"\npeer_type = \"ebgp\"\nas_path_prefix = [0]\naction = \"Drop\"\n",
    ));
    let got: Vec<(ErrorKind, usize, usize)> =
        e.iter().map(|e| (e.kind, e.line(), e.column())).collect();
    assert_eq!(
        got,
        vec![
            (ErrorKind::Invalid, 6, 10),
            (ErrorKind::Invalid, 7, 13),
            (ErrorKind::Invalid, 8, 13),
            (ErrorKind::OutOfRange, 9, 19),
            (ErrorKind::Invalid, 10, 10),
        ],
        "{e:#?}"
    );
    assert_eq!(e[3].path, "filter \"f\".import_v4[0].as_path_prefix[0]");
}

#[test]
fn operations_rules() {
    let e = one(&rule(
        "export_v4",
        "action = \"Reject\"\noperations = [{ priority = 5 }]\n",
    ));
    assert_at(
        &e,
        ErrorKind::Conflict,
        7,
        14,
        "filter \"f\".export_v4[0].operations",
    );
    let e = one(&rule(
        "export_v4",
        "action = \"Accept\"\noperations = [{ priority = 5, add_community = \"1:2\" }]\n",
    ));
    assert_at(
        &e,
        ErrorKind::Conflict,
        7,
        15,
        "filter \"f\".export_v4[0].operations[0]",
    );
    let e = one(&rule(
        "export_v4",
        "action = \"Accept\"\noperations = [{ add_community = \"1:2\" }, {}]\n",
    ));
    assert_at(
        &e,
        ErrorKind::Missing,
        7,
        42,
        "filter \"f\".export_v4[0].operations[1]",
    );
    let e = one(&rule(
        "export_v4",
        "action = \"Accept\"\noperations = [{ prepend_as_path = [] }]\n",
    ));
    assert_at(
        &e,
        ErrorKind::Invalid,
        7,
        35,
        "filter \"f\".export_v4[0].operations[0].prepend_as_path",
    );
    let e = one(&rule(
        "export_v4",
        "action = \"Accept\"\noperations = [{ priority = -1 }]\n",
    ));
    assert_at(
        &e,
        ErrorKind::OutOfRange,
        7,
        28,
        "filter \"f\".export_v4[0].operations[0].priority",
    );
}

#[test]
fn communities_values_and_names() {
    // Standard parts are 16 bits, large parts 32 bits.
    let e = one(&rule(
        "export_v4",
        "community = \"65536:1\"\naction = \"Accept\"\n",
    ));
    assert_at(
        &e,
        ErrorKind::Invalid,
        6,
        13,
        "filter \"f\".export_v4[0].community",
    );
    // An undefined name: did you mean.
    let text = format!(
        "{HEAD}[communities]\nrack-a = \"65000:1\"\n[[prefix_advertisements]]\ncidr = \"10.64.0.0/16\"\ncommunities = [\"rack-b\"]\n"
    );
    let e = one(&text);
    assert_at(
        &e,
        ErrorKind::UnknownName,
        7,
        16,
        "prefix_advertisements[0].communities[0]",
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean \"rack-a\"?"));
    // A bad value in the table is reported at the value.
    let e = one(&format!("{HEAD}[communities]\nx = \"1:2:3:4\"\n"));
    assert_at(&e, ErrorKind::Invalid, 4, 5, "communities.x");
    // A bad name at the name.
    let e = one(&format!("{HEAD}[communities]\n\"1x\" = \"1:2\"\n"));
    assert_at(&e, ErrorKind::Invalid, 4, 1, "communities.1x");
}

#[test]
fn prefix_advertisements_are_typed_and_checked() {
    let c = ok(&format!(
        "{HEAD}[communities]\nbig = \"1:2:3\"\n[[prefix_advertisements]]\ncidr = \"10.64.0.0/16\"\ncommunities = [\"65000:100\", \"big\"]\n"
    ));
    assert_eq!(c.prefix_advertisements.len(), 1);
    assert_eq!(
        c.prefix_advertisements[0].communities,
        vec![
            CommunityValue::Standard(Community::new(65000, 100)),
            CommunityValue::Large(LargeCommunity {
                global: 1,
                local1: 2,
                local2: 3
            }),
        ]
    );
    let e = one(&format!(
        "{HEAD}[[prefix_advertisements]]\ncidr = \"10.64.0.0/16\"\n"
    ));
    assert_eq!(
        (e.kind, e.path.as_str()),
        (ErrorKind::Missing, "prefix_advertisements[0].communities")
    );
    let e = one(&format!(
        "{HEAD}[[prefix_advertisements]]\ncidr = \"10.64.0.0/16\"\ncommunities = [\"1:1\"]\n\
         [[prefix_advertisements]]\ncidr = \"10.64.0.0/16\"\ncommunities = [\"1:2\"]\n"
    ));
    assert_at(
        &e,
        ErrorKind::Duplicate,
        7,
        8,
        "prefix_advertisements[1].cidr",
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("first listed at line 4; put all its communities in one entry")
    );
}

#[test]
fn neighbors_and_templates_name_defined_filters() {
    let filters = "[[filters]]\nname = \"tor-export\"\n[[filters]]\nname = \"mesh\"\n";
    // Unknown name on a neighbor: position of the name, did-you-mean hint.
    let text = format!(
        "{HEAD}{filters}[[neighbors]]\nname = \"n1\"\naddress = \"10.0.0.2\"\nremote_as = 65001\nfilters = [\"mesh\", \"tor-exprt\"]\n"
    );
    let e = one(&text);
    assert_at(
        &e,
        ErrorKind::UnknownName,
        11,
        20,
        "neighbor \"n1\".filters[1]",
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean \"tor-export\"?"));
    // Far from every name: the list.
    let e = one(&text.replace("tor-exprt", "zzzzzzzzzzzz"));
    assert_eq!(e.hint.as_deref(), Some("defined filters: tor-export, mesh"));
    // On a template.
    let e = one(&format!(
        "{HEAD}{filters}[[templates]]\nname = \"t\"\nfilters = [\"nope\"]\n"
    ));
    assert_at(
        &e,
        ErrorKind::UnknownName,
        9,
        12,
        "template \"t\".filters[0]",
    );
    // Listed twice.
    let e = one(&text.replace("tor-exprt", "mesh"));
    assert_at(
        &e,
        ErrorKind::Duplicate,
        11,
        20,
        "neighbor \"n1\".filters[1]",
    );
    // No filters at all.
    let e = one(&format!(
        "{HEAD}[[neighbors]]\nname = \"n1\"\naddress = \"10.0.0.2\"\nremote_as = 65001\nfilters = [\"x\"]\n"
    ));
    assert_eq!(e.hint.as_deref(), Some("no [[filters]] are defined"));
    // Inherited from the template, replaced by the neighbor's own list.
    let c = ok(&format!(
        "{HEAD}{filters}[[templates]]\nname = \"t\"\nremote_as = 64512\nfilters = [\"mesh\"]\n\
         [[neighbors]]\nname = \"a\"\ntemplate = \"t\"\naddress = \"10.0.0.2\"\n\
         [[neighbors]]\nname = \"b\"\ntemplate = \"t\"\naddress = \"10.0.0.3\"\nfilters = [\"tor-export\", \"mesh\"]\n\
         [[neighbors]]\nname = \"c\"\ntemplate = \"t\"\naddress = \"10.0.0.4\"\nfilters = []\n"
    ));
    let names = |n: &str| -> Vec<String> {
        let nb = c.neighbor(n).unwrap();
        c.neighbor_filters(nb).map(|f| f.name.to_string()).collect()
    };
    assert_eq!(names("a"), ["mesh"]);
    assert_eq!(names("b"), ["tor-export", "mesh"]);
    assert!(names("c").is_empty());
}

#[test]
fn a_broken_filter_does_not_cascade_into_its_users() {
    let text = format!(
        "{HEAD}[[filters]]\nname = \"f\"\n[[filters.export_v4]]\naction = \"Maybe\"\n\
         [[neighbors]]\nname = \"n1\"\naddress = \"10.0.0.2\"\nremote_as = 65001\nfilters = [\"f\"]\n"
    );
    let e = one(&text);
    assert_at(
        &e,
        ErrorKind::Invalid,
        6,
        10,
        "filter \"f\".export_v4[0].action",
    );
}

#[test]
fn filter_names_are_checked_and_unique() {
    let e = one(&format!("{HEAD}[[filters]]\nname = \"-x\"\n"));
    assert_at(&e, ErrorKind::Invalid, 4, 8, "filters[0].name");
    let e = one(&format!(
        "{HEAD}[[filters]]\nname = \"x\"\n[[filters]]\nname = \"x\"\n"
    ));
    assert_at(&e, ErrorKind::Duplicate, 6, 8, "filters[1].name");
    assert_eq!(e.hint.as_deref(), Some("first defined at line 4"));
    let e = one(&format!(
        "{HEAD}[[filters]]\n[[filters.export_v4]]\naction = \"Accept\"\n"
    ));
    assert_eq!(
        (e.kind, e.path.as_str()),
        (ErrorKind::Missing, "filters[0].name")
    );
}

#[test]
fn unknown_keys_inside_filters_are_reported_with_their_path() {
    let e = errors(&rule(
        "export_v4",
        "actoin = \"Accept\"\nprefix_length = { mn = 1 }\noperations = [{ prepend = [1] }]\n",
    ));
    let got: Vec<(usize, usize, &str, Option<&str>)> = e
        .iter()
        .map(|e| (e.line(), e.column(), e.path.as_str(), e.hint.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                6,
                1,
                "filter \"f\".export_v4[0].actoin",
                Some("did you mean `action`?")
            ),
            (
                7,
                19,
                "filter \"f\".export_v4[0].prefix_length.mn",
                Some("did you mean `min`?")
            ),
            (
                8,
                17,
                "filter \"f\".export_v4[0].operations[0].prepend",
                Some("known fields here: add_community, prepend_as_path, priority")
            ),
        ]
    );
    assert!(e.iter().all(|e| e.kind == ErrorKind::UnknownField));
}

#[test]
fn services_static_routes_and_allowlist() {
    let c = ok(&format!(
        "{HEAD}static_routes = [\"192.0.2.0/24\"]\nrr_allowlist = [\"198.51.100.0/24\"]\n\
         [services]\ncluster_ips = [\"10.96.0.0/12\"]\nload_balancer_ips = [\"fd00:1::/112\"]\n"
    ));
    assert_eq!(c.static_routes, vec!["192.0.2.0/24".parse().unwrap()]);
    assert_eq!(c.rr_allowlist, vec!["198.51.100.0/24".parse().unwrap()]);
    assert_eq!(
        c.services.cluster_ips,
        vec!["10.96.0.0/12".parse().unwrap()]
    );
    assert!(c.services.external_ips.is_empty());
    assert_eq!(
        c.services.load_balancer_ips,
        vec!["fd00:1::/112".parse().unwrap()]
    );
    let e = errors(&format!(
        "{HEAD}static_routes = [\"192.0.2.1/24\"]\n[services]\nexternal_ips = [\"10.0.0.0/8\", \"10.0.0.0/8\"]\n"
    ));
    let got: Vec<(ErrorKind, usize, usize, &str)> = e
        .iter()
        .map(|e| (e.kind, e.line(), e.column(), e.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (ErrorKind::Prefix, 3, 18, "static_routes[0]"),
            (ErrorKind::Duplicate, 5, 31, "services.external_ips[1]"),
        ]
    );
}

#[test]
fn decision_options_and_defaults() {
    let d = ok(HEAD).decision;
    assert!(!d.always_compare_med && !d.missing_med_worst);
    assert_eq!((d.max_paths, d.default_local_pref), (16, 100));
    let d = ok(&format!(
        "{HEAD}[bgp]\nalways_compare_med = true\nmissing_med_worst = true\nmax_paths = 1\ndefault_local_pref = 200\n"
    ))
    .decision;
    assert!(d.always_compare_med && d.missing_med_worst);
    assert_eq!((d.max_paths, d.default_local_pref), (1, 200));
    let e = errors(&format!(
        "{HEAD}[bgp]\nmax_paths = 0\ndefault_local_pref = 4294967296\nmed = 1\n"
    ));
    assert_eq!(
        e.len(),
        1,
        "unknown keys stop before semantic checks: {e:#?}"
    );
    assert_at(&e[0], ErrorKind::UnknownField, 6, 1, "bgp.med");
    let e = errors(&format!(
        "{HEAD}[bgp]\nmax_paths = 0\ndefault_local_pref = 4294967296\n"
    ));
    let got: Vec<(ErrorKind, usize, usize, &str)> = e
        .iter()
        .map(|e| (e.kind, e.line(), e.column(), e.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (ErrorKind::OutOfRange, 4, 13, "bgp.max_paths"),
            (ErrorKind::OutOfRange, 5, 22, "bgp.default_local_pref"),
        ]
    );
}
