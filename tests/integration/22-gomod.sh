# --source NAME=gomod:MODULE@VERSION: a git step's source taken from the Go
# module proxy with the real go command (a small served module, so this
# costs well under a second once it is in the shared cache); pins, a module
# that is not served, a missing go command, and a module cache altered
# after the go command checked it.
. tests/integration/lib.sh
R=$T/root; S=$T/state; mkdir -p "$R"
export GOMODCACHE=${GOMODCACHE:-/var/lib/nodeprep/cache/go/mod}
MOD=github.com/google/uuid@v1.6.0
SUM=h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=
SUMRE=${SUM//+/\\+}   # for grep -E
recipe() { # FILE [PIN]
    printf 'recipe: src\nsteps:\n  - name: uuid source\n    git: { name: uuid, repo: "https://example.invalid/uuid.git", ref: v1.6.0, dest: /opt/src/uuid%s }\n' \
        "${2:+, gomod_sum: \"$2\"}" > "$1"; }
np() { $NP "$@" --root "$R" --state-dir "$S"; }
recipe "$T/r.yaml"; recipe "$T/pinned.yaml" "$SUM"; recipe "$T/badpin.yaml" "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

check "gomod: plan" np plan --source uuid=gomod:$MOD "$T/r.yaml"
check_grep "gomod: plan prints the module's h1: hash" "$MOD $SUMRE" "$T/.out"
check "gomod: plan changes nothing" test ! -e "$R/opt/src/uuid"
check "gomod: apply" np apply --source uuid=gomod:$MOD "$T/pinned.yaml"
check "gomod: the module's files are in dest" test -f "$R/opt/src/uuid/uuid.go"
check_grep "gomod: the marker names module and hash" "^gomod $MOD $SUMRE\$" "$R/opt/src/uuid/.nodeprep-gomod"
check "gomod: files are writable (builds may write beside them)" test -w "$R/opt/src/uuid/go.mod"
check "gomod: re-apply" np apply --source uuid=gomod:$MOD "$T/pinned.yaml"
check_grep "gomod: converged" "0 changed, 0 failed" "$T/.out"
check "gomod: rollback removes the tree" $NP rollback --root "$R" --state-dir "$S"
check "gomod: rolled back" test ! -e "$R/opt/src/uuid"

check_exit "gomod: a pin mismatch is refused" 1 np apply --source uuid=gomod:$MOD "$T/badpin.yaml"
check_grep "gomod: and names both hashes" "has $SUMRE, the recipe pins gomod_sum h1:AAAA" "$T/.out"
check "gomod: nothing was written" test ! -e "$R/opt/src/uuid"
printf 'recipe: x\nsteps:\n  - git: { repo: r, ref: v1, dest: /d, gomod_sum: "sha256:00" }\n' > "$T/badsum.yaml"
check_exit "gomod: a gomod_sum that is no h1: hash is bad input" 2 $NP validate "$T/badsum.yaml"
check_grep "gomod: with file:line:col" "badsum.yaml:3:[0-9]+: error: .*gomod_sum" "$T/.out"

check_exit "gomod: a version that is not served fails" 1 np apply --source uuid=gomod:github.com/google/uuid@v9.9.9 "$T/r.yaml"
check_grep "gomod: naming module@version and the go command's reason" "github.com/google/uuid@v9.9.9 is not served: .*v9\.9\.9" "$T/.out"
check_exit "gomod: a source without @VERSION is refused" 1 np apply --source uuid=gomod:github.com/google/uuid "$T/r.yaml"
check_grep "gomod: saying so" "must be MODULE@VERSION" "$T/.out"
check_exit "gomod: no go command" 1 env NODEPREP_GO=/nonexistent/go $NP apply --root "$R" --state-dir "$S" --source uuid=gomod:$MOD "$T/r.yaml"
check_grep "gomod: names the go-toolchain recipe" "go-toolchain" "$T/.out"

# a module cache altered after the go command verified it: nodeprep hashes
# the zip it unpacks, so the change is caught
C=$T/modcache; mkdir -p "$C/cache/download"
cp -a "$GOMODCACHE/cache/download/github.com" "$C/cache/download/" 2>/dev/null || :
GOMODCACHE=$C go mod download $MOD >/dev/null 2>&1
z=$C/cache/download/github.com/google/uuid/@v/v1.6.0.zip
chmod u+w "$z" "$(dirname "$z")"
python3 - "$z" <<'PY'
import sys, zipfile
src = sys.argv[1]; data = {}
with zipfile.ZipFile(src) as z:
    for n in z.namelist(): data[n] = z.read(n)
data["github.com/google/uuid@v1.6.0/uuid.go"] += b"\n// altered\n"
with zipfile.ZipFile(src, "w") as z:
    for n, b in data.items(): z.writestr(n, b)
PY
check_exit "gomod: an altered module zip is refused" 1 env GOMODCACHE=$C $NP apply --root "$R" --state-dir "$S" --source uuid=gomod:$MOD "$T/r.yaml"
check_grep "gomod: saying the cache was altered" "hashes to h1:.*not $SUMRE.*altered" "$T/.out"
check "gomod: and nothing was written" test ! -e "$R/opt/src/uuid"
chmod -R u+w "$C"

# over SSH: the module is downloaded and checked here and the clean tree is
# pushed to the node (a real sshd on loopback; dest is a path of this test)
. tests/helpers/sshd.sh
start_sshd "$T/sshd"; trap 'stop_sshd; rm -rf "$T"' EXIT
printf 'recipe: src\nsteps:\n  - name: uuid source\n    git: { name: uuid, repo: "https://example.invalid/uuid.git", ref: v1.6.0, dest: %s/node/uuid, gomod_sum: "%s" }\n' \
    "$T" "$SUM" > "$T/remote.yaml"
rem() { $NP apply --host "root@127.0.0.1:$SSHD_PORT" -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
        --state-dir "$T/st-remote" --source uuid=gomod:$MOD "$T/remote.yaml"; }
check "gomod over SSH: apply" rem
check "gomod over SSH: the tree is on the node" test -f "$T/node/uuid/uuid.go"
check_grep "gomod over SSH: with its marker" "^gomod $MOD $SUMRE\$" "$T/node/uuid/.nodeprep-gomod"
check "gomod over SSH: re-apply" rem
check_grep "gomod over SSH: converged" "0 changed, 0 failed" "$T/.out"
