#!/usr/bin/env python3
"""Split a BGP packet capture into whole BGP messages, one hex file per TCP connection direction.

Usage:
  split_bgp_pcap.py PCAP OUTDIR --scenario NAME --label IP=daemon-version [--label ...]
                    [--note TEXT ...]

tshark gives each TCP segment's absolute sequence number and payload; segments are reassembled by
sequence number per connection and direction (retransmitted bytes are taken once), then cut into
messages by the 16-byte marker and 2-byte length of the BGP header (RFC 4271 §4.1). The OPEN of
each side is decoded to write the negotiated session context into the file's comment header.

Output file: OUTDIR/<sender>_to_<receiver>_<scenario>[-over-ipv6][-connN].hex
  lines starting with '#' are comments; every other line is one whole message in lowercase hex.
"""
import argparse
import collections
import os
import subprocess
import sys

TYPES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}
CAPS = {1: "multiprotocol", 2: "route-refresh", 5: "extended-nexthop", 6: "extended-message",
        9: "bgp-role", 64: "graceful-restart", 65: "four-octet-as", 69: "add-path",
        70: "enhanced-route-refresh", 71: "long-lived-graceful-restart", 73: "fqdn",
        128: "route-refresh-old"}
ATTRS = {1: "ORIGIN", 2: "AS_PATH", 3: "NEXT_HOP", 4: "MED", 5: "LOCAL_PREF",
         6: "ATOMIC_AGGREGATE", 7: "AGGREGATOR", 8: "COMMUNITIES", 9: "ORIGINATOR_ID",
         10: "CLUSTER_LIST", 14: "MP_REACH_NLRI", 15: "MP_UNREACH_NLRI",
         16: "EXTENDED_COMMUNITIES", 17: "AS4_PATH", 18: "AS4_AGGREGATOR", 32: "LARGE_COMMUNITIES",
         35: "OTC"}
AFI = {1: "ipv4", 2: "ipv6"}
SAFI = {1: "unicast", 2: "multicast"}
NOTIF = {1: "Message Header Error", 2: "OPEN Message Error", 3: "UPDATE Message Error",
         4: "Hold Timer Expired", 5: "FSM Error", 6: "Cease", 7: "ROUTE-REFRESH Message Error"}


def fam(afi, safi):
    return f"{AFI.get(afi, afi)}-{SAFI.get(safi, safi)}"


def tshark_rows(pcap):
    fields = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst",
              "tcp.dstport", "tcp.seq_raw", "tcp.payload", "frame.time_epoch"]
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        p = line.split("\t")
        if len(p) < len(fields):
            continue
        yield {"stream": int(p[0]), "src": p[1] or p[2], "sport": int(p[3]), "dst": p[4] or p[5],
               "dport": int(p[6]), "seq": int(p[7]), "payload": bytes.fromhex(p[8].replace(":", "")),
               "time": float(p[9])}


def reassemble(segs):
    """Joins (seq, bytes) segments into one byte string, taking each byte offset once."""
    segs = sorted(segs)
    if not segs:
        return b""
    base = segs[0][0]
    buf = bytearray()
    for seq, data in segs:
        off = (seq - base) % (1 << 32)
        if off > len(buf):
            print(f"warning: gap of {off - len(buf)} bytes; stopping this direction", file=sys.stderr)
            break
        buf += data[len(buf) - off:]
    return bytes(buf)


def split_messages(stream):
    msgs, i = [], 0
    while i + 19 <= len(stream):
        if stream[i:i + 16] != b"\xff" * 16:
            print(f"warning: bad marker at offset {i}; stopping", file=sys.stderr)
            break
        ln = int.from_bytes(stream[i + 16:i + 18], "big")
        if ln < 19 or i + ln > len(stream):
            break
        msgs.append(stream[i:i + ln])
        i += ln
    return msgs


def parse_open(m):
    """Returns (asn2, hold, router_id, {cap_code: [values]})."""
    body = m[19:]
    asn, hold = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
    rid = ".".join(str(b) for b in body[5:9])
    plen, params, caps = body[9], body[10:10 + body[9]], collections.defaultdict(list)
    del plen
    i = 0
    while i + 2 <= len(params):
        ptype, pl = params[i], params[i + 1]
        pv = params[i + 2:i + 2 + pl]
        i += 2 + pl
        if ptype != 2:
            continue
        j = 0
        while j + 2 <= len(pv):
            code, cl = pv[j], pv[j + 1]
            caps[code].append(pv[j + 2:j + 2 + cl])
            j += 2 + cl
    return asn, hold, rid, caps


