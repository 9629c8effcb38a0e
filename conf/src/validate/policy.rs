//! Routing-policy sections: `[communities]`, `[[filters]]` (Calico BGPFilter), the references
//! to them from neighbors, `[[prefix_advertisements]]`, `[services]`, `static_routes`,
//! `rr_allowlist` and the `[bgp]` decision options.
//!
//! The filter rules become the `policy` crate's types through its own constructors
//! (`CidrMatch::new`, `CommunityValue::from_str`, `FilterName::new`), whose refusals are reported
//! here with their position, plus what `policy` silently accepts but is surely a mistake in a
//! file (a bound beyond the family, an IPv6 CIDR in an IPv4 list, operations on a Reject rule).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use ipnet::IpNet;
use policy::error::PolicyError;

use super::keys::suggest;
use super::Ctx;
use crate::error::ErrorKind;
use crate::filter::{
    CidrMatch, CommunityValue, Filter, FilterAction, FilterName, FilterRule, MatchOperator,
    Operation, PeerType,
};
use crate::model::{Decision, PrefixAdvertisement, Services};
use crate::schema::{
    RawBgp, RawFilter, RawOperation, RawPrefixAdvertisement, RawRule, RawServices, S,
};

/// Community names defined in `[communities]`.
pub(super) type CommunityNames = BTreeMap<String, CommunityValue>;

const COMMUNITY_HINT: &str =
    "aa:nn (two numbers 0..=65535, RFC 1997) or aa:nn:mm (three numbers 0..=4294967295, \
     RFC 8092), or a name from [communities]";

/// `[communities]`: name → value.
pub(super) fn communities(
    cx: &mut Ctx<'_>,
    raw: Option<&S<BTreeMap<S<String>, S<String>>>>,
) -> CommunityNames {
    let mut out = CommunityNames::new();
    let Some(raw) = raw else { return out };
    for (k, v) in raw.get_ref() {
        let name = k.get_ref();
        let path = format!("communities.{name}");
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            cx.err(
                ErrorKind::Invalid,
                k.span(),
                &path,
                format!("{name:?} is not a community name"),
                "a name starts with a letter and holds letters, digits, '-', '_' and '.'",
            );
            continue;
        }
        match v.get_ref().trim().parse::<CommunityValue>() {
            Ok(c) => {
                out.insert(name.clone(), c);
            }
            Err(_) => cx.err(
                ErrorKind::Invalid,
                v.span(),
                &path,
                format!("{:?} is not a community", v.get_ref()),
                "aa:nn (two numbers 0..=65535, RFC 1997) or aa:nn:mm (three numbers \
                 0..=4294967295, RFC 8092)",
            ),
        }
    }
    out
}

/// A community value or a name from `[communities]`.
fn community(
    cx: &mut Ctx<'_>,
    raw: &S<String>,
    path: &str,
    names: &CommunityNames,
) -> Option<CommunityValue> {
    let s = raw.get_ref().trim();
    if s.contains(':') {
        let v = s.parse::<CommunityValue>().ok();
        if v.is_none() {
            cx.err(
                ErrorKind::Invalid,
                raw.span(),
                path,
                format!("{:?} is not a community", raw.get_ref()),
                COMMUNITY_HINT,
            );
        }
        return v;
    }
    if let Some(v) = names.get(s) {
        return Some(*v);
    }
    let known: Vec<&str> = names.keys().map(String::as_str).collect();
    let hint = if known.is_empty() {
        format!("no [communities] are defined; write the value as {COMMUNITY_HINT}")
    } else {
        suggest(s, &known, "defined communities")
    };
    cx.err(
        ErrorKind::UnknownName,
        raw.span(),
        path,
        format!("no community named {s:?}"),
        &hint,
    );
    None
}

/// The filter names the file declares (valid or not), for references: a filter with a bad rule
/// is still "defined", so its users get no second error.
pub(super) fn declared_filters(raw: &[S<RawFilter>]) -> Vec<String> {
    raw.iter()
        .filter_map(|f| f.get_ref().name.as_ref().map(|n| n.get_ref().clone()))
        .collect()
}

