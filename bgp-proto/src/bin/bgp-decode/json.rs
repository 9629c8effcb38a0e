//! Presentation: the codec's public types turned into JSON values. The library has no serde
//! derives; every field name the operator sees is chosen here.

use bgp_proto::attribute::{
    AsPath, ExtAdmin, ExtCommunity, MpNextHop, MpReach, MpUnreach, Origin, PathAttributes,
    SegmentType,
};
use bgp_proto::capability::{AddPathMode, BgpRole, Capability};
use bgp_proto::nlri::NlriEntry;
use bgp_proto::route_refresh::RouteRefreshSubtype;
use bgp_proto::update::{Action, Malformation, Update};
use bgp_proto::{
    Afi, DecodeError, Family, Message, Notification, Open, RouteRefresh, Safi, SessionContext,
};
use serde_json::{json, Map, Value};

use crate::mrt;

/// Decodes one whole message (header included) with `ctx` and describes it. A message the codec
/// rejects is described too (with its RFC 7606 action, NOTIFICATION and offset): it is data.
/// `ebgp`: the message came from an external peer, so the daemon's eBGP rules apply to UPDATEs.
pub fn message(frame: &[u8], ctx: &SessionContext, ebgp: bool) -> Value {
    let mut out = Map::new();
    if let Some(len) = frame.get(16..18) {
        out.insert("length".into(), json!(u16::from_be_bytes([len[0], len[1]])));
    }
    out.insert("octets".into(), json!(frame.len()));
    match Message::decode(frame, ctx) {
        Ok(m) => {
            out.insert("type".into(), json!(type_name(&m)));
            match m {
                Message::Open(o) => open(&o, &mut out),
                Message::Update(mut u) => {
                    if ebgp {
                        u.apply_ebgp_rules();
                    }
                    update(&u, &mut out)
                }
                Message::Notification(n) => {
                    out.insert("notification".into(), notification(&n));
                }
                Message::Keepalive => {}
                Message::RouteRefresh(r) => route_refresh(&r, &mut out),
            }
        }
        Err(e) => {
            let t = frame.get(18).copied();
            out.insert("type".into(), json!(t.map_or("UNKNOWN", raw_type_name)));
            out.insert("error".into(), decode_error(&e));
        }
    }
    Value::Object(out)
}

fn type_name(m: &Message) -> &'static str {
    match m {
        Message::Open(_) => "OPEN",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    }
}

fn raw_type_name(t: u8) -> &'static str {
    match t {
        1 => "OPEN",
        2 => "UPDATE",
        3 => "NOTIFICATION",
        4 => "KEEPALIVE",
        5 => "ROUTE-REFRESH",
        _ => "UNKNOWN",
    }
}

/// A rejected message: RFC 7606 says every error that reaches here resets the session.
pub fn decode_error(e: &DecodeError) -> Value {
    json!({
        "message": e.to_string(),
        "action": "session-reset",
        "offset": e.offset(),
        "notification": notification(&e.notification()),
    })
}

pub fn notification(n: &Notification) -> Value {
    let mut v = json!({
        "code": n.code,
        "code_name": n.code_name(),
        "subcode": n.subcode,
        "subcode_name": n.subcode_name(),
        "data": hex(&n.data),
    });
    if let Some(text) = n.shutdown_communication() {
        v["shutdown_communication"] = json!(text);
    }
    v
}

fn route_refresh(r: &RouteRefresh, out: &mut Map<String, Value>) {
    out.insert("afi".into(), afi(r.afi));
    out.insert("safi".into(), safi(r.safi));
    let subtype = match r.subtype {
        RouteRefreshSubtype::Normal => json!("request"),
        RouteRefreshSubtype::BeginningOfRefresh => json!("BoRR"),
        RouteRefreshSubtype::EndOfRefresh => json!("EoRR"),
        RouteRefreshSubtype::Unknown(n) => json!(n),
    };
    out.insert("subtype".into(), subtype);
    out.insert("ignorable".into(), json!(r.is_ignorable()));
}

fn afi(a: Afi) -> Value {
    match a {
        Afi::Ipv4 => json!("ipv4"),
        Afi::Ipv6 => json!("ipv6"),
        Afi::Other(n) => json!(n),
    }
}

