#!/bin/bash
# Two GoBGP 3.10.0 speakers in namespaces; the second dumps MRT (updates + table).
set -u
P=$$
A=mrt1-$P; B=mrt2-$P; D=${OUT:-/tmp/gobgp-mrt}; mkdir -p $D
cleanup() {
  for ns in $A $B; do for pid in $(ip netns pids $ns 2>/dev/null); do kill $pid 2>/dev/null; done; done
  sleep 1
  ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
}
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip -n $A link set lo up; ip -n $B link set lo up
ip -n $A link add eth0 type veth peer name eth0 netns $B
ip -n $A addr add 10.99.0.1/24 dev eth0; ip -n $B addr add 10.99.0.2/24 dev eth0
ip -n $A -6 addr add fd99::1/64 dev eth0 nodad; ip -n $B -6 addr add fd99::2/64 dev eth0 nodad
ip -n $A link set eth0 up; ip -n $B link set eth0 up
rm -f $D/updates.mrt $D/table.mrt
cat > $D/a.toml <<EOT
[global.config]
  as = 65001
  router-id = "10.99.0.1"
  port = 179
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.99.0.2"
    peer-as = 4200000002
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOT
cat > $D/b.toml <<EOT
[global.config]
  as = 4200000002
  router-id = "10.99.0.2"
  port = 179
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.99.0.1"
    peer-as = 65001
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
[[mrt-dump]]
  [mrt-dump.config]
    dump-type = "updates"
    file-name = "$D/updates.mrt"
[[mrt-dump]]
  [mrt-dump.config]
    dump-type = "table"
    file-name = "$D/table.mrt"
    dump-interval = 4
EOT
ip netns exec $A /usr/bin/gobgpd -f $D/a.toml --api-hosts 127.0.0.1:50061 -p > $D/a.log 2>&1 &
ip netns exec $B /usr/bin/gobgpd -f $D/b.toml --api-hosts 127.0.0.1:50062 -p > $D/b.log 2>&1 &
sleep 3
G="ip netns exec $A /usr/bin/gobgp -p 50061"
$G global rib add 10.99.10.0/24 origin igp med 10 community 65001:100 large-community 65001:1:2
$G global rib add 10.99.11.0/26 aspath 65010,65020 local-pref 200
$G global rib -a ipv6 add 2001:db8:1::/48 nexthop fd99::1 community no-export
$G global rib -a ipv6 add 2001:db8:2::/64 nexthop fd99::1
for i in $(seq 1 30); do
  st=$(ip netns exec $B /usr/bin/gobgp -p 50062 neighbor 2>/dev/null | grep -c Establ)
  [ "$st" = 1 ] && break; sleep 1
done
echo established=$st after $i s
sleep 3
$G global rib del 10.99.11.0/26
sleep 68
ip netns exec $B /usr/bin/gobgp -p 50062 global rib
ip netns exec $B /usr/bin/gobgp -p 50062 global rib -a ipv6
ls -la $D/*.mrt