/// `filters = [...]` on a neighbor or template: every name defined, none twice.
pub(super) fn filter_refs(
    cx: &mut Ctx<'_>,
    raw: &S<Vec<S<String>>>,
    path: &str,
    known: &[String],
) -> Option<Vec<FilterName>> {
    let mut out: Vec<FilterName> = Vec::new();
    let mut ok = true;
    for (i, n) in raw.get_ref().iter().enumerate() {
        let p = format!("{path}[{i}]");
        let name = n.get_ref();
        if !known.iter().any(|k| k == name) {
            let list: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = if list.is_empty() {
                "no [[filters]] are defined".to_string()
            } else {
                suggest(name, &list, "defined filters")
            };
            cx.err(
                ErrorKind::UnknownName,
                n.span(),
                &p,
                format!("no filter named {name:?}"),
                &hint,
            );
            ok = false;
            continue;
        }
        match FilterName::new(name) {
            // The definition reports a bad name.
            Err(_) => ok = false,
            Ok(f) if out.contains(&f) => {
                cx.err(
                    ErrorKind::Duplicate,
                    n.span(),
                    &p,
                    format!("{name:?} is listed twice"),
                    "a filter's rules are evaluated once; list it once",
                );
                ok = false;
            }
            Ok(f) => out.push(f),
        }
    }
    ok.then_some(out)
}

/// Every `[[filters]]` entry; invalid ones are reported and left out.
pub(super) fn filters(
    cx: &mut Ctx<'_>,
    raw: &[S<RawFilter>],
    communities: &CommunityNames,
) -> Vec<Filter> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    for (i, f) in raw.iter().enumerate() {
        let r = f.get_ref();
        let Some(n) = &r.name else {
            cx.missing(
                f.span(),
                &format!("filters[{i}].name"),
                "neighbors refer to a filter by name, e.g. name = \"tor-export\"",
            );
            continue;
        };
        let name = match FilterName::new(n.get_ref()) {
            Ok(name) => Some(name),
            Err(why) => {
                cx.err(
                    ErrorKind::Invalid,
                    n.span(),
                    &format!("filters[{i}].name"),
                    format!("{:?} {why}", n.get_ref()),
                    "a Kubernetes-style name, e.g. tor-export",
                );
                None
            }
        };
        if let Some(first) = seen.get(n.get_ref()) {
            let hint = format!("first defined at line {}", cx.line_of(first));
            cx.err(
                ErrorKind::Duplicate,
                n.span(),
                &format!("filters[{i}].name"),
                format!("filter {:?} is defined twice", n.get_ref()),
                &hint,
            );
            continue;
        }
        seen.insert(n.get_ref().clone(), n.span());
        let base = format!("filter {:?}", n.get_ref());
        let mut ok = true;
        let mut lists: [Vec<FilterRule>; 4] = Default::default();
        for (slot, (key, rules, v6)) in [
            ("export_v4", &r.export_v4, false),
            ("import_v4", &r.import_v4, false),
            ("export_v6", &r.export_v6, true),
            ("import_v6", &r.import_v6, true),
        ]
        .into_iter()
        .enumerate()
        {
            for (j, rule_raw) in rules.iter().enumerate() {
                let path = format!("{base}.{key}[{j}]");
                match rule(cx, rule_raw, &path, v6, communities) {
                    Some(rl) => lists[slot].push(rl),
                    None => ok = false,
                }
            }
        }
        let (Some(name), true) = (name, ok) else {
            continue;
        };
        let [export_v4, import_v4, export_v6, import_v6] = lists;
        out.push(Filter {
            name,
            export_v4,
            import_v4,
            export_v6,
            import_v6,
        });
    }
    out
}

