//! Log lines for what a peer sent wrong, written for the operator who has to act on them: the
//! attribute by name (`ORIGINATOR_ID`, not `9`), what was wrong (`length 3, expected 4`, `next
//! hop 10.0.0.5 is our own address`), the prefixes concerned (the first [`PREFIXES_SHOWN`] and a
//! count) and what we did (treat-as-withdraw, attribute discarded, session reset with
//! NOTIFICATION code/subcode). The peer comes from the per-peer span. With `--log-format json`
//! every part is also a field: `attr`, `reason`, `action`, `prefixes`, `withdrawn_count` /
//! `prefix_count`, `offset`.

use std::fmt::Write as _;

use bgp_proto::update::{Action, AttrName, Update};
use bgp_proto::{DecodeError, Notification};
use tracing::{info, warn};

use crate::fsm::ConnId;

/// How many prefixes a log line lists; the count says how many there were in all.
pub const PREFIXES_SHOWN: usize = 10;

/// What one UPDATE's RFC 7606 outcomes come to, ready for a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedSummary {
    /// The strongest action (RFC 7606 §3 h).
    pub action: Action,
    /// The attributes concerned, comma separated, each once: `ORIGINATOR_ID,NEXT_HOP`.
    pub attrs: String,
    /// What was wrong, per malformation: `ORIGINATOR_ID: length 3, expected 4 (treat-as-withdraw)`,
    /// joined by `; `.
    pub reasons: String,
    /// The first [`PREFIXES_SHOWN`] prefixes the action applied to, comma separated.
    pub prefixes: String,
    /// How many prefixes the action applied to (withdrawn for treat-as-withdraw, kept without
    /// the attribute for a discard).
    pub prefix_count: usize,
}

/// The summary of `u`'s malformations, or `None` when it had none.
pub fn summarize(u: &Update) -> Option<MalformedSummary> {
    let action = u.action()?;
    let mut attrs: Vec<AttrName> = Vec::new();
    for m in &u.malformations {
        if !attrs.contains(&m.attr_name()) {
            attrs.push(m.attr_name());
        }
    }
    let attrs = join(attrs.iter(), ",");
    let reasons = join(u.malformations.iter(), "; ");
    let prefix_count = u.reach_entries().count();
    let prefixes = join(
        u.reach_entries()
            .take(PREFIXES_SHOWN)
            .map(|(_, e)| e.prefix),
        ",",
    );
    Some(MalformedSummary {
        action,
        attrs,
        reasons,
        prefixes,
        prefix_count,
    })
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>, sep: &str) -> String {
    let mut s = String::new();
    for (i, x) in items.enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{x}");
    }
    s
}

/// `N prefixes: a, b, ... (and M more)`.
fn prefix_text(s: &MalformedSummary) -> String {
    let shown = s.prefixes.replace(',', ", ");
    let more = s.prefix_count.saturating_sub(PREFIXES_SHOWN);
    let plural = if s.prefix_count == 1 { "" } else { "es" };
    if more > 0 {
        format!(
            "{} prefix{plural}: {shown} (and {more} more)",
            s.prefix_count
        )
    } else {
        format!("{} prefix{plural}: {shown}", s.prefix_count)
    }
}

/// One warning per UPDATE that had RFC 7606 outcomes (nothing for a clean one).
pub fn malformed_update(u: &Update) {
    let Some(s) = summarize(u) else {
        return;
    };
    match s.action {
        Action::TreatAsWithdraw => warn!(
            event = "treat_as_withdraw",
            attr = %s.attrs,
            reason = %s.reasons,
            action = %s.action,
            prefixes = %s.prefixes,
            withdrawn_count = s.prefix_count,
            "UPDATE treated as withdraw (RFC 7606): {}; withdrew {}",
            s.reasons,
            prefix_text(&s)
        ),
        // Session resets never reach here (they are `MessageError`s).
        Action::AttributeDiscard | Action::SessionReset => warn!(
            event = "attribute_discard",
            attr = %s.attrs,
            reason = %s.reasons,
            action = %s.action,
            prefixes = %s.prefixes,
            prefix_count = s.prefix_count,
            "attribute discarded (RFC 7606): {}; routes kept without it, {}",
            s.reasons,
            prefix_text(&s)
        ),
    }
    if !u.unsupported_mp.is_empty() {
        let codes: Vec<String> = u
            .unsupported_mp
            .iter()
            .map(|a| AttrName(Some(a.type_code)).to_string())
            .collect();
        info!(event = "unsupported_family", attr = %codes.join(","),
            "MP_REACH/MP_UNREACH of a family we do not carry ignored (RFC 4760 §7)");
    }
}

/// The session reset for a message that could not be decoded: which field, what was wrong,
/// where, and the NOTIFICATION that goes out.
pub fn message_error(conn: ConnId, e: &DecodeError) {
    let n: Notification = e.notification();
    let action = format!("session reset with NOTIFICATION {}/{}", n.code, n.subcode);
    let (attr, reason) = match e {
        DecodeError::Update(u) => (AttrName(u.attr_type).to_string(), u.reason.to_string()),
        other => ("message".to_string(), other.to_string()),
    };
    warn!(
        event = "message_error",
        conn = %conn,
        attr = %attr,
        reason = %reason,
        offset = e.offset(),
        action = %action,
        "malformed message: {attr}: {reason} (message offset {}); {action} ({n})",
        e.offset()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::SessionContext;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        hex::decode(s).unwrap()
    }

    #[test]
    fn summary_names_the_attribute_the_problem_and_the_first_ten_prefixes() {
        // ORIGIN, AS_PATH, NEXT_HOP, ORIGINATOR_ID of 3 octets; 12 NLRI 10.0.N.0/24.
        let mut body = unhex("0000 0014 40010100 400200 4003040a000002 8009030a0000");
        for i in 0..12u8 {
            body.extend_from_slice(&[24, 10, 0, i]);
        }
        let u = Update::decode(&body, &SessionContext::default()).unwrap();
        let s = summarize(&u).unwrap();
        assert_eq!(s.action, Action::TreatAsWithdraw);
        assert_eq!(s.attrs, "ORIGINATOR_ID");
        assert_eq!(
            s.reasons,
            "ORIGINATOR_ID: length 3, expected 4 (treat-as-withdraw)"
        );
        assert_eq!(s.prefix_count, 12);
        assert_eq!(s.prefixes.split(',').count(), PREFIXES_SHOWN);
        assert!(s.prefixes.starts_with("10.0.0.0/24,10.0.1.0/24,"));
        assert_eq!(
            prefix_text(&s),
            "12 prefixes: 10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24, 10.0.4.0/24, \
             10.0.5.0/24, 10.0.6.0/24, 10.0.7.0/24, 10.0.8.0/24, 10.0.9.0/24 (and 2 more)"
        );
    }

    #[test]
    fn clean_update_has_no_summary() {
        let body = unhex("0000 000e 40010100 400200 4003040a000002 180a0000");
        let u = Update::decode(&body, &SessionContext::default()).unwrap();
        assert_eq!(summarize(&u), None);
    }
}
