# runc 1.2.5 and containerd 2.x built for real from the Go module proxy by
# nodeprep (recipes/runc-criu.yaml, recipes/containerd-fork.yaml), then the
# counter scenarios on each with crharness --runtime / --containerd-bin.
# The go command's caches and the build fingerprints live in the default
# state dir's cache (/var/lib/nodeprep/cache), so only the first run on a
# machine compiles; a re-apply must rebuild nothing.
. tests/integration/lib.sh
RUNC_DEST=${RUNC_DEST:-/usr/local/sbin/runc-criu}
CTRD_PREFIX=${CTRD_PREFIX:-/opt/containerd-2}
RUNC_MOD=github.com/opencontainers/runc@v1.2.5
CTRD_MOD=github.com/containerd/containerd/v2@v2.2.9
export GOMODCACHE=/var/lib/nodeprep/cache/go/mod

t0=$(date +%s)
check "runc 1.2.5 from the module proxy: apply (build, install, trial C/R)" \
    $NP apply --source runc=gomod:$RUNC_MOD -e runc_dest=$RUNC_DEST recipes/runc-criu.yaml
echo "# runc apply took $(( $(date +%s) - t0 )) s"
check_grep "runc: the module's h1: hash is printed" "$RUNC_MOD h1:" "$T/.out"
check_grep "runc: the trial checkpoint/restore passed" "ok +a trial checkpoint and restore" "$T/.out"
check_grep "runc: reports 1.2.5" "runc version 1.2.5" <("$RUNC_DEST" --version)
check "runc: built with seccomp" bash -c "$RUNC_DEST --version | grep -q 'libseccomp'"
check "runc: re-apply" $NP apply --source runc=gomod:$RUNC_MOD -e runc_dest=$RUNC_DEST recipes/runc-criu.yaml
check_grep "runc: converged, 0 changed" " 0 changed, 0 failed" "$T/.out"
check_grep "runc: and nothing rebuilt" "ok +build runc" "$T/.out"

t0=$(date +%s)
check "containerd 2.x from the module proxy: apply" \
    $NP apply --source containerd=gomod:$CTRD_MOD -e containerd_prefix=$CTRD_PREFIX recipes/containerd-fork.yaml
echo "# containerd apply took $(( $(date +%s) - t0 )) s"
check_grep "containerd: reports v2.2.9" "containerd .* v2\.2\.9" <("$CTRD_PREFIX/bin/containerd" --version)
check "containerd: shim and ctr beside it" test -x "$CTRD_PREFIX/bin/containerd-shim-runc-v2" -a -x "$CTRD_PREFIX/bin/ctr"
check "containerd: re-apply" $NP apply --source containerd=gomod:$CTRD_MOD -e containerd_prefix=$CTRD_PREFIX recipes/containerd-fork.yaml
check_grep "containerd: converged, 0 changed" " 0 changed, 0 failed" "$T/.out"
check_grep "containerd: and nothing rebuilt" "ok +build containerd" "$T/.out"

SC="counter-basic leave-running repeat migrate rootfs-changes"
CR="--criu /usr/local/sbin/criu --criu-env CRIU_FAULT=130"
check "scenarios on runc 1.2.5" $CRH run --backend runc --runtime "$RUNC_DEST" $CR \
    --work-dir "$T/w1" --report json:"$T/runc.json" --report junit:"$T/runc.xml" $SC
check "scenarios on containerd 2.2.9 (with runc 1.2.5)" $CRH run --backend containerd \
    --containerd-bin "$CTRD_PREFIX/bin/containerd" --runtime "$RUNC_DEST" $CR \
    --work-dir "$T/w2" --report json:"$T/ctrd.json" --report html:"$T/ctrd.html" $SC
check "every result passed, names its runtime, and the counter went on" python3 - "$T/runc.json" "$T/ctrd.json" <<'PY'
import json, sys
for path, want in zip(sys.argv[1:], ("runc 1.2.5", "containerd v2.2.9")):
    s = json.load(open(path))["scenarios"]
    assert len(s) == 5, s
    for r in s:
        assert r["status"] == "passed", r
        assert r["runtime"] == want, (r["runtime"], want)
        assert r["counter_after"] > r["counter_before"] > 0, r
PY
check_grep "junit names the runtime in each test case" 'name="counter-basic \[runc 1.2.5\]"' "$T/runc.xml"
check_grep "html names the runtime" "containerd v2.2.9" "$T/ctrd.html"
check "no runc container, shim or daemon of the runs left" bash -c \
    "! pgrep -f '$T/w[12]' >/dev/null"

# a containerd 2.2.9 the test runs as somebody else's daemon (--containerd-socket):
# crharness creates in its namespace only, removes it all, and says nothing is left
# (containerd 2.2 warns about cgroup v1 on ctr's stderr: that is not output)
mkdir -p "$T/ext"
printf 'version = 3\nroot = "%s/ext/root"\nstate = "%s/ext/state"\n[grpc]\n  address = "%s/ext/c.sock"\n' \
    "$T" "$T" "$T" > "$T/ext/config.toml"
PATH="$CTRD_PREFIX/bin:$PATH" setsid "$CTRD_PREFIX/bin/containerd" --config "$T/ext/config.toml" \
    > "$T/ext/log" 2>&1 &
EXT=$!
for _ in $(seq 50); do [ -S "$T/ext/c.sock" ] && break; sleep 0.1; done
check "an external containerd 2.2.9: counter-basic and migrate" env PATH="$CTRD_PREFIX/bin:$PATH" \
    $CRH run --backend containerd --containerd-socket "$T/ext/c.sock" --runtime "$RUNC_DEST" $CR \
    --work-dir "$T/w3" --run-dir "$T/ext/run" --report json:"$T/ext.json" counter-basic migrate
cp "$T/.out" "$T/ext.out"
check "external containerd: both passed" python3 -c "
import json; s = json.load(open('$T/ext.json'))['scenarios']
assert [r['status'] for r in s] == ['passed', 'passed'], s"
check "external containerd: nothing reported left" bash -c "! grep -E 'could not remove|left ' '$T/ext.out'"
ctr_ext() { "$CTRD_PREFIX/bin/ctr" --address "$T/ext/c.sock" --namespace crharness "$@" 2>/dev/null; }
{ ctr_ext containers ls -q; ctr_ext tasks ls -q; ctr_ext images ls -q | grep checkpoint; } > "$T/ext.objs"
check "external containerd: no container, task or checkpoint image of the run left" test ! -s "$T/ext.objs"
check "external containerd: the run record is gone" bash -c "[ -z \"\$(ls -A '$T/ext/run')\" ]"
kill "$EXT"; wait "$EXT" 2>/dev/null