/// One rule of a list of family `v6`.
fn rule(
    cx: &mut Ctx<'_>,
    raw: &S<RawRule>,
    path: &str,
    v6: bool,
    communities: &CommunityNames,
) -> Option<FilterRule> {
    let r = raw.get_ref();
    let p = |f: &str| format!("{path}.{f}");
    let mut ok = true;
    let (family, limit) = if v6 { ("IPv6", 128u8) } else { ("IPv4", 32u8) };

    let cidr = match &r.cidr {
        None => None,
        Some(c) => match cx.prefix(c, &p("cidr")) {
            None => {
                ok = false;
                None
            }
            Some(net) if net.addr().is_ipv6() != v6 => {
                let other = if v6 { "IPv4" } else { "IPv6" };
                let key = path.rsplit('.').next().unwrap_or_default();
                let list = key.split('[').next().unwrap_or_default();
                let fixed = if v6 {
                    list.replace("v6", "v4")
                } else {
                    list.replace("v4", "v6")
                };
                cx.err(
                    ErrorKind::Conflict,
                    c.span(),
                    &p("cidr"),
                    format!("{net} is an {other} prefix in an {family} rule list"),
                    &format!("move the rule to {fixed}"),
                );
                ok = false;
                None
            }
            Some(net) => Some(net),
        },
    };
    let op = r.match_operator.as_ref().and_then(|m| {
        let v = cx.word(
            m,
            &p("match_operator"),
            &[
                ("Equal", MatchOperator::Equal),
                ("NotEqual", MatchOperator::NotEqual),
                ("In", MatchOperator::In),
                ("NotIn", MatchOperator::NotIn),
            ],
        );
        ok &= v.is_some();
        v
    });
    match (&r.cidr, &r.match_operator) {
        (Some(_), None) => {
            cx.missing(
                raw.span(),
                &p("match_operator"),
                "a cidr needs match_operator = \"Equal\", \"NotEqual\", \"In\" or \"NotIn\"",
            );
            ok = false;
        }
        (None, Some(m)) => {
            cx.err(
                ErrorKind::Missing,
                m.span(),
                &p("cidr"),
                "is required with match_operator",
                "set cidr = \"ADDRESS/LENGTH\" or remove match_operator",
            );
            ok = false;
        }
        (None, None) => {
            if let Some(pl) = &r.prefix_length {
                cx.err(
                    ErrorKind::Missing,
                    pl.span(),
                    &p("cidr"),
                    "is required with prefix_length",
                    "prefix_length narrows a cidr match: set cidr and match_operator = \"In\" or \"NotIn\"",
                );
                ok = false;
            }
        }
        _ => {}
    }
    let cidr_match = match &r.prefix_length {
        Some(pl) => prefix_length(cx, pl, &p("prefix_length"), limit, cidr, op, &mut ok),
        None => cidr.zip(op).and_then(|(net, op)| {
            let m = cidr_match(cx, raw.span(), &p("cidr"), net, op, None);
            ok &= m.is_some();
            m
        }),
    };
    let remote_peers_only = match &r.source {
        None => false,
        Some(s) => {
            let v = cx.word(s, &p("source"), &[("RemotePeers", true)]);
            ok &= v.is_some();
            v.unwrap_or(false)
        }
    };
    let interface = r.interface.as_ref().and_then(|i| {
        let v = interface(cx, i, &p("interface"));
        ok &= v.is_some();
        v
    });
    let peer_type = r.peer_type.as_ref().and_then(|t| {
        let v = cx.word(
            t,
            &p("peer_type"),
            &[("eBGP", PeerType::Ebgp), ("iBGP", PeerType::Ibgp)],
        );
        ok &= v.is_some();
        v
    });
    let community_match = r.community.as_ref().and_then(|c| {
        let v = community(cx, c, &p("community"), communities);
        ok &= v.is_some();
        v
    });
    let mut as_path_prefix = Vec::new();
    if let Some(a) = &r.as_path_prefix {
        for (i, asn) in a.get_ref().iter().enumerate() {
            match cx.asn(asn, &format!("{}[{i}]", p("as_path_prefix"))) {
                Some(v) => as_path_prefix.push(v),
                None => ok = false,
            }
        }
    }
    let action = match &r.action {
        None => {
            cx.missing(
                raw.span(),
                &p("action"),
                "action = \"Accept\" or \"Reject\"",
            );
            ok = false;
            None
        }
        Some(a) => {
            let v = cx.word(
                a,
                &p("action"),
                &[
                    ("Accept", FilterAction::Accept),
                    ("Reject", FilterAction::Reject),
                ],
            );
            ok &= v.is_some();
            v
        }
    };
    let mut operations = Vec::new();
    if let Some(ops) = &r.operations {
        if action == Some(FilterAction::Reject) && !ops.get_ref().is_empty() {
            cx.err(
                ErrorKind::Conflict,
                ops.span(),
                &p("operations"),
                "a Reject rule cannot have operations",
                "operations change accepted routes only; use action = \"Accept\"",
            );
            ok = false;
        }
        for (i, o) in ops.get_ref().iter().enumerate() {
            match operation(cx, o, &format!("{}[{i}]", p("operations")), communities) {
                Some(v) => operations.push(v),
                None => ok = false,
            }
        }
    }
    if !ok {
        return None;
    }
    Some(FilterRule {
        cidr: cidr_match,
        remote_peers_only,
        interface,
        peer_type,
        community: community_match,
        as_path_prefix,
        action: action?,
        operations,
    })
}

