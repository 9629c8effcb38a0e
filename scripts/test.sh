#!/usr/bin/env bash
# The project's one test command (README "Run the tests"; `.ci/run` calls it too).
#
# On a fresh Debian 12 machine with Rust it installs what is missing when run as root (the real
# peers for the interop tests: bird2, frr, gobgpd; iproute2, tcpdump, tshark; qemu-system-x86,
# busybox-static and cpio for the QEMU guest kit of scripts/vm-kit.sh, Debian's kernel with ipip
# for the IP-in-IP packet-path test; cargo-fuzz), then builds the fuzz targets and runs every test
# of the workspace. BIRD 1.6.8 is extracted (not installed) to /tmp/bird16 for the control-socket
# comparison test. Not as root, it installs nothing and the namespace tests skip themselves with a
# printed reason.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    need=()
    for p in bird2 frr gobgpd iproute2 tcpdump tshark valgrind qemu-system-x86 busybox-static cpio; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        echo "test.sh: installing ${need[*]}"
        # Keep the packages' services from starting: they would hold port 179 in the root
        # namespace. The tests start every peer themselves, inside their own namespaces.
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
        fi
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
    fi
    # BIRD 1.6.8 (Debian's `bird`, the generation Calico ships) for the control-socket comparison
    # test: extracted to /tmp/bird16, never installed (it would conflict with bird2).
    if [ ! -x /tmp/bird16/usr/sbin/bird ]; then
        dl=$(mktemp -d)
        if (cd "$dl" && apt-get download -q bird >/dev/null 2>&1); then
            dpkg-deb -x "$dl"/bird_*.deb /tmp/bird16
        else
            echo "test.sh: could not download Debian's bird (1.6.8); the BIRD 1.6 comparison test will skip"
        fi
        rm -rf "$dl"
    fi
    # Debian's stock kernel and an initramfs for the QEMU guest of the IP-in-IP test (this
    # machine's kernel has no ipip): downloaded and extracted to /tmp/bgpd-vm, never installed.
    scripts/vm-kit.sh /tmp/bgpd-vm
fi

# The fuzz targets are built (not run) here; README "Fuzzing" says how to run them.
if [ -d bgp-proto/fuzz ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "test.sh: installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
    (cd bgp-proto && cargo +nightly fuzz build -O)
else
    echo "test.sh: skipping the fuzz build (no nightly toolchain or no fuzz/ directory)"
fi

cargo test --workspace --all-targets
cargo test --workspace --doc
