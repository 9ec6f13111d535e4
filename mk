#!/usr/bin/env bash
# ./mk TARGET: install what the build and tests need (Debian/Ubuntu, as
# root, only what is missing), then run `make TARGET`.
#   ./mk run     the main job: build, prepare this host, run C/R scenarios
#   ./mk check   every test (what .ci/run runs)
set -euo pipefail
cd "$(dirname "$0")"

pkgs=(build-essential pkg-config diffutils python3 ca-certificates
      libyaml-dev libcurl4-openssl-dev libgit2-dev libarchive-dev libssh2-1-dev
      libjansson-dev libssl-dev check
      runc containerd busybox-static iptables xz-utils procps util-linux
      git openssl libxml2-utils chromium openssh-server openssh-client sudo
      vagrant curl clang libclang-rt-14-dev valgrind strace cppcheck docker.io debootstrap patch libcap2-bin
      iproute2)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "mk: missing packages: ${missing[*]}; run as root to install them" >&2
        exit 2
    fi
    echo "mk: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
exec make -j"$(nproc)" "${@:-all}"
