# crharness on real containerd: the counter image made by `crharness image`,
# a private containerd started and stopped by the harness, the same counter
# C/R scenarios as on runc, the failure scenarios, and no leftovers.
# Needs CRIU 4.1.1 (installed by 30-harness-runc.sh).
. tests/integration/lib.sh
CRIU=/usr/local/sbin/criu

# The image archive: deterministic, a valid OCI layout (digests and sizes
# match), named for containerd, docker-style manifest.json beside it.
check "image counter writes an archive" $CRH image counter -o "$T/a.tar"
check "image counter is deterministic" bash -c "$CRH image counter -o $T/b.tar && cmp $T/a.tar $T/b.tar"
check "image archive is a consistent OCI layout" python3 - "$T/a.tar" <<'PY'
import hashlib, json, sys, tarfile
t = tarfile.open(sys.argv[1])
blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":")[1]).read()
def desc_ok(d):
    b = blob(d["digest"])
    assert len(b) == d["size"] and "sha256:" + hashlib.sha256(b).hexdigest() == d["digest"], d
    return b
assert json.load(t.extractfile("oci-layout"))["imageLayoutVersion"] == "1.0.0"
idx = json.load(t.extractfile("index.json"))
m = idx["manifests"][0]
assert m["annotations"]["io.containerd.image.name"] == "docker.io/library/counter:latest", m
man = json.loads(desc_ok(m))
cfg = json.loads(desc_ok(man["config"]))
layer = desc_ok(man["layers"][0])
assert cfg["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
assert cfg["config"]["Cmd"][:2] == ["/bin/sh", "-c"] and "/tmp/count" in cfg["config"]["Cmd"][2]
import io
names = tarfile.open(fileobj=io.BytesIO(layer)).getnames()
assert "bin/busybox" in names and "bin/sh" in names, names
dm = json.load(t.extractfile("manifest.json"))
assert dm[0]["RepoTags"] == ["docker.io/library/counter:latest"]
PY
check_exit "image without -o is bad usage" 2 $CRH image counter
check_exit "unknown image is bad usage" 2 $CRH image nope -o "$T/x.tar"
check_exit "unwritable output fails" 1 $CRH image counter -o /proc/nope/x.tar

# Debian's containerd 1.6 and runc 1.1.5 by path: a built containerd 2.x may
# be first in PATH (the k8s node recipes install one in /usr/local/bin)
run() { $CRH run --backend containerd --containerd-bin /usr/bin/containerd --runtime /usr/sbin/runc \
        --criu $CRIU --criu-env CRIU_FAULT=130 --work-dir "$T/work" "$@"; }

run --report json:"$T/ok.json" counter-basic leave-running repeat migrate rootfs-changes \
    kill-after-restore > "$T/ok.txt" 2>&1
rc=$?
cat "$T/ok.txt"
[ $rc = 0 ] && ok "real containerd scenarios pass (exit 0)" || notok "real containerd scenarios pass" "exit $rc"
check "containerd json: every scenario passed, counters went on" python3 - "$T/ok.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"] == {"passed": 6, "failed": 0}, d["summary"]
for s in d["scenarios"]:
    assert s["status"] == "passed" and s["backend"] == "containerd", s
    assert s["counter_after"] > s["counter_before"] > 0, s
    assert s["checkpoint_ms"] > 0 and s["restore_ms"] > 0 and s["archive_bytes"] > 0, s
PY

run --report json:"$T/fail.json" fail-criu-missing fail-unwritable-dir fail-corrupt-image > "$T/fail.txt" 2>&1
rc=$?
[ $rc = 1 ] && ok "containerd failure scenarios exit 1" || notok "containerd failure scenarios exit 1" "exit $rc"
check "containerd failures reported with reasons" python3 - "$T/fail.json" <<'PY'
import json, sys
d = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
assert all(s["status"] == "failed" for s in d.values()), d
assert "nonexistent/criu" in d["fail-criu-missing"]["reason"], d["fail-criu-missing"]["reason"]
assert "crharness-cannot-write-here" in d["fail-unwritable-dir"]["reason"]
assert "restore failed" in d["fail-corrupt-image"]["reason"], d["fail-corrupt-image"]["reason"]
PY
none_left() { ! pgrep -af "$T/work/containerd" && [ -z "$(our_counters "$T/work")" ]; }
check "no containerd, shim or counter left" none_left
check "no mount left under the work dir" bash -c "! grep -q '$T/work' /proc/mounts"

# inspect on the real exported containerd checkpoint (kept in the work dir)
tar=$(ls "$T"/work/crh-*-counter-basic-0/checkpoint-1.tar | head -n1)
check "inspect a ctr checkpoint export" bash -c "$CRH inspect --json '$tar' > $T/i1.json"
check "ctr checkpoint: engine, runtime, CRIU images, rw layer" python3 - "$T/i1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["checkpoints"][0]
assert c["engine"].startswith("containerd") and c["runtime"] == "io.containerd.runc.v2", c
assert [p["comm"] for p in c["processes"]] == ["sh", "sleep"], c["processes"]
assert c["files"]["checkpoint/inventory.img"] and c["rootfs_diff_bytes"] > 0, c
PY