/// The CIDR condition with `prefix_length = { min, max }`: bounds within the family, then
/// `CidrMatch::new`'s rule (effective range `max(min, cidr length)..=max` not empty).
#[allow(clippy::too_many_arguments)]
fn prefix_length(
    cx: &mut Ctx<'_>,
    raw: &S<crate::schema::RawPrefixLength>,
    path: &str,
    limit: u8,
    cidr: Option<IpNet>,
    op: Option<MatchOperator>,
    ok: &mut bool,
) -> Option<CidrMatch> {
    let r = raw.get_ref();
    let bound = |cx: &mut Ctx<'_>, v: &Option<S<i64>>, key: &str| -> Result<Option<u8>, ()> {
        match v {
            None => Ok(None),
            Some(v) => cx
                .int(
                    v,
                    &format!("{path}.{key}"),
                    0,
                    i64::from(limit),
                    "a prefix length in this family",
                    "",
                )
                .map(|n| Some(n as u8))
                .ok_or(()),
        }
    };
    let (Ok(min), Ok(max)) = (bound(cx, &r.min, "min"), bound(cx, &r.max, "max")) else {
        *ok = false;
        return None;
    };
    let op = match op {
        Some(op @ (MatchOperator::In | MatchOperator::NotIn)) => op,
        Some(_) => {
            cx.err(
                ErrorKind::Conflict,
                raw.span(),
                path,
                "prefix_length applies to match_operator In and NotIn only",
                "Equal and NotEqual compare the prefix exactly",
            );
            *ok = false;
            return None;
        }
        // No operator or cidr: reported already.
        None => return None,
    };
    let cidr = cidr?;
    let Some(matched) = cidr_match(cx, raw.span(), path, cidr, op, Some((min, max))) else {
        *ok = false;
        return None;
    };
    let len = cidr.prefix_len();
    if let (Some(m), Some(v)) = (min, &r.min) {
        if m < len {
            cx.note(
                v.span(),
                &format!("{path}.min"),
                format!("{m} is below the length of {cidr}; /{len} is used, as Calico does"),
            );
        }
    }
    Some(matched)
}

/// `CidrMatch::new`, its refusal reported at `span` under `path`.
fn cidr_match(
    cx: &mut Ctx<'_>,
    span: Range<usize>,
    path: &str,
    cidr: IpNet,
    op: MatchOperator,
    bounds: Option<(Option<u8>, Option<u8>)>,
) -> Option<CidrMatch> {
    let e = match CidrMatch::new(cidr, op, bounds) {
        Ok(m) => return Some(m),
        Err(e) => e,
    };
    let (len, limit) = (cidr.prefix_len(), cidr.max_prefix_len());
    let message = match e {
        PolicyError::BadPrefixLength { cidr, min, max, .. } => {
            format!("no prefix length of {cidr} lies in {min}..={max}")
        }
        other => other.to_string(),
    };
    cx.err(
        ErrorKind::Conflict,
        span,
        path,
        message,
        &format!("routes inside {cidr} are /{len} to /{limit}; min is raised to {len}"),
    );
    None
}