fn safi(s: Safi) -> Value {
    match s {
        Safi::Unicast => json!("unicast"),
        Safi::Multicast => json!("multicast"),
        Safi::Other(n) => json!(n),
    }
}

fn open(o: &Open, out: &mut Map<String, Value>) {
    out.insert("version".into(), json!(4));
    out.insert("my_as".into(), json!(o.my_as));
    out.insert("asn".into(), json!(o.four_octet_asn().0));
    out.insert("hold_time".into(), json!(o.hold_time));
    out.insert("router_id".into(), json!(o.router_id.to_string()));
    let caps: Vec<Value> = o.capabilities.iter().map(capability).collect();
    out.insert("capabilities".into(), Value::Array(caps));
}

fn add_path_mode(m: AddPathMode) -> &'static str {
    match m {
        AddPathMode::Receive => "receive",
        AddPathMode::Send => "send",
        AddPathMode::Both => "send-receive",
    }
}

fn role(r: BgpRole) -> Value {
    match r {
        BgpRole::Provider => json!("provider"),
        BgpRole::RouteServer => json!("route-server"),
        BgpRole::RouteServerClient => json!("route-server-client"),
        BgpRole::Customer => json!("customer"),
        BgpRole::Peer => json!("peer"),
        BgpRole::Other(n) => json!(n),
    }
}

pub fn capability(c: &Capability) -> Value {
    let code = c.code();
    let mut v = match c {
        Capability::Multiprotocol { afi: a, safi: s } => {
            json!({"name": "multiprotocol", "afi": afi(*a), "safi": safi(*s)})
        }
        Capability::RouteRefresh => json!({"name": "route-refresh"}),
        Capability::RouteRefreshCisco => json!({"name": "route-refresh-cisco"}),
        Capability::ExtendedNextHop(list) => json!({
            "name": "extended-next-hop",
            "tuples": list.iter().map(|e| json!({
                "nlri_afi": afi(e.nlri_afi),
                "nlri_safi": e.nlri_safi,
                "next_hop_afi": afi(e.next_hop_afi),
            })).collect::<Vec<_>>(),
        }),
        Capability::ExtendedMessage => json!({"name": "extended-message"}),
        Capability::Role(r) => json!({"name": "role", "role": role(*r)}),
        Capability::GracefulRestart(gr) => json!({
            "name": "graceful-restart",
            "restart_state": gr.restart_state,
            "notification": gr.notification,
            "restart_time": gr.restart_time,
            "families": gr.families.iter().map(|f| json!({
                "afi": afi(f.afi),
                "safi": safi(f.safi),
                "forwarding_preserved": f.forwarding_preserved,
            })).collect::<Vec<_>>(),
        }),
        Capability::FourOctetAs(asn) => json!({"name": "four-octet-as", "asn": asn.0}),
        Capability::AddPath(list) => json!({
            "name": "add-path",
            "families": list.iter().map(|a| json!({
                "afi": afi(a.afi),
                "safi": safi(a.safi),
                "mode": add_path_mode(a.mode),
            })).collect::<Vec<_>>(),
        }),
        Capability::EnhancedRouteRefresh => json!({"name": "enhanced-route-refresh"}),
        Capability::LongLivedGracefulRestart(list) => json!({
            "name": "long-lived-graceful-restart",
            "families": list.iter().map(|f| json!({
                "afi": afi(f.afi),
                "safi": safi(f.safi),
                "forwarding_preserved": f.forwarding_preserved,
                "stale_time": f.stale_time,
            })).collect::<Vec<_>>(),
        }),
        Capability::Fqdn { hostname, domain } => {
            json!({"name": "fqdn", "hostname": hostname, "domain": domain})
        }
        Capability::Unknown { data, .. } => json!({"name": "unknown", "data": hex(data)}),
    };
    v["code"] = json!(code);
    v
}

fn family(f: Family) -> String {
    f.to_string()
}

fn entry(e: &NlriEntry) -> Value {
    match e.path_id {
        Some(id) => json!({"prefix": e.prefix.to_string(), "path_id": id}),
        None => json!({"prefix": e.prefix.to_string()}),
    }
}

