#!/usr/bin/env bash
# Parse time of a large rendered bird.cfg: ours (`bird -p -c`, release build through a `bird`
# symlink) beside BIRD 1.6.8's (`bird -p -c`, Debian's build extracted to /tmp/bird16), same file,
# same run. The file is Calico's mesh fixture (confd v3.32 rendering, conf/tests/fixtures) with
# its one peer repeated N times (default 1000) as `protocol bgp Mesh_10_X_Y_Z` blocks, each with
# its inline import/export filters, as a node of an N+1-node mesh renders it.
#
# Usage: interop-tests/scripts/bird-parse-bench.sh [N] [RUNS]
# Needs: cargo build --release -p bgpd --bin bgpd
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
runs=${2:-20}
ours=target/x86_64-unknown-linux-gnu/release/bgpd
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