/// An interface glob: `*` wildcards, otherwise a Linux interface name.
fn interface(cx: &mut Ctx<'_>, raw: &S<String>, path: &str) -> Option<String> {
    let s = raw.get_ref();
    let fixed: String = s.chars().filter(|c| *c != '*').collect();
    let bad = s.is_empty()
        || s.chars()
            .any(|c| c == '/' || c.is_whitespace() || c.is_control())
        || fixed.len() > super::MAX_IFNAME;
    if bad {
        cx.err(
            ErrorKind::Invalid,
            raw.span(),
            path,
            format!("{s:?} is not an interface name or glob"),
            "an interface name (at most 15 characters, no '/' or spaces) with '*' wildcards, \
             e.g. \"cali*\"",
        );
        return None;
    }
    Some(s.clone())
}

fn operation(
    cx: &mut Ctx<'_>,
    raw: &S<RawOperation>,
    path: &str,
    communities: &CommunityNames,
) -> Option<Operation> {
    let r = raw.get_ref();
    let set = usize::from(r.add_community.is_some())
        + usize::from(r.prepend_as_path.is_some())
        + usize::from(r.priority.is_some());
    if set != 1 {
        let (kind, msg) = if set == 0 {
            (ErrorKind::Missing, "an operation is empty")
        } else {
            (ErrorKind::Conflict, "an operation sets more than one thing")
        };
        cx.err(
            kind,
            raw.span(),
            path,
            msg,
            "write one of { add_community = \"aa:nn\" }, { prepend_as_path = [AS, ...] }, \
             { priority = N } per list element",
        );
        return None;
    }
    if let Some(c) = &r.add_community {
        return community(cx, c, &format!("{path}.add_community"), communities)
            .map(Operation::AddCommunity);
    }
    if let Some(pp) = &r.prepend_as_path {
        let p = format!("{path}.prepend_as_path");
        if pp.get_ref().is_empty() {
            cx.err(
                ErrorKind::Invalid,
                pp.span(),
                &p,
                "nothing to prepend",
                "list the AS numbers to prepend, e.g. [64512, 64512]",
            );
            return None;
        }
        let mut v = Vec::new();
        let mut ok = true;
        for (i, a) in pp.get_ref().iter().enumerate() {
            match cx.asn(a, &format!("{p}[{i}]")) {
                Some(a) => v.push(a),
                None => ok = false,
            }
        }
        return ok.then_some(Operation::PrependAsPath(v));
    }
    let pr = r.priority.as_ref()?;
    cx.int(
        pr,
        &format!("{path}.priority"),
        0,
        i64::from(u32::MAX),
        "a route priority",
        "the kernel route metric, 32 bits",
    )
    .map(|n| Operation::SetPriority(n as u32))
}

/// A list of prefixes, each with host bits zero and listed once.
pub(super) fn prefixes(cx: &mut Ctx<'_>, raw: &[S<String>], base: &str) -> Vec<IpNet> {
    let mut out: Vec<(IpNet, Range<usize>)> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let path = format!("{base}[{i}]");
        let Some(net) = cx.prefix(r, &path) else {
            continue;
        };
        if let Some((_, first)) = out.iter().find(|(n, _)| *n == net) {
            let hint = format!("first listed at line {}", cx.line_of(first));
            cx.err(
                ErrorKind::Duplicate,
                r.span(),
                &path,
                format!("{net} is listed twice"),
                &hint,
            );
            continue;
        }
        out.push((net, r.span()));
    }
    out.into_iter().map(|(n, _)| n).collect()
}