fn entries(list: &[NlriEntry]) -> Value {
    Value::Array(list.iter().map(entry).collect())
}

fn next_hop(nh: &MpNextHop) -> Value {
    match nh {
        MpNextHop::Ipv4(a) => json!({"ipv4": a.to_string()}),
        MpNextHop::Ipv6 { global, link_local } => match link_local {
            Some(ll) => json!({"global": global.to_string(), "link_local": ll.to_string()}),
            None => json!({"global": global.to_string()}),
        },
    }
}

pub fn mp_reach(m: &MpReach) -> Value {
    json!({
        "family": family(m.family),
        "next_hop": next_hop(&m.next_hop),
        "nlri": entries(&m.nlri),
    })
}

fn mp_unreach(m: &MpUnreach) -> Value {
    json!({"family": family(m.family), "withdrawn": entries(&m.withdrawn)})
}

fn action(a: Action) -> &'static str {
    match a {
        Action::AttributeDiscard => "attribute-discard",
        Action::TreatAsWithdraw => "treat-as-withdraw",
        Action::SessionReset => "session-reset",
    }
}

/// `offset_base` turns the body offsets of the codec into message offsets (19 for a message;
/// -4 for MRT RIB attributes, wrapped behind the two UPDATE length fields).
fn malformation(m: &Malformation, offset_base: isize) -> Value {
    json!({
        "attr_type": m.attr_type,
        "attr": m.attr_name().to_string(),
        "action": action(m.action),
        "reason": m.reason.to_string(),
        "offset": (m.offset as isize + offset_base).max(0),
        // RFC 7606 §2: for these actions nothing is sent; the NOTIFICATION the error would
        // imply (UPDATE Message Error / subcode) is shown for logging.
        "subcode": m.reason.subcode(),
        "notification": notification(&Notification::new(
            bgp_proto::notification::code::UPDATE_MESSAGE,
            m.reason.subcode(),
            Vec::new(),
        )),
    })
}

fn update(u: &Update, out: &mut Map<String, Value>) {
    out.insert("withdrawn".into(), entries(&u.withdrawn));
    out.insert("attributes".into(), attributes(&u.attributes));
    if let Some(m) = &u.mp_reach {
        out.insert("mp_reach".into(), mp_reach(m));
    }
    if let Some(m) = &u.mp_unreach {
        out.insert("mp_unreach".into(), mp_unreach(m));
    }
    if !u.unsupported_mp.is_empty() {
        let raw: Vec<Value> = u
            .unsupported_mp
            .iter()
            .map(|a| json!({"type": a.type_code, "flags": a.flags, "value": hex(&a.value)}))
            .collect();
        out.insert("unsupported_mp".into(), Value::Array(raw));
    }
    out.insert("nlri".into(), entries(&u.nlri));
    if let Some(f) = u.end_of_rib() {
        out.insert("end_of_rib".into(), json!(family(f)));
    }
    if let Some(r) = rfc7606(u, bgp_proto::HEADER_LEN as isize) {
        out.insert("rfc7606".into(), r);
    }
}

/// The RFC 7606 outcome of a decoded UPDATE, if anything was malformed: the strongest action,
/// each malformation, and the prefixes it affects (treat-as-withdraw: every announced prefix,
/// now withdrawn; attribute discard: the prefixes kept without the attribute).
pub fn rfc7606(u: &Update, offset_base: isize) -> Option<Value> {
    let act = u.action()?;
    let affected: Vec<Value> = match act {
        Action::TreatAsWithdraw => u
            .withdrawals()
            .skip(u.withdrawn.len() + u.mp_unreach.as_ref().map_or(0, |m| m.withdrawn.len()))
            .map(|(f, e)| family_entry(f, e))
            .collect(),
        _ => u.announced().map(|(f, e)| family_entry(f, e)).collect(),
    };
    Some(json!({
        "action": action(act),
        "malformations": u.malformations.iter().map(|m| malformation(m, offset_base))
            .collect::<Vec<_>>(),
        "affected_prefixes": affected,
    }))
}

fn family_entry(f: Family, e: &NlriEntry) -> Value {
    let mut v = entry(e);
    v["family"] = json!(family(f));
    v
}

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "igp",
        Origin::Egp => "egp",
        Origin::Incomplete => "incomplete",
    }
}