def describe_caps(caps):
    out = []
    for code, vals in sorted(caps.items()):
        name = CAPS.get(code, f"cap-{code}")
        for v in vals:
            if code == 1:
                out.append(f"{name}({fam(int.from_bytes(v[0:2], 'big'), v[3])})")
            elif code == 65:
                out.append(f"{name}({int.from_bytes(v, 'big')})")
            elif code == 69:
                parts = []
                for k in range(0, len(v) - 3, 4):
                    sr = {1: "rx", 2: "tx", 3: "rx+tx"}.get(v[k + 3], v[k + 3])
                    parts.append(f"{fam(int.from_bytes(v[k:k + 2], 'big'), v[k + 2])}:{sr}")
                out.append(f"{name}({','.join(parts)})")
            elif code == 5:
                parts = [f"{fam(int.from_bytes(v[k:k + 2], 'big'), int.from_bytes(v[k + 2:k + 4], 'big'))}"
                         f"/nh-{AFI.get(int.from_bytes(v[k + 4:k + 6], 'big'))}"
                         for k in range(0, len(v) - 5, 6)]
                out.append(f"{name}({','.join(parts)})")
            elif code == 9:
                roles = {0: "provider", 1: "rs", 2: "rs-client", 3: "customer", 4: "peer"}
                out.append(f"{name}({roles.get(v[0], v[0]) if v else '?'})")
            elif code == 73 and v:
                h = v[1:1 + v[0]].decode(errors="replace")
                out.append(f"{name}({h})")
            else:
                out.append(name)
    return " ".join(out)


def addpath(caps):
    """{family: flags} from an ADD-PATH capability (RFC 7911 §4)."""
    res = {}
    for v in caps.get(69, []):
        for k in range(0, len(v) - 3, 4):
            res[fam(int.from_bytes(v[k:k + 2], "big"), v[k + 2])] = v[k + 3]
    return res


def negotiated(sender_caps, receiver_caps):
    as4 = 65 in sender_caps and 65 in receiver_caps
    s_ap, r_ap = addpath(sender_caps), addpath(receiver_caps)
    # Path IDs appear in the sender's UPDATEs when it may send and the receiver may receive.
    ap = sorted(f for f in s_ap if s_ap[f] & 2 and r_ap.get(f, 0) & 1)
    ext = 6 in sender_caps and 6 in receiver_caps
    enh = 70 in sender_caps and 70 in receiver_caps
    return as4, ap, ext, enh


