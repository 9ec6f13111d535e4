# Memory safety in every CI run, on a part of the suite (the whole of it
# under ASan is `make asan`, which doubles the run): an ASan+UBSan build runs
# the unit suites and the nodeprep, service daemon, runc harness, inspect/list/diff/memsearch,
# SSH (with --persist's ssh-master) and kubelet integration tests; valgrind memcheck runs the unit suites, a plan/apply/rollback and a
# runc scenario with the normal build. Any sanitizer report, or a leak
# valgrind calls "definitely lost", fails a check.
. tests/integration/lib.sh
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS=suppressions=$PWD/tests/data/lsan.supp
A=build-asan/bin

check "asan+ubsan build" make -s -j"$(nproc)" asan-build
check "asan: unit suites" bash -c "build-asan/unit-tests 2>&1 | tee $T/unit.log | tail -n1 | grep -q '100%'"
check "asan: unit suites print no sanitizer report" bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $T/unit.log"

# the integration tests, with the sanitized binaries; their checks count here, prefixed
inner() { # NAME SCRIPT
    local res=$T/inner-$1
    : > "$res"
    RESULTS=$res NP=$A/nodeprep CRH=$A/crharness bash "$2" > "$T/$1.log" 2>&1
    sed "s/^ok - /ok - $1: /; s/^not ok - /not ok - $1: /" "$res" >> "$RESULTS"
    grep -A6 '^not ok' "$T/$1.log" | head -n30   # the inner run's reasons, for the log
    check "$1: no sanitizer report" bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $T/$1.log"
}
inner asan-nodeprep tests/integration/10-nodeprep.sh
inner asan-daemon tests/integration/12-service-daemon.sh   # daemons without systemd, rollback stopping them
inner asan-runc tests/integration/30-harness-runc.sh
inner asan-inspect tests/integration/55-inspect-more.sh   # CRIU image decoders on real and hand-made images
inner asan-ssh tests/integration/60-ssh.sh
inner asan-ssh-batch tests/integration/61-ssh-batch.sh
# --persist (~10 s): an ssh-master's stderr is /dev/null once it serves, so
# every process of this one writes its sanitizer reports to files instead
mkdir -p "$T/mux-reports"
ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$T/mux-reports/asan UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$T/mux-reports/ubsan \
    inner asan-ssh-persist tests/integration/63-ssh-persist.sh
check "asan-ssh-persist: no sanitizer report from any process, the masters included" \
    bash -c "[ -z \"\$(ls -A $T/mux-reports)\" ] || { head -n 40 $T/mux-reports/*; false; }"
inner asan-kubelet tests/integration/90-kubelet.sh

VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --trace-children=no"
check "valgrind: unit suites" env CK_FORK=no $VG "${BUILD:-build}/unit-tests"
cp -a tests/data/fixture-root "$T/vg"
R=tests/data/recipes/node-cr.yaml
check "valgrind: plan" $VG $NP plan --root "$T/vg" --state-dir "$T/vgst" $R
check "valgrind: apply" $VG $NP apply --root "$T/vg" --state-dir "$T/vgst" $R
check "valgrind: rollback" $VG $NP rollback --root "$T/vg" --state-dir "$T/vgst"
check "valgrind: rollback is still byte exact" diff -r tests/data/fixture-root "$T/vg"
check "valgrind: crharness runc scenarios" $VG $CRH run --criu /usr/local/sbin/criu --criu-env CRIU_FAULT=130 \
    --work-dir "$T/vgw" --report json:"$T/vg.json" counter-basic leave-running
check "valgrind: and they passed" python3 -c "import json; assert all(s['status']=='passed' for s in json.load(open('$T/vg.json'))['scenarios'])"
