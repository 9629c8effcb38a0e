//! RFC 7606 table: one row per malformation, with the UPDATE body (hex, after the header), the
//! expected action and the UPDATE Message Error subcode (sent on session reset, logged
//! otherwise).

use bgp_proto::notification::{code, update_subcode as sub};
use bgp_proto::update::{Action, Update};
use bgp_proto::SessionContext;

/// ORIGIN IGP, AS_PATH 65001 (4-octet), NEXT_HOP 10.0.0.1.
const BASE4: &str = "40010100 40020602010000fde9 4003040a000001";
/// The same with a 2-octet AS_PATH.
const BASE2: &str = "40010100 4002040201fde9 4003040a000001";
/// NLRI 10.0.0.0/24.
const NLRI: &str = "180a0000";
/// MP_REACH_NLRI IPv6 unicast, next hop fd99::1, NLRI 2001:db8::/32.
const MP6: &str = "800e1a 000201 10 fd990000000000000000000000000001 00 2020010db8";

fn ctx4() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

/// Assemble a body from its three fields, computing both length fields.
fn upd(withdrawn: &str, attrs: &str, nlri: &str) -> String {
    let w = hex(withdrawn);
    let a = hex(attrs);
    let mut out = Vec::new();
    out.extend_from_slice(&(w.len() as u16).to_be_bytes());
    out.extend_from_slice(&w);
    out.extend_from_slice(&(a.len() as u16).to_be_bytes());
    out.extend_from_slice(&a);
    out.extend_from_slice(&hex(nlri));
    ::hex::encode(out)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    ::hex::decode(s).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Decodes with no malformation.
    Clean,
    /// Strongest action, subcode of the (first) malformation with that action, and how many
    /// routes the UPDATE then withdraws.
    Act(Action, u8, usize),
}

struct Row {
    name: &'static str,
    ctx: SessionContext,
    body: String,
    expect: Expect,
}

fn row(name: &'static str, body: String, expect: Expect) -> Row {
    Row {
        name,
        ctx: ctx4(),
        body,
        expect,
    }
}

fn with(s: &str, extra: &str) -> String {
    format!("{s} {extra}")
}