def describe_msg(m, as4):
    t = m[18]
    name = TYPES.get(t, f"type-{t}")
    if t == 2:
        body = m[19:]
        wl = int.from_bytes(body[0:2], "big")
        al = int.from_bytes(body[2 + wl:4 + wl], "big")
        attrs = body[4 + wl:4 + wl + al]
        nlri_len = len(body) - 4 - wl - al
        names, i = [], 0
        while i + 3 <= len(attrs):
            flags, code = attrs[i], attrs[i + 1]
            if flags & 0x10:
                alen, hl = int.from_bytes(attrs[i + 2:i + 4], "big"), 4
            else:
                alen, hl = attrs[i + 2], 3
            val = attrs[i + hl:i + hl + alen]
            n = ATTRS.get(code, f"attr-{code}")
            if code in (14, 15) and len(val) >= 3:
                n += f"({fam(int.from_bytes(val[0:2], 'big'), val[2])}"
                if code == 14 and len(val) >= 4:
                    n += f",nh-len={val[3]}"
                if code == 15 and len(val) == 3:
                    n += ",End-of-RIB"
                n += ")"
            names.append(n)
            i += hl + alen
        if wl == 0 and al == 0 and nlri_len == 0:
            return "UPDATE End-of-RIB ipv4-unicast"
        return (f"UPDATE withdrawn-bytes={wl} attrs=[{' '.join(names)}] nlri-bytes={nlri_len}")
    if t == 3:
        code, sub = m[19], m[20]
        data = m[21:]
        extra = ""
        if code == 6 and sub in (2, 4) and data:
            extra = f" shutdown-communication={data[1:1 + data[0]].decode(errors='replace')!r}"
        return f"NOTIFICATION {NOTIF.get(code, code)} subcode={sub} data-bytes={len(data)}{extra}"
    if t == 5:
        afi, sub, safi = int.from_bytes(m[19:21], "big"), m[21], m[22]
        kind = {0: "request", 1: "BoRR", 2: "EoRR"}.get(sub, sub)
        return f"ROUTE-REFRESH {fam(afi, safi)} {kind}"
    if t == 1:
        asn, hold, rid, caps = parse_open(m)
        return f"OPEN my-as={asn} hold={hold} id={rid} caps=[{describe_caps(caps)}]"
    return name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("outdir")
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--label", action="append", default=[], help="IP=daemon-version")
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--max-conns", type=int, default=2,
                    help="connections kept per sender/receiver/transport (later ones skipped)")
    a = ap.parse_args()
    labels = dict(x.split("=", 1) for x in a.label)

    conns = collections.OrderedDict()  # stream -> {(src,sport,dst,dport): [segs]}
    first_time = {}
    for r in tshark_rows(a.pcap):
        key = (r["src"], r["sport"], r["dst"], r["dport"])
        conns.setdefault(r["stream"], collections.OrderedDict()).setdefault(key, [])
        if r["payload"]:
            conns[r["stream"]][key].append((r["seq"], r["payload"]))
            first_time.setdefault((r["stream"], key), r["time"])

    per_stream = {}
    for stream, dirs in conns.items():
        per_stream[stream] = {k: split_messages(reassemble(s)) for k, s in dirs.items()}

    written, counters = [], collections.Counter()
    for stream, dirs in per_stream.items():
        opens = {}
        for k, msgs in dirs.items():
            for m in msgs:
                if m[18] == 1:
                    opens[k] = parse_open(m)
                    break
        for k, msgs in dirs.items():
            if not msgs:
                continue
            src, sport, dst, dport = k
            rev = (dst, dport, src, sport)
            sender, receiver = labels.get(src, src), labels.get(dst, dst)
            s_open, r_open = opens.get(k), opens.get(rev)
            s_caps = s_open[3] if s_open else {}
            r_caps = r_open[3] if r_open else {}
            as4, ap_rx, ext, enh = negotiated(s_caps, r_caps)
            base = f"{sender}_to_{receiver}_{a.scenario}" + ("-over-ipv6" if ":" in src else "")
            counters[base] += 1
            if counters[base] > a.max_conns:
                print(f"skipped connection {counters[base]} of {base}", file=sys.stderr)
                continue
            name = base + (f"-conn{counters[base]}" if counters[base] > 1 else "") + ".hex"
            kinds = collections.Counter(TYPES.get(m[18], str(m[18])) for m in msgs)
            both = s_open is not None and r_open is not None
            yn = (lambda x: "yes" if x else "no") if both else (
                lambda x: "unknown (no OPEN from both sides on this connection)")
            lines = [
                f"# sender: {sender} ({src} port {sport})",
                f"# receiver: {receiver} ({dst} port {dport})",
                f"# scenario: {a.scenario}",
                f"# four-octet-as: {yn(as4)}",
                f"# add-path-rx: {(','.join(ap_rx) if ap_rx else 'none') if both else yn(False)}"
                "  (families whose NLRI in these UPDATEs carry a 4-byte path identifier)",
                f"# extended-message: {yn(ext)}",
                f"# enhanced-route-refresh: {yn(enh)}",
                f"# sender-open: " + (f"as={s_open[0]} hold={s_open[1]} id={s_open[2]} "
                                      f"caps=[{describe_caps(s_caps)}]" if s_open else "none seen"),
                f"# receiver-open: " + (f"as={r_open[0]} hold={r_open[1]} id={r_open[2]} "
                                        f"caps=[{describe_caps(r_caps)}]" if r_open else "none seen"),
                "# messages: " + ", ".join(f"{n} x{c}" for n, c in sorted(kinds.items())),
                "# provenance: captured with tcpdump on the lab bridge, split by "
                "interop-tests/scripts/split_bgp_pcap.py (regenerate: cargo run -p interop-tests "
                "--bin capture_vectors)",
            ]
            lines += [f"# note: {n}" for n in a.note]
            lines.append("# format: one whole BGP message per line, lowercase hex, marker included;"
                         " each is preceded by a '#' line summarising it")
            for m in msgs:
                lines.append(f"# {describe_msg(m, as4)}")
                lines.append(m.hex())
            os.makedirs(a.outdir, exist_ok=True)
            with open(os.path.join(a.outdir, name), "w") as f:
                f.write("\n".join(lines) + "\n")
            written.append(f"{name}: {dict(kinds)}")
    for w in written:
        print(w)


if __name__ == "__main__":
    main()