fn as_path(p: &AsPath) -> Value {
    let segs: Vec<Value> = p
        .segments
        .iter()
        .map(|s| {
            let kind = match s.kind {
                SegmentType::Set => "set",
                SegmentType::Sequence => "sequence",
                SegmentType::ConfedSequence => "confed-sequence",
                SegmentType::ConfedSet => "confed-set",
            };
            json!({"type": kind, "asns": s.asns.iter().map(|a| a.0).collect::<Vec<_>>()})
        })
        .collect();
    Value::Array(segs)
}

fn ext_admin(a: &ExtAdmin) -> String {
    match a {
        ExtAdmin::As2 { asn, local } => format!("{asn}:{local}"),
        ExtAdmin::Ipv4 { address, local } => format!("{address}:{local}"),
        ExtAdmin::As4 { asn, local } => format!("{asn}:{local}"),
    }
}

fn ext_community(c: &ExtCommunity) -> Value {
    match c {
        ExtCommunity::RouteTarget(a) => json!({"route_target": ext_admin(a)}),
        ExtCommunity::RouteOrigin(a) => json!({"route_origin": ext_admin(a)}),
        ExtCommunity::Raw(b) => json!({"raw": hex(b)}),
    }
}

/// Every attribute present, typed; absent ones are left out.
pub fn attributes(a: &PathAttributes) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    if let Some(o) = a.origin {
        put("origin", json!(origin(o)));
    }
    if let Some(p) = &a.as_path {
        put("as_path", as_path(p));
    }
    if let Some(nh) = a.next_hop {
        put("next_hop", json!(nh.to_string()));
    }
    if let Some(v) = a.med {
        put("med", json!(v));
    }
    if let Some(v) = a.local_pref {
        put("local_pref", json!(v));
    }
    if a.atomic_aggregate {
        put("atomic_aggregate", json!(true));
    }
    if let Some(g) = &a.aggregator {
        put(
            "aggregator",
            json!({"asn": g.asn.0, "address": g.address.to_string()}),
        );
    }
    if let Some(c) = &a.communities {
        let list: Vec<String> = c
            .iter()
            .map(|c| format!("{}:{}", c.asn(), c.value()))
            .collect();
        put("communities", json!(list));
    }
    if let Some(id) = a.originator_id {
        put("originator_id", json!(id.to_string()));
    }
    if let Some(c) = &a.cluster_list {
        let list: Vec<String> = c.iter().map(|i| i.to_string()).collect();
        put("cluster_list", json!(list));
    }
    if let Some(c) = &a.ext_communities {
        put(
            "ext_communities",
            Value::Array(c.iter().map(ext_community).collect()),
        );
    }
    if let Some(p) = &a.as4_path {
        put("as4_path", as_path(p));
    }
    if let Some(g) = &a.as4_aggregator {
        put(
            "as4_aggregator",
            json!({"asn": g.asn.0, "address": g.address.to_string()}),
        );
    }
    if let Some(c) = &a.large_communities {
        let list: Vec<String> = c
            .iter()
            .map(|c| format!("{}:{}:{}", c.global, c.local1, c.local2))
            .collect();
        put("large_communities", json!(list));
    }
    if let Some(asn) = a.otc {
        put("otc", json!(asn.0));
    }
    if !a.unknown.is_empty() {
        let list: Vec<Value> = a
            .unknown
            .iter()
            .map(|r| json!({"type": r.type_code, "flags": r.flags, "value": hex(&r.value)}))
            .collect();
        put("unknown", Value::Array(list));
    }
    Value::Object(m)
}

/// The MRT envelope of a record, merged into the object printed for it.
pub fn mrt_record(rec: &mrt::Record<'_>, type_name: &str, subtype: &str) -> Value {
    let mut v = json!({
        "offset": rec.offset,
        "timestamp": rec.timestamp,
        "type": type_name,
        "subtype": subtype,
    });
    if let Some(us) = rec.microseconds {
        v["microseconds"] = json!(us);
    }
    v
}