fn table() -> Vec<Row> {
    use Action::*;
    use Expect::*;
    vec![
        row("valid update", upd("", BASE4, NLRI), Clean),
        row("no NLRI, no attributes (End-of-RIB) is fine", upd("", "", ""), Clean),
        row(
            "missing well-known attributes without NLRI is fine (§3 d)",
            upd("180a0000", "", ""),
            Clean,
        ),
        // §4 and RFC 4271 §6.3: length fields that do not fit → session reset.
        row("truncated body", "00".into(), Act(SessionReset, sub::MALFORMED_ATTRIBUTE_LIST, 0)),
        row(
            "withdrawn routes length overruns the message",
            "0010 0000".into(),
            Act(SessionReset, sub::MALFORMED_ATTRIBUTE_LIST, 0),
        ),
        row(
            "total attribute length overruns the message",
            "0000 0010 40010100".into(),
            Act(SessionReset, sub::MALFORMED_ATTRIBUTE_LIST, 0),
        ),
        // §5.3: NLRI that cannot be parsed → session reset.
        row(
            "withdrawn prefix length 33",
            upd("2100000000", "", ""),
            Act(SessionReset, sub::INVALID_NETWORK_FIELD, 0),
        ),
        row(
            "NLRI prefix overruns the message",
            upd("", BASE4, "180a00"),
            Act(SessionReset, sub::INVALID_NETWORK_FIELD, 0),
        ),
        row(
            "NLRI prefix length 33",
            upd("", BASE4, "210a000000ff"),
            Act(SessionReset, sub::INVALID_NETWORK_FIELD, 0),
        ),
        // §4: an attribute inconsistent with Total Path Attribute Length → treat-as-withdraw.
        row(
            "last attribute overruns the attribute field",
            upd("", &with(BASE4, "c00808fde80001"), NLRI),
            Act(TreatAsWithdraw, sub::MALFORMED_ATTRIBUTE_LIST, 1),
        ),
        row(
            "fewer than 3 octets left for an attribute",
            upd("", &with(BASE4, "c008"), NLRI),
            Act(TreatAsWithdraw, sub::MALFORMED_ATTRIBUTE_LIST, 1),
        ),
        row(
            "MP_REACH_NLRI overruns the attribute field (NLRI not locatable)",
            upd("", "800e20 000201 10 fd99", ""),
            Act(SessionReset, sub::MALFORMED_ATTRIBUTE_LIST, 0),
        ),
        // §3 (c): flags.
        row(
            "ORIGIN with Optional bit set",
            upd("", "80010100 40020602010000fde9 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_FLAGS, 1),
        ),
        row(
            "COMMUNITIES without Transitive bit",
            upd("", &with(BASE4, "8008040001ffff"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_FLAGS, 1),
        ),
        // §7.1 ORIGIN.
        row(
            "ORIGIN value 3",
            upd("", "40010103 40020602010000fde9 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::INVALID_ORIGIN, 1),
        ),
        row(
            "ORIGIN length 2",
            upd("", "4001020000 40020602010000fde9 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        // §7.2 AS_PATH.
        row(
            "AS_PATH segment of length 0",
            upd("", "40010100 4002020200 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::MALFORMED_AS_PATH, 1),
        ),
        row(
            "AS_PATH unknown segment type 5",
            upd("", "40010100 40020605010000fde9 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::MALFORMED_AS_PATH, 1),
        ),
        row(
            "AS_PATH segment overruns the attribute",
            upd("", "40010100 40020602020000fde9 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::MALFORMED_AS_PATH, 1),
        ),
        Row {
            name: "2-octet AS_PATH read on a 2-octet session, odd length",
            ctx: SessionContext::default(),
            body: upd("", "40010100 40020502010000fd 4003040a000001", NLRI),
            expect: Act(TreatAsWithdraw, sub::MALFORMED_AS_PATH, 1),
        },
        // RFC 7607: AS 0.
        row(
            "AS_PATH containing AS 0",
            upd("", "40010100 40020602010000000 0 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::MALFORMED_AS_PATH, 1),
        ),
        row(
            "AGGREGATOR with AS 0",
            upd("", &with(BASE4, "c00708000000000a000001"), NLRI),
            Act(AttributeDiscard, sub::OPTIONAL_ATTRIBUTE, 0),
        ),
        // §7.3 NEXT_HOP.
        row(
            "NEXT_HOP length 5",
            upd("", "40010100 40020602010000fde9 4003050a00000100", NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        row(
            "NEXT_HOP 0.0.0.0",
            upd("", "40010100 40020602010000fde9 40030400000000", NLRI),
            Act(TreatAsWithdraw, sub::INVALID_NEXT_HOP, 1),
        ),
        // §7.4 MED, §7.5 LOCAL_PREF.
        row(
            "MULTI_EXIT_DISC length 3",
            upd("", &with(BASE4, "800403000001"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        row(
            "LOCAL_PREF length 1",
            upd("", &with(BASE4, "40050164"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        // §7.6 ATOMIC_AGGREGATE, §7.7 AGGREGATOR: attribute discard.
        row(
            "ATOMIC_AGGREGATE length 1",
            upd("", &with(BASE4, "40060100"), NLRI),
            Act(AttributeDiscard, sub::ATTRIBUTE_LENGTH, 0),
        ),
        row(
            "AGGREGATOR length 6 on a 4-octet session",
            upd("", &with(BASE4, "c00706fde90a000001"), NLRI),
            Act(AttributeDiscard, sub::ATTRIBUTE_LENGTH, 0),
        ),
        // §7.8 COMMUNITIES, §7.9 ORIGINATOR_ID, §7.10 CLUSTER_LIST, §7.14 EXTENDED_COMMUNITIES.
        row(
            "COMMUNITIES length 3",
            upd("", &with(BASE4, "c00803fde800"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        row(
            "ORIGINATOR_ID length 3",
            upd("", &with(BASE4, "8009030a0000"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        row(
            "CLUSTER_LIST length 5",
            upd("", &with(BASE4, "800a050a0000010a"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        row(
            "EXTENDED_COMMUNITIES length 7",
            upd("", &with(BASE4, "c0100700020001000000"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        // RFC 8092 §5 LARGE_COMMUNITY.
        row(
            "LARGE_COMMUNITY length 11",
            upd("", &with(BASE4, "c0200b0000fde900000001000000"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
        // RFC 6793 §6 AS4_PATH / AS4_AGGREGATOR: attribute discard.
        row(
            "AS4_PATH from a 4-octet speaker",
            upd("", &with(BASE4, "c0110602010000fde9"), NLRI),
            Act(AttributeDiscard, sub::OPTIONAL_ATTRIBUTE, 0),
        ),
        Row {
            name: "AS4_PATH with a zero-length segment on a 2-octet session",
            ctx: SessionContext::default(),
            body: upd("", &with(BASE2, "c011020200"), NLRI),
            expect: Act(AttributeDiscard, sub::MALFORMED_AS_PATH, 0),
        },
        Row {
            name: "AS4_AGGREGATOR length 6 on a 2-octet session",
            ctx: SessionContext::default(),
            body: upd("", &with(BASE2, "c01206fde90a000001"), NLRI),
            expect: Act(AttributeDiscard, sub::ATTRIBUTE_LENGTH, 0),
        },
        // RFC 9234 §5 OTC.
        row(
            "OTC length 2",
            upd("", &with(BASE4, "c0230200fe"), NLRI),
            Act(AttributeDiscard, sub::ATTRIBUTE_LENGTH, 0),
        ),
        // §3 (g): duplicates.
        row(
            "ORIGIN twice: the second is discarded",
            upd("", &with(BASE4, "40010102"), NLRI),
            Act(AttributeDiscard, sub::MALFORMED_ATTRIBUTE_LIST, 0),
        ),
        row(
            "MP_REACH_NLRI twice",
            upd("", &format!("{MP6} {MP6} 40010100 40020602010000fde9"), ""),
            Act(SessionReset, sub::MALFORMED_ATTRIBUTE_LIST, 0),
        ),
        row(
            "MP_UNREACH_NLRI twice",
            upd("", "800f03000201 800f03000201", ""),
            Act(SessionReset, sub::MALFORMED_ATTRIBUTE_LIST, 0),
        ),
        // RFC 4271 §6.3 (not revised): unrecognized well-known attribute.
        row(
            "unrecognized well-known attribute type 99",
            upd("", &with(BASE4, "40630100"), NLRI),
            Act(SessionReset, sub::UNRECOGNIZED_WELL_KNOWN, 0),
        ),
        row(
            "unrecognized optional attribute is kept",
            upd("", &with(BASE4, "c0630100"), NLRI),
            Clean,
        ),
        // §3 (d): missing well-known mandatory attributes.
        row(
            "ORIGIN missing",
            upd("", "40020602010000fde9 4003040a000001", NLRI),
            Act(TreatAsWithdraw, sub::MISSING_WELL_KNOWN, 1),
        ),
        row(
            "NEXT_HOP missing with classic NLRI",
            upd("", "40010100 40020602010000fde9", NLRI),
            Act(TreatAsWithdraw, sub::MISSING_WELL_KNOWN, 1),
        ),
        row(
            "NEXT_HOP not needed with MP_REACH_NLRI only",
            upd("", &format!("{MP6} 40010100 40020602010000fde9"), ""),
            Clean,
        ),
        row(
            "AS_PATH missing with MP_REACH_NLRI: IPv6 prefix withdrawn",
            upd("", &format!("{MP6} 40010100"), ""),
            Act(TreatAsWithdraw, sub::MISSING_WELL_KNOWN, 1),
        ),
        // §7.11 MP_REACH_NLRI / MP_UNREACH_NLRI.
        row(
            "MP_REACH_NLRI next hop length 5",
            upd("", "800e0f 000201 05 fd99000000 00 2020010db8 40010100 40020602010000fde9", ""),
            Act(SessionReset, sub::OPTIONAL_ATTRIBUTE, 0),
        ),
        row(
            "MP_REACH_NLRI with IPv6 prefix length 129",
            upd(
                "",
                "800e1a 000201 10 fd990000000000000000000000000001 00 8120010db8 40010100 40020602010000fde9",
                "",
            ),
            Act(SessionReset, sub::OPTIONAL_ATTRIBUTE, 0),
        ),
        row(
            "MP_UNREACH_NLRI prefix overrun",
            upd("", "800f07 000201 3020010d", ""),
            Act(SessionReset, sub::OPTIONAL_ATTRIBUTE, 0),
        ),
        row(
            "MP_REACH_NLRI truncated header",
            upd("", "800e02 0002", ""),
            Act(SessionReset, sub::OPTIONAL_ATTRIBUTE, 0),
        ),
        row(
            "MP_REACH_NLRI of an unsupported AFI/SAFI is ignored",
            upd("", "800e0b 0019 46 04 0a000001 00 0000", ""),
            Clean,
        ),
        row(
            "MP_REACH_NLRI with wrong flags: its prefixes are withdrawn",
            upd(
                "",
                "400e1a 000201 10 fd990000000000000000000000000001 00 2020010db8 40010100 40020602010000fde9",
                "",
            ),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_FLAGS, 1),
        ),
        row(
            "treat-as-withdraw covers classic and MP_REACH prefixes",
            upd("", &format!("{MP6} {BASE4} c00803fde800"), "180a0000 180a0001"),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 3),
        ),
        // §3 (h): the strongest action wins.
        row(
            "discard and treat-as-withdraw together → treat-as-withdraw",
            upd("", &with(BASE4, "40060100 c00803fde800"), NLRI),
            Act(TreatAsWithdraw, sub::ATTRIBUTE_LENGTH, 1),
        ),
    ]
}

#[test]
fn rfc7606_table() {
    let mut failures = Vec::new();
    for r in table() {
        let body = hex(&r.body);
        let got = match Update::decode(&body, &r.ctx) {
            Err(e) => {
                let n = e.notification();
                assert_eq!(n.code, code::UPDATE_MESSAGE, "{}", r.name);
                assert!(e.offset() <= body.len(), "{}: offset", r.name);
                Expect::Act(Action::SessionReset, n.subcode, 0)
            }
            Ok(u) => match u.action() {
                None => Expect::Clean,
                Some(a) => {
                    let m = u.malformations.iter().find(|m| m.action == a).unwrap();
                    assert!(m.offset <= body.len(), "{}: offset", r.name);
                    let withdrawn = u.withdrawals().count();
                    if a == Action::TreatAsWithdraw {
                        assert_eq!(u.announced().count(), 0, "{}", r.name);
                    }
                    Expect::Act(a, m.reason.subcode(), withdrawn)
                }
            },
        };
        if got != r.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                r.name, r.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn unrecognized_well_known_notification_carries_the_attribute() {
    let body = hex(&upd("", &with(BASE4, "40630100"), NLRI));
    let e = Update::decode(&body, &ctx4()).unwrap_err();
    assert_eq!(e.notification().data, vec![0x40, 0x63, 0x01, 0x00]);
    assert_eq!(e.offset(), 4 + 20);
}

#[test]
fn discarded_attribute_is_absent_but_routes_stay() {
    let body = hex(&upd("", &with(BASE4, "c00706fde90a000001"), NLRI));
    let u = Update::decode(&body, &ctx4()).unwrap();
    assert_eq!(u.attributes.aggregator, None);
    assert_eq!(u.announced().count(), 1);
    assert_eq!(u.withdrawals().count(), 0);
}