pub(super) fn prefix_advertisements(
    cx: &mut Ctx<'_>,
    raw: &[S<RawPrefixAdvertisement>],
    communities: &CommunityNames,
) -> Vec<PrefixAdvertisement> {
    let mut out: Vec<(PrefixAdvertisement, Range<usize>)> = Vec::new();
    for (i, a) in raw.iter().enumerate() {
        let r = a.get_ref();
        let base = format!("prefix_advertisements[{i}]");
        let cidr = match &r.cidr {
            Some(c) => cx.prefix(c, &format!("{base}.cidr")),
            None => {
                cx.missing(
                    a.span(),
                    &format!("{base}.cidr"),
                    "the prefix, e.g. 10.64.0.0/16",
                );
                None
            }
        };
        if r.communities.is_empty() {
            cx.missing(
                a.span(),
                &format!("{base}.communities"),
                "list at least one community to add, e.g. communities = [\"65000:100\"]",
            );
        }
        let mut values = Vec::new();
        let mut ok = !r.communities.is_empty();
        for (j, c) in r.communities.iter().enumerate() {
            let path = format!("{base}.communities[{j}]");
            match community(cx, c, &path, communities) {
                Some(v) if values.contains(&v) => {
                    cx.err(
                        ErrorKind::Duplicate,
                        c.span(),
                        &path,
                        format!("{v} is listed twice"),
                        "",
                    );
                    ok = false;
                }
                Some(v) => values.push(v),
                None => ok = false,
            }
        }
        let (Some(cidr), Some(c)) = (cidr, &r.cidr) else {
            continue;
        };
        if let Some((_, first)) = out.iter().find(|(o, _)| o.cidr == cidr) {
            let hint = format!(
                "first listed at line {}; put all its communities in one entry",
                cx.line_of(first)
            );
            cx.err(
                ErrorKind::Duplicate,
                c.span(),
                &format!("{base}.cidr"),
                format!("{cidr} is advertised twice"),
                &hint,
            );
            continue;
        }
        if ok {
            out.push((
                PrefixAdvertisement {
                    cidr,
                    communities: values,
                },
                c.span(),
            ));
        }
    }
    out.into_iter().map(|(a, _)| a).collect()
}

pub(super) fn services(cx: &mut Ctx<'_>, raw: Option<&S<RawServices>>) -> Services {
    let Some(raw) = raw else {
        return Services::default();
    };
    let r = raw.get_ref();
    Services {
        cluster_ips: prefixes(cx, &r.cluster_ips, "services.cluster_ips"),
        external_ips: prefixes(cx, &r.external_ips, "services.external_ips"),
        load_balancer_ips: prefixes(cx, &r.load_balancer_ips, "services.load_balancer_ips"),
    }
}

/// `[bgp]`; `None` when a value is invalid (reported).
pub(super) fn decision(cx: &mut Ctx<'_>, raw: Option<&S<RawBgp>>) -> Option<Decision> {
    let mut d = Decision::default();
    let Some(raw) = raw else { return Some(d) };
    let r = raw.get_ref();
    let mut ok = true;
    if let Some(v) = &r.always_compare_med {
        d.always_compare_med = *v.get_ref();
    }
    if let Some(v) = &r.missing_med_worst {
        d.missing_med_worst = *v.get_ref();
    }
    if let Some(v) = &r.max_paths {
        match cx.int(
            v,
            "bgp.max_paths",
            1,
            256,
            "a path count",
            "1 disables multipath (ECMP)",
        ) {
            Some(n) => d.max_paths = n as u16,
            None => ok = false,
        }
    }
    if let Some(v) = &r.default_local_pref {
        match cx.int(
            v,
            "bgp.default_local_pref",
            0,
            i64::from(u32::MAX),
            "a LOCAL_PREF",
            "LOCAL_PREF is 32 bits (RFC 4271 §5.1.5)",
        ) {
            Some(n) => d.default_local_pref = n as u32,
            None => ok = false,
        }
    }
    ok.then_some(d)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
