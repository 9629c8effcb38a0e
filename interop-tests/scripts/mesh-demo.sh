#!/usr/bin/env bash
# A newcomer's tour: three of our bgpd in a Calico-style iBGP full mesh (AS 64512), each in its
# own network namespace on one bridge, each announcing its IPAM block (IPv4 and IPv6). Shows
# every node's routes through its control socket, then removes everything it made (also on
# Ctrl-C or error).
#
# Needs root (namespaces) and a built daemon:  cargo build -p bgpd
# Run from the repository root:               sudo interop-tests/scripts/mesh-demo.sh
# Keep it running to poke around:              KEEP=1 sudo interop-tests/scripts/mesh-demo.sh
#
# Addresses: node i is 10.99.0.i/24 and fd99::i/64 on eth0; its blocks are 10.64.i.0/26 and
# fd64:0:i::/122.
set -euo pipefail

TARGET=${CARGO_TARGET_DIR:-target}
BGPD=${BGPD:-$TARGET/x86_64-unknown-linux-gnu/debug/bgpd}
BGPCTL=${BGPCTL:-$TARGET/x86_64-unknown-linux-gnu/debug/bgpctl}
[ -x "$BGPD" ] || { echo "no $BGPD: run 'cargo build -p bgpd' first (or set BGPD=...)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }

TAG=md$$                      # unique names: several demos may run at once
WORK=$(mktemp -d /tmp/mesh-demo.XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for i in 1 2 3; do ip netns del "$TAG-n$i" 2>/dev/null || true; done
    ip netns del "$TAG-br" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The bridge namespace and three nodes joined to it by veth pairs.
ip netns add "$TAG-br"
ip -n "$TAG-br" link add br0 type bridge
ip -n "$TAG-br" link set br0 up
for i in 1 2 3; do
    ns=$TAG-n$i
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$TAG-br" link add "v$i" type veth peer name eth0 netns "$ns"
    ip -n "$TAG-br" link set "v$i" master br0
    ip -n "$TAG-br" link set "v$i" up
    ip -n "$ns" addr add "10.99.0.$i/24" dev eth0
    ip -n "$ns" -6 addr add "fd99::$i/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
done

# One configuration per node: the mesh is one session per peer and family, as Calico makes it.
for i in 1 2 3; do
    conf=$WORK/n$i.toml
    cat >"$conf" <<EOF
router_id = "10.99.0.$i"
local_as = 64512
local_blocks = ["10.64.$i.0/26", "fd64:0:$i::/122"]
ip_pools = [{ cidr = "10.64.0.0/16" }, { cidr = "fd64::/32" }]

[listen]
addresses = ["10.99.0.$i", "fd99::$i"]

[kernel]
enable_writes = false

[control]
socket = "$WORK/n$i.ctl"
socket_v6 = "$WORK/n$i.v6.ctl"
EOF
    for j in 1 2 3; do
        [ "$i" = "$j" ] && continue
        for addr in "10.99.0.$j" "fd99::$j"; do
            cat >>"$conf" <<EOF

[[neighbors]]
name = "Mesh_${addr//[.:]/_}"
address = "$addr"
remote_as = 64512
hold_time = 9
keepalive_time = 3
connect_delay_time = 1
connect_retry_time = 2
EOF
        done
    done
    "$BGPD" --check -c "$conf" >/dev/null
    ip netns exec "$TAG-n$i" "$BGPD" -c "$conf" --log-format json 2>"$WORK/n$i.log" &
    PIDS+=($!)
done

# Wait until every node has the other two nodes' blocks (or give up after 30 s).
ctl() { "$BGPCTL" -s "$1" "${@:2}" 2>/dev/null || true; }
for _ in $(seq 60); do
    n=0
    for i in 1 2 3; do
        n=$((n + $(ctl "$WORK/n$i.ctl" show route | grep -c '^10\.64\.' || true)))
    done
    [ "$n" -ge 9 ] && break
    sleep 0.5
done

for i in 1 2 3; do
    echo "=== node $i (10.99.0.$i): show protocols"
    ctl "$WORK/n$i.ctl" show protocols
    echo "=== node $i: show route (IPv4 socket, then IPv6 socket)"
    ctl "$WORK/n$i.ctl" show route
    ctl "$WORK/n$i.v6.ctl" show route
done

cat <<EOF

Each node shows its own blocks as blackhole (static1) and the others' via their addresses.
Try, while it runs (KEEP=1):
  $BGPCTL -s $WORK/n1.ctl show route all
  $BGPCTL -s $WORK/n1.ctl --json show route
  ip netns exec $TAG-n1 ss -tnp                    # the BGP sessions
  grep '"event":"rib_peer_up"' $WORK/n1.log         # initial tables sent
EOF
if [ "${KEEP:-0}" = 1 ]; then
    echo "Press Enter to stop and clean up."
    read -r _
fi
