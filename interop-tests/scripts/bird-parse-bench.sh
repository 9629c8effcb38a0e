#!/usr/bin/env bash
# Parse time of a large rendered bird.cfg: ours (`bird -p -c`, release build through a `bird`
# symlink) beside BIRD 1.6.8's (`bird -p -c`, Debian's build extracted to /tmp/bird16), same file,
# same run. The file is Calico's mesh fixture (confd v3.32 rendering, conf/tests/fixtures) with
# its one peer repeated N times (default 1000) as `protocol bgp Mesh_10_X_Y_Z` blocks, each with
# its inline import/export filters, as a node of an N+1-node mesh renders it.
#
# As root it then times a reconfiguration on the same file: each daemon runs in a namespace of
# its own holding only `lo` (the N peers are unreachable, nothing leaves it), started as runit
# starts BIRD (`bird -R -s SOCK -d -c FILE`), and the time of `configure` on the control socket
# is measured after one peer's export filter changed (BIRD 1.6.8: birdc; ours: bgpctl): the
# median wall time of up to 10 runs, and with perf the daemon's CPU time per run.
#
# Usage: interop-tests/scripts/bird-parse-bench.sh [N] [RUNS]
# Needs: cargo build --release -p bgpd --bin bgpd --bin bgpctl
# BGPD_RELEASE_DIR: where bgpd and bgpctl are (default target/x86_64-unknown-linux-gnu/release;
# set it to $CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release when building elsewhere).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
runs=${2:-20}
release=${BGPD_RELEASE_DIR:-target/x86_64-unknown-linux-gnu/release}
ours=$release/bgpd
bird16=/tmp/bird16/usr/sbin/bird
fixture=conf/tests/fixtures/calico/gen2/mesh/ipip-always
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$fixture"/bird_aggr.cfg "$fixture"/bird_ipam.cfg "$work"/
# Everything before the first protocol bgp, then N copies of that protocol with a new address.
awk '/^protocol bgp /{exit} {print}' "$fixture"/bird.cfg >"$work"/bird.cfg
block=$(awk '/^protocol bgp /{p=1} p{print} p&&/^}/{exit}' "$fixture"/bird.cfg)
addr=$(printf '%s\n' "$block" | sed -n 's/^ *neighbor \([0-9.]*\) as.*/\1/p')
name=$(printf '%s\n' "$block" | sed -n 's/^protocol bgp \([^ ]*\) .*/\1/p')
for i in $(seq 1 "$n"); do
    a="10.$((i / 65536 % 256 + 100)).$((i / 256 % 256)).$((i % 256))"
    printf '%s\n' "$block" | sed "s/$name/Mesh_${a//./_}/; s/neighbor $addr /neighbor $a /" >>"$work"/bird.cfg
done
echo "file: $(grep -c '^protocol bgp' "$work"/bird.cfg) protocol bgp blocks, $(wc -l <"$work"/bird.cfg) lines"
ln -s "$(realpath "$ours")" "$work"/bird
time_it() { # prints the median wall time in ms of RUNS runs of "$@"
    local t=()
    for _ in $(seq 1 "$runs"); do
        local s e
        s=$(date +%s%N)
        "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2 || true; exit 1; }
        e=$(date +%s%N)
        t+=($(((e - s) / 1000)))
    done
    printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}
o=$(time_it "$work"/bird -p -c "$work"/bird.cfg)
echo "ours       bird -p -c: ${o} ms (median of $runs)"
if [ -x "$bird16" ]; then
    b=$(time_it "$bird16" -p -c "$work"/bird.cfg)
    echo "BIRD 1.6.8 bird -p -c: ${b} ms (median of $runs)"
    awk -v o="$o" -v b="$b" 'BEGIN {printf "ratio ours/BIRD: %.2f\n", o/b}'
else
    echo "BIRD 1.6.8 not found at $bird16 (scripts/test.sh extracts it)"
fi

[ "$(id -u)" = 0 ] || { echo "not root: reconfiguration timing skipped"; exit 0; }
bgpctl=$release/bgpctl
ns=bgpd-parse-bench-$$
cleanup() {
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# One peer's export filter gets one more statement: a change of one protocol in N. The runs
# alternate between the two files, so every `configure` changes one protocol.
first=$(grep -m1 '^protocol bgp' "$work"/bird.cfg | awk '{print $3}')
cp "$work"/bird.cfg "$work"/bird.cfg.orig
awk -v p="$first" '$0 ~ "^protocol bgp "p" " {hit=1} hit && /export filter \{/ {print; print "    if (net = 198.51.100.0/24) then reject;"; hit=0; next} {print}' \
    "$work"/bird.cfg.orig >"$work"/bird.cfg.changed
cmp -s "$work"/bird.cfg.orig "$work"/bird.cfg.changed && { echo "the filter change did not apply" >&2; exit 1; }
configure_runs=$((runs < 10 ? runs : 10))
# Times `configure` CONFIGURE_RUNS times against the daemon on "$work"/ctl; prints the median
# wall time in ms and the reply's last line (the run fails unless it says Reconfigured).
configure_times() { # client
    local client=$1 t=() k reply s e
    for k in $(seq 1 "$configure_runs"); do
        if [ $((k % 2)) = 1 ]; then
            cp "$work"/bird.cfg.changed "$work"/bird.cfg
        else
            cp "$work"/bird.cfg.orig "$work"/bird.cfg
        fi
        s=$(date +%s%N)
        reply=$("$client" -s "$work"/ctl configure 2>&1) || true
        e=$(date +%s%N)
        case $reply in
        *Reconfigur*) ;;
        *) echo "configure failed: $reply" >&2; return 1 ;;
        esac
        t+=($(((e - s) / 1000)))
    done
    printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
    printf ' ms, reply: %s' "$(printf '%s\n' "$reply" | tail -1)"
}
run_one() { # label, daemon binary, client binary
    local label=$1 bin=$2 client=$3 pid result cpu=""
    cp "$work"/bird.cfg.orig "$work"/bird.cfg
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" "$bin" -R -s "$work"/ctl -d -c "$work"/bird.cfg >"$work"/$label.log 2>&1 &
    for _ in $(seq 1 100); do
        "$client" -s "$work"/ctl show status 2>/dev/null | grep -q 'Daemon is up' && break
        sleep 0.1
    done
    sleep 2
    pid=$(ip netns pids "$ns" | head -1)
    if command -v perf >/dev/null &&
        perf stat -x, -e task-clock -p "$pid" -o "$work"/$label.perf -- sleep 0.01 2>/dev/null; then
        # The daemon's CPU time (every thread) over the runs, per run.
        perf stat -x, -e task-clock -p "$pid" -o "$work"/$label.perf -- bash -c \
            "$(declare -f configure_times); work=$work configure_runs=$configure_runs configure_times $client" \
            >"$work"/$label.result
        cpu=$(awk -F, -v r="$configure_runs" '/task-clock/ {printf ", daemon CPU %.2f ms", $1/r}' "$work"/$label.perf)
    else
        configure_times "$client" >"$work"/$label.result
    fi
    result=$(cat "$work"/$label.result)
    echo "$label configure (1 of $n protocols changed, median of $configure_runs): $result$cpu"
    for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
    sleep 1
    ip netns del "$ns"
    rm -f "$work"/ctl
}
run_one ours "$work"/bird "$bgpctl"
[ -x "$bird16" ] && run_one bird16 "$bird16" /tmp/bird16/usr/sbin/birdc
