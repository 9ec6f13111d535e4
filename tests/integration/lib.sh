# Helpers for integration tests: each check appends "ok - NAME" or
# "not ok - NAME" to $RESULTS and echoes it; the runner counts them.
NP=${NP:-bin/nodeprep}
CRH=${CRH:-bin/crharness}
T=$(mktemp -d /tmp/np-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok()   { echo "ok - $1" | tee -a "$RESULTS"; }
notok() { echo "not ok - $1" | tee -a "$RESULTS"; [ -n "${2:-}" ] && echo "#   $2"; }
# check NAME CMD...: passes when CMD succeeds
check() { local n=$1; shift; if "$@" >"$T/.out" 2>&1; then ok "$n"; else notok "$n" "$(tail -n 5 "$T/.out")"; fi; }
# check_fails NAME CODE CMD...: passes when CMD exits with CODE
check_exit() { local n=$1 want=$2; shift 2; "$@" >"$T/.out" 2>&1; local rc=$?
    if [ "$rc" = "$want" ]; then ok "$n"; else notok "$n" "exit $rc, wanted $want: $(tail -n 3 "$T/.out")"; fi; }
# check_grep NAME PATTERN FILE
check_grep() { if grep -qE -- "$2" "$3"; then ok "$1"; else notok "$1" "no /$2/ in $(head -c 400 "$3")"; fi; }
# Counter processes of the containers this test's runs made (their lane
# dirs, crh-*, are under $1), found by the container id in their cgroup
# path: other runs on this machine have counters too, never touch those.
our_counters() {
    local ids p
    ids=$(cd "$1" 2>/dev/null && ls -d crh-* 2>/dev/null | paste -sd'|')
    [ -n "$ids" ] || return 0
    for p in $(pgrep -f 'count[.]new'); do
        grep -qE "/($ids)(-[^/]*)?\$" "/proc/$p/cgroup" 2>/dev/null && echo "$p"
    done
}
# criu processes started for this test's runs: children of a runtime whose
# command line names the test's work dir $1
our_criu() {
    local p pp
    for p in $(pgrep -x criu); do
        pp=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')
        [ -n "$pp" ] && tr '\0' ' ' < "/proc/$pp/cmdline" 2>/dev/null | grep -qF "$1" && echo "$p"
    done
}
