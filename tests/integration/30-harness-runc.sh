# crharness on the real thing: CRIU 4.1.1 built from source by nodeprep's
# criu recipe (source from Debian's archive via scripts/criu-source.sh),
# then counter C/R scenarios on runc, and the failure scenarios.
. tests/integration/lib.sh
state=${NODEPREP_STATE:-/var/lib/nodeprep}

tarball=$(scripts/criu-source.sh "$state/cache") && ok "criu source fetched and hash-checked by apt" \
    || notok "criu source fetched" "scripts/criu-source.sh failed"
check "local-cr bundle applies for real (CRIU 4.1.1 build, runtimes, preflight trial dump)" $NP apply --state-dir "$state" --source criu="$tarball" recipes/local-cr.yaml
start=$(date +%s%N)
check "local-cr re-apply" $NP apply --state-dir "$state" --source criu="$tarball" recipes/local-cr.yaml
echo "# converged criu re-apply took $(( ($(date +%s%N) - start) / 1000000 )) ms"
check_grep "local-cr re-apply rebuilds nothing" ' 0 changed, 0 failed' "$T/.out"

# CI runners run jobs in a pid namespace whose session leader is outside it;
# CRIU refuses such a tree, so the trial dumps must make their own session.
# unshare recreates that here (python closes the fds inherited from outside).
in_pidns() { python3 -c 'import subprocess, sys; sys.exit(subprocess.call(["unshare", "-p", "-f", "--mount-proc"] + sys.argv[1:]))' "$@" </dev/null; }
check "preflight trial dump works when the session leader is outside the pid namespace" in_pidns $NP apply recipes/criu-preflight.yaml
check "doctor's trial dump works there too" in_pidns $NP doctor
check_grep "doctor: the trial dump passed" "^(ok  |warn)  trial dump" "$T/.out"

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

check "junit report validates against the JUnit schema" xmllint --noout --schema tests/data/junit.xsd "$T/ok.xml"

run --report json:"$T/fail.json" --report junit:"$T/fail.xml" fail-criu-missing fail-unwritable-dir fail-corrupt-image > "$T/fail.txt" 2>&1
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
check "junit with failures validates too" xmllint --noout --schema tests/data/junit.xsd "$T/fail.xml"
check "junit failures carry the reason" python3 -c "
import xml.etree.ElementTree as E; f=E.parse('$T/fail.xml').findall('.//failure'); assert len(f)==3 and all(x.get('message') for x in f)"
check "nothing left running in runc's state" bash -c "[ -z \"\$(runc --root $T/work/runc-state list -q 2>/dev/null)\" ]"
no_counters() { [ -z "$(our_counters "$1")" ]; }
check "no counter process left" no_counters "$T/work"

printf 'scenario: x\nsteps:\n  - checkpoint: { leave_runing: true }\n' > "$T/bad.yaml"
check_exit "malformed scenario is bad input" 2 $CRH run "$T/bad.yaml"
check_grep "scenario error is located" 'bad.yaml:3:19: checkpoint: unknown field .leave_runing.' "$T/.out"
check_exit "unknown backend is bad usage" 2 $CRH run --backend nope counter-basic

# inspect: a real runc image dir from the runs above, and kubelet/CRI-O/
# Podman/containerd-CRI archives built around those real CRIU images with
# each engine's config.dump/spec.dump annotations (checkpointctl's rules).
img=$(ls -d "$T"/work/crh-*-counter-basic-0/image-1 | head -n1)
check "inspect a runc image dir" bash -c "$CRH inspect --json '$img' > $T/i1.json"
check "inspect reads CRIU's process tree and sizes" python3 - "$T/i1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["checkpoints"][0]
assert c["engine"].startswith("runc"), c
assert [p["comm"] for p in c["processes"]] == ["sh", "sleep"], c["processes"]
assert c["processes"][1]["ppid"] == c["processes"][0]["pid"] == 1
assert c["pages_bytes"] > 0 and c["checkpoint_bytes"] > c["pages_bytes"], c
assert c["files"]["checkpoint/inventory.img"] and not c["files"]["spec.dump"]
PY
stats=$(ls "$T"/work/crh-*-counter-basic-0/dump-work-1/stats-dump | head -n1)
python3 - "$img" "$stats" "$T" <<'PY'
import io, json, os, sys, tarfile
img, stats, out = sys.argv[1:]
engines = {
  "crio": ({"io.kubernetes.cri-o.ContainerName": "k8s_counter", "io.kubernetes.container.name": "counter",
            "io.kubernetes.pod.name": "counter-pod", "io.kubernetes.pod.namespace": "default"}, "w"),
  "podman": ({"io.container.manager": "libpod"}, "w:gz"),
  "containerd": ({"io.kubernetes.cri.container-name": "counter", "io.kubernetes.cri.sandbox-name": "counter-pod",
                  "io.kubernetes.cri.sandbox-namespace": "default"}, "w"),
}
for name, (ann, mode) in engines.items():
    with tarfile.open(os.path.join(out, name + ".tar"), mode) as t:
        def add(n, data):
            ti = tarfile.TarInfo(n); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
        add("spec.dump", json.dumps({"ociVersion": "1.0.2", "annotations": ann}).encode())
        add("config.dump", json.dumps({"id": "4f3c" + name, "name": "counter", "rootfsImageName":
            "docker.io/library/counter:latest", "OCIRuntime": "runc", "createdTime": "2026-11-22T10:00:00Z",
            "checkpointedTime": "2026-11-22T10:01:00+08:00"}).encode())
        add("rootfs-diff.tar", b"\0" * 10240)
        add("stats-dump", open(stats, "rb").read())
        for f in sorted(os.listdir(img)):
            t.add(os.path.join(img, f), "checkpoint/" + f)
with open(os.path.join(out, "not-a-checkpoint.tar"), "wb") as f:
    with tarfile.open(fileobj=f, mode="w") as t:
        ti = tarfile.TarInfo("hello.txt"); ti.size = 2; t.addfile(ti, io.BytesIO(b"hi"))
PY
check "inspect kubelet-style archives of three engines" bash -c "$CRH inspect --json $T/crio.tar $T/podman.tar $T/containerd.tar > $T/i2.json"
check "engines detected from spec.dump, fields from config.dump" python3 - "$T/i2.json" <<'PY'
import json, sys
cs = json.load(open(sys.argv[1]))["checkpoints"]
assert [c["engine"] for c in cs] == ["CRI-O", "Podman", "containerd"], [c["engine"] for c in cs]
for c in cs:
    assert c["name"] == "counter" and c["runtime"] == "runc" and c["image"].endswith("counter:latest"), c
    assert c["rootfs_diff_bytes"] == 10240 and c["files"]["spec.dump"] and c["files"]["config.dump"], c
    assert c["criu_stats"]["dump"]["pages_written"] > 0, c
    assert c["checkpointed"] == "2026-11-22T10:01:00+08:00"
assert cs[0]["pod"] == "counter-pod" and cs[0]["namespace"] == "default"
assert cs[2]["pod"] == "counter-pod"
PY
check_exit "inspect refuses a tar that is not a checkpoint" 2 $CRH inspect "$T/not-a-checkpoint.tar"
check_grep "and says why" "not a container checkpoint: no checkpoint/inventory.img" "$T/.out"
check_exit "inspect of a missing path" 1 $CRH inspect "$T/nope.tar"
head -c 3000 "$T/crio.tar" > "$T/truncated.tar"
check_exit "inspect of a truncated archive is an error" 2 $CRH inspect "$T/truncated.tar"
