# crharness on the real thing: CRIU 4.1.1 built from source by nodeprep's
# criu recipe (source from Debian's archive via scripts/criu-source.sh),
# then counter C/R scenarios on runc, and the failure scenarios.
. tests/integration/lib.sh
state=${NODEPREP_STATE:-/var/lib/nodeprep}

tarball=$(scripts/criu-source.sh "$state/cache") && ok "criu source fetched and hash-checked by apt" \
    || notok "criu source fetched" "scripts/criu-source.sh failed"
check "criu recipe applies (builds CRIU 4.1.1)" $NP apply --state-dir "$state" -e criu_tarball="$tarball" recipes/criu.yaml
start=$(date +%s%N)
check "criu recipe re-apply" $NP apply --state-dir "$state" -e criu_tarball="$tarball" recipes/criu.yaml
echo "# converged criu re-apply took $(( ($(date +%s%N) - start) / 1000000 )) ms"
check_grep "criu re-apply rebuilds nothing" ' 0 changed, 0 failed' "$T/.out"

CRIU=/usr/local/sbin/criu
run() { $CRH run --criu $CRIU --criu-env CRIU_FAULT=130 --work-dir "$T/work" "$@"; }

run --report json:"$T/ok.json" --report junit:"$T/ok.xml" --report tap:"$T/ok.tap" \
    counter-basic leave-running repeat migrate rootfs-changes kill-after-restore concurrent > "$T/ok.txt" 2>&1
rc=$?
cat "$T/ok.txt"
[ $rc = 0 ] && ok "real runc scenarios pass (exit 0)" || notok "real runc scenarios pass" "exit $rc"
check "json report: every scenario passed, counters went on" python3 - "$T/ok.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"] == {"passed": 7, "failed": 0}, d["summary"]
for s in d["scenarios"]:
    assert s["status"] == "passed", s
    assert s["counter_after"] > s["counter_before"] > 0, s
    assert s["checkpoint_ms"] > 0 and s["restore_ms"] > 0 and s["archive_bytes"] > 0, s
    assert "dump" in s["criu_stats"] and s["criu_stats"]["dump"]["pages_written"] > 0, s
PY
check "junit report is well-formed XML with 7 testcases" python3 -c "
import xml.etree.ElementTree as E; t=E.parse('$T/ok.xml'); assert len(t.findall('.//testcase'))==7"
check_grep "tap report" '^ok 7 - concurrent' "$T/ok.tap"

run --report json:"$T/fail.json" fail-criu-missing fail-unwritable-dir fail-corrupt-image > "$T/fail.txt" 2>&1
rc=$?
[ $rc = 1 ] && ok "failure scenarios exit 1" || notok "failure scenarios exit 1" "exit $rc"
check "failures reported with reasons" python3 - "$T/fail.json" <<'PY'
import json, sys
d = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
assert all(s["status"] == "failed" for s in d.values()), d
assert "nonexistent/criu" in d["fail-criu-missing"]["reason"], d["fail-criu-missing"]["reason"]
assert "crharness-cannot-write-here" in d["fail-unwritable-dir"]["reason"]
assert "restore" in d["fail-corrupt-image"]["reason"]
PY
check "nothing left running in runc's state" bash -c "[ -z \"\$(runc --root $T/work/runc-state list -q 2>/dev/null)\" ]"
check "no counter process left" bash -c "! pgrep -f '[c]ount.new' >/dev/null"

printf 'scenario: x\nsteps:\n  - checkpoint: { leave_runing: true }\n' > "$T/bad.yaml"
check_exit "malformed scenario is bad input" 2 $CRH run "$T/bad.yaml"
check_grep "scenario error is located" 'bad.yaml:3:19: checkpoint: unknown field .leave_runing.' "$T/.out"
check_exit "unknown backend is bad usage" 2 $CRH run --backend nope counter-basic
