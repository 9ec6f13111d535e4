# crharness on real Docker (Debian's docker.io, dockerd 20.10) through the
# Engine API: private experimental daemons started and stopped by the
# harness (a second one for migrate-node), the counter image loaded from
# `crharness image`, every counter scenario and the failure scenarios, and
# nothing left afterwards. Then recipes/docker-cr.yaml for real against a
# daemon this test starts as "the machine's engine" (never the host's own):
# json_set turns experimental on in its daemon.json (other keys kept), the
# recipe restarts it and runs its trial checkpoint; crharness then uses
# that running engine through --docker-host. Needs CRIU 4.1.1 (30-*.sh).
. tests/integration/lib.sh
CRIU=/usr/local/sbin/criu
t0=$(date +%s)

run() { $CRH run --backend docker --work-dir "$T/work" "$@"; }

run --criu $CRIU --criu-env CRIU_FAULT=130 --report json:"$T/ok.json" --report junit:"$T/ok.xml" \
    --report html:"$T/ok.html" --report table:- counter-basic leave-running repeat migrate migrate-node \
    rootfs-changes kill-after-restore concurrent > "$T/ok.txt" 2>&1
rc=$?
cat "$T/ok.txt"
[ $rc = 0 ] && ok "real docker scenarios pass (exit 0)" || notok "real docker scenarios pass" "exit $rc"
check "docker json: every scenario passed, counters went on" python3 - "$T/ok.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"] == {"passed": 8, "failed": 0}, d["summary"]
for s in d["scenarios"]:
    assert s["status"] == "passed" and s["backend"] == "docker", s
    assert s["counter_after"] > s["counter_before"] > 0, s
    assert s["checkpoint_ms"] > 0 and s["restore_ms"] > 0 and s["archive_bytes"] > 0, s
PY
check "docker junit is valid" xmllint --noout --schema tests/data/junit.xsd "$T/ok.xml"
check "docker html report is XHTML" xmllint --noout "$T/ok.html"

run --criu $CRIU --criu-env CRIU_FAULT=130 --report json:"$T/fail.json" \
    fail-criu-missing fail-unwritable-dir fail-corrupt-image > "$T/fail.txt" 2>&1
rc=$?
[ $rc = 1 ] && ok "docker failure scenarios exit 1" || notok "docker failure scenarios exit 1" "exit $rc"
check "docker failures reported with the engine's reasons" python3 - "$T/fail.json" <<'PY'
import json, sys
d = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
assert all(s["status"] == "failed" for s in d.values()), d
assert "nonexistent/criu" in d["fail-criu-missing"]["reason"], d["fail-criu-missing"]["reason"]
assert "crharness-cannot-write-here" in d["fail-unwritable-dir"]["reason"]
assert "restore failed" in d["fail-corrupt-image"]["reason"] and "criu failed" in d["fail-corrupt-image"]["reason"], d["fail-corrupt-image"]["reason"]
PY
none_left() { ! pgrep -af "$T/work"; }
check "no dockerd, containerd, shim or counter left" none_left
check "no mount left under the work dir" bash -c "! grep -q '$T/work' /proc/mounts"

# inspect reads the exported checkpoint dir of a docker run
ck=$(ls -d "$T"/work/crh-*-counter-basic-0/checkpoints/ck1 | head -n1)
check "inspect a docker checkpoint dir" bash -c "$CRH inspect --json '$ck' > $T/i.json"
check "docker checkpoint: the counter's processes" python3 - "$T/i.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["checkpoints"][0]
assert [p["comm"] for p in c["processes"]] == ["sh", "sleep"], c["processes"]
PY

# "The machine's engine": a daemon of this test, not experimental yet, whose
# daemon.json has keys of its own. The recipe may restart only it.
D="$T/engine"; R="$T/root"; mkdir -p "$D" "$R/etc/docker"
printf '{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}\n' > "$R/etc/docker/daemon.json"
# its own containerd: dockerd 20.10 would take /run/containerd/containerd.sock if it exists
printf 'version = 2\nroot = "%s/c/root"\nstate = "%s/c/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
    "$D" "$D" "$D" "$D" > "$D/containerd.toml"
