#!/usr/bin/env bash
# Fetch the CRIU 4.1.1 upstream tarball from Debian's source archive, without
# touching the system's apt configuration (see ../shared/NOTES-runtime.md).
#
# The private deb-src list is derived from the machine's own
# /etc/apt/sources.list.d/debian.sources (first stanza), so no archive host
# is written into this project. apt verifies the file against the signed
# Sources index; the caller (nodeprep's fetch step) checks the sha256 again.
#
# usage: scripts/criu-source.sh OUTDIR    prints the tarball path on stdout
set -euo pipefail

out=${1:?usage: criu-source.sh OUTDIR}
want=criu_4.1.1.orig.tar.xz
mkdir -p "$out"
if [ -s "$out/$want" ]; then
    echo "$out/$want"
    exit 0
fi

src=/etc/apt/sources.list.d/debian.sources
[ -r "$src" ] || { echo "criu-source: cannot read '$src'" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"

# First stanza only: URIs and Signed-By; suite forced to trixie, deb-src.
awk 'BEGIN{RS=""} NR==1{print; exit}' "$src" |
    awk '/^URIs:/ || /^Signed-By:/ || /^Components:/ {print}' > "$work/stanza"
{
    echo "Types: deb-src"
    echo "Suites: trixie"
    cat "$work/stanza"
} > "$work/trixie-src.sources"

opts=(-o "Dir::Etc::sourcelist=/dev/null"
      -o "Dir::Etc::sourceparts=$work/parts"
      -o "Dir::State::Lists=$work/lists"
      -o "Dir::Cache::Archives=$work/archives"
      -o "APT::Get::List-Cleanup=0"
      -o "APT::Sandbox::User=root")
mkdir -p "$work/parts"
cp "$work/trixie-src.sources" "$work/parts/"

apt-get -qq "${opts[@]}" update >&2
(cd "$work" && apt-get -qq "${opts[@]}" source --download-only --tar-only criu >&2)
f=$(ls "$work"/criu_4.1.1.orig.tar.* 2>/dev/null | head -n1)
[ -n "$f" ] || { echo "criu-source: apt did not deliver criu 4.1.1's orig tarball" >&2; exit 1; }
mv "$f" "$out/$want.tmp"
mv "$out/$want.tmp" "$out/$want"
echo "$out/$want"