pub fn endpoints(e: &mrt::Endpoints) -> Value {
    json!({
        "peer_as": e.peer_as,
        "local_as": e.local_as,
        "interface": e.interface,
        "peer_ip": e.peer_ip.to_string(),
        "local_ip": e.local_ip.to_string(),
    })
}

/// RFC 6396 §4.4.1 FSM state numbers.
pub fn fsm_state(n: u16) -> Value {
    let name = match n {
        1 => "Idle",
        2 => "Connect",
        3 => "Active",
        4 => "OpenSent",
        5 => "OpenConfirm",
        6 => "Established",
        _ => return json!(n),
    };
    json!(name)
}

pub fn peers(list: &[mrt::Peer]) -> Value {
    Value::Array(
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                json!({
                    "index": i,
                    "bgp_id": p.bgp_id.to_string(),
                    "ip": p.ip.to_string(),
                    "asn": p.asn,
                })
            })
            .collect(),
    )
}

/// One TABLE_DUMP_V2 RIB entry: its attributes decoded with the 4-octet AS context (RFC 6396
/// §4.3.4), the MP_REACH_NLRI next hop, and any RFC 7606 outcome. Malformation offsets count
/// from the start of the entry's (normalised) attribute field.
pub fn rib_entry(e: &mrt::RibEntry<'_>, family: Family, peer: Option<&mrt::Peer>) -> Value {
    let mut v = json!({
        "peer_index": e.peer_index,
        "originated": e.originated,
    });
    if let Some(p) = peer {
        v["peer_ip"] = json!(p.ip.to_string());
        v["peer_as"] = json!(p.asn);
    }
    if let Some(id) = e.path_id {
        v["path_id"] = json!(id);
    }
    let ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    let Some(body) = mrt::rib_update_body(e.attributes, family) else {
        v["error"] = json!({"message": "attributes too long to decode"});
        return v;
    };
    match Update::decode(&body, &ctx) {
        Ok(u) => {
            v["attributes"] = attributes(&u.attributes);
            if let Some(m) = &u.mp_reach {
                v["mp_next_hop"] = next_hop(&m.next_hop);
            }
            if let Some(r) = rfc7606(&u, -4) {
                v["rfc7606"] = r;
            }
        }
        Err(err) => {
            v["error"] = json!({
                "message": err.to_string(),
                "action": "session-reset",
                "offset": err.offset().saturating_sub(4),
                "notification": notification(&err.notification()),
            });
        }
    }
    v
}

pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(hex_in: &str) -> Vec<u8> {
        crate::hex_input::parse_line(hex_in).unwrap()
    }

    #[test]
    fn cease_with_shutdown_communication() {
        // BIRD 2.0.12: Cease / Administrative Shutdown, "maintenance window".
        let f = frame(
            "ffffffffffffffffffffffffffffffff0028030602126d61696e74656e616e63652077696e646f77",
        );
        let v = message(&f, &SessionContext::default(), false);
        assert_eq!(v["type"], "NOTIFICATION");
        assert_eq!(v["length"], 40);
        assert_eq!(v["notification"]["code_name"], "Cease");
        assert_eq!(v["notification"]["subcode_name"], "Administrative Shutdown");
        assert_eq!(
            v["notification"]["shutdown_communication"],
            "maintenance window"
        );
    }

    #[test]
    fn end_of_rib_and_borr() {
        let v = message(
            &frame("ffffffffffffffffffffffffffffffff00170200000000"),
            &SessionContext::default(),
            false,
        );
        assert_eq!(v["end_of_rib"], "ipv4-unicast");
        let v = message(
            &frame("ffffffffffffffffffffffffffffffff00170500010101"),
            &SessionContext::default(),
            false,
        );
        assert_eq!(
            (v["subtype"].as_str(), v["afi"].as_str()),
            (Some("BoRR"), Some("ipv4"))
        );
    }

    #[test]
    fn bad_marker_is_described_not_fatal() {
        let v = message(
            &frame("feffffffffffffffffffffffffffffff001304"),
            &SessionContext::default(),
            false,
        );
        assert_eq!(v["error"]["action"], "session-reset");
        assert_eq!(v["error"]["notification"]["code"], 1);
        assert_eq!(v["error"]["notification"]["subcode"], 1);
    }
}