CRIU_FAULT=130 setsid containerd --config "$D/containerd.toml" > "$D/containerd.log" 2>&1 < /dev/null &
echo $! > "$D/containerd.pid"
for _ in $(seq 100); do [ -S "$D/c.sock" ] && break; sleep 0.1; done
cat > "$D/start" <<SH
#!/bin/sh
# (re)start the test's engine; its pid file says which one is ours
[ -f $D/docker.pid ] && kill \$(cat $D/docker.pid) 2>/dev/null
i=0; while [ -f $D/docker.pid ] && [ \$i -lt 150 ]; do sleep 0.1; i=\$((i+1)); done
CRIU_FAULT=130 setsid dockerd --config-file $R/etc/docker/daemon.json --data-root $D/data \
    --exec-root $D/exec -H unix://$D/docker.sock --pidfile $D/docker.pid --containerd $D/c.sock \
    --bridge=none --iptables=false --ip-masq=false >> $D/log 2>&1 < /dev/null &
i=0; until curl -sf --unix-socket $D/docker.sock http://d/_ping >/dev/null; do
    sleep 0.1; i=\$((i+1)); [ \$i -gt 300 ] && exit 1; done
exit 0
SH
chmod +x "$D/start"
stop_engine() {
    [ -f "$D/docker.pid" ] && kill "$(cat "$D/docker.pid")" 2>/dev/null
    for _ in $(seq 150); do [ -f "$D/docker.pid" ] || break; sleep 0.1; done
    [ -f "$D/containerd.pid" ] && kill "$(cat "$D/containerd.pid")" 2>/dev/null && sleep 1
    for p in $(pgrep -f "containerd-shim.*-address $D/c.sock"); do kill -9 "$p"; done
    grep -o " $D[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
trap 'stop_engine; rm -rf "$T"' EXIT
check "test engine starts (not experimental)" "$D/start"
export DOCKER_HOST=unix://$D/docker.sock
check_exit "a non-experimental engine is refused" 1 $CRH run --backend docker --work-dir "$T/w2" counter-basic
check_grep "refusal names experimental mode and the recipe" "not in experimental mode.*docker-cr.yaml" "$T/.out"
check_exit "--criu with a running engine is refused" 1 $CRH run --backend docker --criu $CRIU --work-dir "$T/w2" counter-basic
check_grep "--criu refusal says why" "needs a private daemon" "$T/.out"

np() { $NP apply --root "$R" --state-dir "$T/state" -e install_packages=false -e docker_host="$DOCKER_HOST" \
      -e docker_restart="$D/start" recipes/docker-cr.yaml; }
check "docker-cr applies for real (experimental on, engine restarted, trial checkpoint)" np
check "docker-cr: the engine was restarted into experimental mode" bash -c \
    "curl -sf --unix-socket '$D/docker.sock' http://d/v1.41/info | grep -q '\"ExperimentalBuild\":true'"
check "docker-cr: experimental on, the other keys kept" python3 - "$R/etc/docker/daemon.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}, "experimental": True}, d
PY
check "docker-cr: re-apply" np
check_grep "docker-cr: converged (no restart)" " 0 changed, 0 failed" "$T/.out"
check "the engine's trial left nothing" bash -c "[ -z \"\$(docker ps -aq)\" ] && ! docker images | grep -q crtrial"

# crharness on that running engine (DOCKER_HOST), no private daemon
$CRH run --backend docker --work-dir "$T/w3" --report json:"$T/eng.json" counter-basic leave-running > "$T/eng.txt" 2>&1
rc=$?
[ $rc = 0 ] && ok "scenarios on a running engine via DOCKER_HOST" || notok "scenarios on a running engine via DOCKER_HOST" "exit $rc: $(tail -n 5 "$T/eng.txt")"
check "nothing of the run left on the engine (containers, image)" bash -c \
    "[ -z \"\$(docker ps -aq --filter label=crharness.run)\" ] && ! docker images | grep -q crharness-counter"
check "the engine itself was not stopped" curl -sf --unix-socket "$D/docker.sock" http://d/_ping
stop_engine
echo "# 46-harness-docker took $(( $(date +%s) - t0 )) s"
