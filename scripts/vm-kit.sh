#!/usr/bin/env bash
# Builds the kit for the tests that need kernel features the test machine's own kernel lacks
# (IP-in-IP: `ipip`): Debian 12's stock kernel and a small initramfs, for a QEMU guest that sees
# the host's whole filesystem read-only over 9p and runs one script of the test's.
#
#   scripts/vm-kit.sh [DIR]      (default DIR: /tmp/bgpd-vm; needs root, apt-get, qemu-system-x86,
#                                 busybox-static and cpio, which scripts/test.sh installs)
#
# DIR receives `vmlinuz` and `initrd.gz`. Nothing is installed into the host's /boot or
# /lib/modules: the kernel package is downloaded and extracted here only. The guest's /init
# (below) loads virtio, 9p, veth, bridge and ipip, mounts the host's / at /newroot (read-only), tmpfs on
# /tmp, /run and /var/tmp, the share tagged `job` (the test's own directory, read-write) on /mnt,
# then runs `/mnt/run.sh` there as root and powers off. The script's exit status is written to
# /mnt/rc; its output goes to the serial console.
set -euo pipefail

out=${1:-/tmp/bgpd-vm}
# The modules the guest loads (with their dependencies); the kit is rebuilt when this changes.
want="virtio_pci 9pnet_virtio 9p veth bridge ipip"
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ] && [ "$(cat "$out/modules" 2>/dev/null)" = "$want" ]; then
    exit 0
fi
for tool in apt-get dpkg-deb busybox cpio gzip; do
    command -v "$tool" >/dev/null || { echo "vm-kit: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d)
chmod 755 "$work" # apt-get download drops to the _apt user
trap 'rm -rf "$work"' EXIT

# The kernel package linux-image-amd64 points at (the `Depends: linux-image-<abi>-amd64` line).
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || { echo "vm-kit: no kernel package behind linux-image-amd64" >&2; exit 1; }
(cd "$work" && apt-get download -q "$pkg" >/dev/null)
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/k"
ver=$(ls "$work/k/lib/modules")
busybox depmod -b "$work/k" "$ver"

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,newroot,lib/modules/"$ver"}
cp "$(command -v busybox)" "$root/bin/busybox"
case $(ldd "$root/bin/busybox" 2>&1 || true) in
    *"not a dynamic"*) ;;
    *) echo "vm-kit: busybox must be static (Debian's busybox-static)" >&2; exit 1 ;;
esac

# The modules the guest loads, with what they depend on (modules.dep lists it).
moddir="$work/k/lib/modules/$ver"
files=""
for m in $want; do
    line=$(grep -E "/$m\.ko(\.xz)?:" "$moddir/modules.dep") \
        || { echo "vm-kit: module $m not in $pkg" >&2; exit 1; }
    files="$files ${line%%:*} ${line#*:}"
done
for f in $files; do
    mkdir -p "$root/lib/modules/$ver/$(dirname "$f")"
    cp "$moddir/$f" "$root/lib/modules/$ver/$f"
done
cp "$moddir"/modules.dep "$moddir"/modules.alias "$moddir"/modules.builtin "$root/lib/modules/$ver/"

cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $want; do
    modprobe \$m || echo "vm-init: modprobe \$m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 host /newroot \\
    || { echo "vm-init: cannot mount the host's root"; poweroff -f; }
for d in tmp run var/tmp; do
    mount -t tmpfs tmpfs /newroot/\$d
done
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job /newroot/mnt \\
    || { echo "vm-init: cannot mount the job directory"; poweroff -f; }
ip link set lo up
echo "vm-init: running /mnt/run.sh on \$(uname -r)"
chroot /newroot /bin/sh -c 'cd /mnt && /bin/sh /mnt/run.sh; echo \$? >/mnt/rc'
sync
echo "vm-init: done"
poweroff -f
EOF
chmod +x "$root/init"

mkdir -p "$out"
cp "$work/k/boot/vmlinuz-$ver" "$out/vmlinuz.new"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.gz.new"
mv "$out/vmlinuz.new" "$out/vmlinuz"
mv "$out/initrd.gz.new" "$out/initrd.gz"
echo "$want" >"$out/modules"
echo "vm-kit: $out ready (kernel $ver)"
