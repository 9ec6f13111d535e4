# Interrupted and killed runs leave nothing behind, for real: crharness on
# real runc and containerd (CRIU 4.1.1, installed by 30-harness-runc.sh) is
# stopped by SIGTERM/SIGINT while a step waits, during a checkpoint and
# during a restore, interrupted twice, and SIGKILLed; nodeprep apply is
# stopped mid-recipe and rolled back. Afterwards no counter process, runc
# state, containerd daemon/shim/container/image, mount or work dir of the
# run may remain, the reports must be valid JSON/JUnit/TAP saying
# "interrupted", and exit codes must be 130/143.
#
# What is "ours" is told apart from what other tests on the machine run at
# the same time by path: crharness gets TMPDIR=$T/tmp (its work dirs, and
# what a containerd that inherited TMPDIR would litter) and the run dir
# $T/run; a counter is ours when its /proc/PID/root is under $T.
. tests/integration/lib.sh
CRIU=/usr/local/sbin/criu
RD=$T/run
mkdir -p "$T/tmp" "$RD"
export TMPDIR=$T/tmp
cleanup_all() {
    [ -n "${EXTD:-}" ] && kill "$EXTD" 2>/dev/null && wait "$EXTD" 2>/dev/null
    [ -f "$T/deng/docker.pid" ] && kill "$(cat "$T/deng/docker.pid")" 2>/dev/null && sleep 2
    $CRH cleanup --run-dir "$RD" >/dev/null 2>&1
    for m in $(grep -o " $T/[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m"; done
    rm -rf "$T"
}
trap cleanup_all EXIT

# Everything of ours still there, one line each (empty: nothing).
ours_left() {
    pgrep -af -- "$T/" | grep -v -e "$T/ext" -e "$T/deng"
    for p in $(pgrep -f 'count[.]new'); do
        r=$(readlink "/proc/$p/root" 2>/dev/null)
        case $r in "$T"/tmp/*) echo "counter pid $p, root $r" ;; esac
    done
    grep -o " $T/tmp[^ ]*" /proc/self/mountinfo | sed 's/^/mount/'
    find "$T/tmp" -mindepth 1 -maxdepth 1 | sed 's/^/file /'
}
nothing_left() { local o; o=$(ours_left); [ -z "$o" ] || { echo "$o"; return 1; }; }
something_left() { [ -n "$(ours_left)" ]; }
# wait_for PATTERN: until a process's argv matches (10 s at most); patterns
# name $T: other tests may run crharness at the same time
wait_for() { for _ in $(seq 400); do pgrep -f -- "$1" >/dev/null && return 0; sleep 0.025; done; return 1; }
# counting [containerd]: the counter of the run's first container has written its file
counting() {
    local g="$T/tmp/crharness-*/crh-*-0/bundle-0/rootfs/tmp/count"
    [ "${1:-}" = containerd ] && g="$T/tmp/crharness-*/containerd/state/*/crharness/crh-*-0/rootfs/tmp/count"
    [ "${1:-}" = docker ] && g="$T/tmp/crharness-*/docker/d0/data/overlay2/*/merged/tmp/count"
    for _ in $(seq 400); do compgen -G "$g" >/dev/null && return 0; sleep 0.025; done; return 1
}

crh_bg() { # crh_bg NAME ARGS...: crharness run in the background; its pid in $PID
    local n=$1; shift
    $CRH run --run-dir "$RD" --criu $CRIU --criu-env CRIU_FAULT=130 \
        --report json:"$T/$n.json" --report junit:"$T/$n.xml" --report tap:"$T/$n.tap" "$@" \
        >"$T/$n.out" 2>&1 &
    PID=$!
}
# finish NAME: wait for the run; its exit code in $RC, how long it took after the signal in $SECS
finish() { local t0; t0=$(date +%s%N); { wait "$PID"; RC=$?; } 2>/dev/null; SECS=$(( ($(date +%s%N) - t0) / 1000000000 )); }
reports_say_interrupted() { # NAME SIGNAL STEP-REGEX
    python3 - "$T/$1.json" "$2" "$3" <<'PY' || return 1
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] == sys.argv[2], d.get("interrupted")
s = d["scenarios"]
assert len(s) == 1, "a scenario after the interrupted one must not start: %s" % [x["name"] for x in s]
assert s[0]["status"] == "interrupted", s[0]["status"]
assert re.search(r"interrupted by %s (during|before) .*\((%s)\)" % (sys.argv[2], sys.argv[3]), s[0]["reason"]), s[0]["reason"]
assert d["summary"]["interrupted"] == 1 and d["summary"]["passed"] == 0, d["summary"]
PY
    xmllint --noout --schema tests/data/junit.xsd "$T/$1.xml" 2>&1 || return 1
    grep -q '<error message="interrupted by '"$2" "$T/$1.xml" && grep -q 'type="Interrupted"' "$T/$1.xml" || return 1
    grep -q '^not ok 1 - .* interrupted$' "$T/$1.tap" && grep -q '^  status: interrupted$' "$T/$1.tap"
}
# signalled LABEL NAME SIG PHASES: send SIG (INT/TERM) to the run started
# as NAME; it must exit 128+signal, its reports say interrupted during one
# of PHASES (a regex; "-": not checked) and nothing of it may be left
signalled() {
    local label=$1 name=$2 sig=$3 phases=$4 want=130
    [ "$sig" = TERM ] && want=143
    kill -"$sig" "$PID"; finish "$name"
    [ "$RC" = $want ] && ok "$label exits $want" || notok "$label exits $want" "exit $RC: $(tail -3 "$T/$name.out")"
    [ "$phases" = - ] || check "$label: reports say interrupted" reports_say_interrupted "$name" "SIG$sig" "$phases"
    check "$label: nothing left" nothing_left
}
# a scenario whose wait step gives a signal time to land in it
printf 'scenario: long-wait\nsteps:\n  - start\n  - wait: 4000\n  - checkpoint\n  - restore\n  - check: resumed\n' > "$T/long-wait.yaml"

# --- runc ---------------------------------------------------------------
crh_bg rw "$T/long-wait.yaml" counter-basic
counting && sleep 0.5
signalled "runc: SIGTERM while running" rw TERM wait

crh_bg rc counter-basic counter-basic
wait_for "$T/tmp/crharness-[^ ]*/runc-state.* checkpoint --image-path"
signalled "runc: SIGINT during checkpoint" rc INT 'checkpoint|restore|check'

crh_bg rr counter-basic counter-basic
wait_for "$T/tmp/crharness-[^ ]*/runc-state.* restore -d"
signalled "runc: SIGTERM during restore" rr TERM 'restore|check'

# --- containerd (private daemon) -----------------------------------------
crh_bg cw --backend containerd "$T/long-wait.yaml" counter-basic
counting containerd && sleep 0.5
signalled "containerd: SIGTERM while running" cw TERM wait

crh_bg cc --backend containerd counter-basic counter-basic
wait_for "ctr --address $T/tmp/.* container checkpoint"
signalled "containerd: SIGINT during checkpoint" cc INT 'checkpoint|restore|check'

crh_bg cr --backend containerd counter-basic counter-basic
wait_for "ctr --address $T/tmp/.* container restore"
signalled "containerd: SIGTERM during restore" cr TERM -

# containerd 1.6 leaves a ctrd-checkpoint* dir per checkpoint in its TMPDIR
# (here $T/tmp, inherited): the private daemon's TMPDIR is in the work dir
$CRH run --run-dir "$RD" --backend containerd --criu $CRIU --criu-env CRIU_FAULT=130 --keep \
    --work-dir "$T/kept" counter-basic >"$T/kept.out" 2>&1; rc=$?
# (whether the scenario passes is 40-harness-containerd's business)
[ $rc = 0 ] || echo "# the kept containerd run failed (exit $rc): $(tail -3 "$T/kept.out" | head -1)"
check "containerd: no checkpoint temp dir in the inherited TMPDIR" \
    test -z "$(find "$T/tmp" -name 'ct*-checkpoint*')"
echo "# checkpoint temp dirs in the kept work dir: $(find "$T/kept/containerd/tmp" -maxdepth 1 | tail -n +2 | wc -l) ($(containerd --version | cut -d' ' -f3))"
rm -rf "$T/kept"

# --- a second SIGINT quits at once; cleanup removes the rest --------------
crh_bg twice --backend containerd "$T/long-wait.yaml"
counting containerd && sleep 0.5
kill -INT "$PID"; sleep 0.1; kill -INT "$PID" 2>/dev/null; finish twice
[ "$RC" = 130 ] && [ "$SECS" -le 3 ] && ok "second SIGINT: exits 130 at once (${SECS} s)" \
    || notok "second SIGINT: exits 130 at once" "exit $RC after $SECS s: $(tail -3 "$T/twice.out")"
if grep -q "interrupted twice" "$T/twice.out"; then
    check "second SIGINT: says what is left and how to remove it" grep -q "crharness cleanup --run-dir $RD" "$T/twice.out"
else
    ok "second SIGINT: came after cleanup was done (nothing to report)"
fi
check "second SIGINT: reports still written" python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['scenarios'][0]['status']=='interrupted'" "$T/twice.json"
check "cleanup after a second SIGINT exits 0" $CRH cleanup --run-dir "$RD"
check "cleanup after a second SIGINT: nothing left" nothing_left

# --- SIGKILL: `crharness cleanup` and the next run remove the leftovers ---
# a runc container that is not crharness's: same runc, its own root
mkdir -p "$T/fb/rootfs/bin" "$T/fb/rootfs/proc" "$T/fb/rootfs/dev"
cp /bin/busybox "$T/fb/rootfs/bin/" && ln -s busybox "$T/fb/rootfs/bin/sleep"
(cd "$T/fb" && runc spec && python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sleep", "600"]
json.dump(c, open("config.json", "w"))
PY
)
runc --root "$T/foreign-root" run -d --bundle "$T/fb" crh-foreign </dev/null >/dev/null 2>&1
foreign_running() { runc --root "$T/foreign-root" state crh-foreign | grep -q '"status": "running"'; }
check "a foreign runc container runs" foreign_running

crh_bg kr "$T/long-wait.yaml"
counting && sleep 0.5
kill -KILL "$PID"; finish kr
check "runc: a SIGKILLed run leaves its container and dir behind (to be cleaned)" something_left
$CRH cleanup --run-dir "$RD" --dry-run >"$T/dry.out" 2>&1
check "cleanup --dry-run lists the dead run's container" grep -q "^left .*runc container 'crh-$PID-long-wait-0'" "$T/dry.out"
check "cleanup --dry-run removed nothing" something_left
$CRH cleanup --run-dir "$RD" >"$T/clean.out" 2>&1; rc=$?
cat "$T/clean.out"
[ $rc = 0 ] && ok "cleanup after SIGKILL exits 0" || notok "cleanup after SIGKILL exits 0" "exit $rc"
check "cleanup after SIGKILL: says what it removed" grep -q "^removed .*work dir $T/tmp/crharness-" "$T/clean.out"
check "cleanup after SIGKILL: nothing left" nothing_left
check "cleanup left the foreign runc container running" foreign_running
check "cleanup with no dead run: 0 dead runs, exit 0" bash -c "$CRH cleanup --run-dir $RD | grep -q '^0 dead runs'"

crh_bg kc --backend containerd "$T/long-wait.yaml"
counting containerd && sleep 0.5
kill -KILL "$PID"; finish kc
check "containerd: SIGKILL leaves its daemon running (to be cleaned)" pgrep -f "containerd --config $T/tmp/"
# the next run finds the dead one's record and removes what it left first
$CRH run --run-dir "$RD" --criu $CRIU --criu-env CRIU_FAULT=130 counter-basic >"$T/next.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "the run after a SIGKILL passes" || notok "the run after a SIGKILL passes" "exit $rc: $(tail -3 "$T/next.out")"
check "the next run says it removed the dead run's daemon" grep -q "earlier run: removed .*containerd --config $T/tmp/" "$T/next.out"
check "the next run removed the dead run's shim, mounts and dir too: nothing left" nothing_left
check "...and left the foreign runc container alone" foreign_running
runc --root "$T/foreign-root" delete --force crh-foreign

# --- docker (private dockerd) --------------------------------------------
crh_bg dw --backend docker "$T/long-wait.yaml" counter-basic
counting docker && sleep 0.5
signalled "docker: SIGTERM while running" dw TERM wait

crh_bg dc --backend docker counter-basic counter-basic
wait_for "$T/tmp/crharness-[^ ]*/docker/d0/exec/runtime-runc/moby.* checkpoint"
signalled "docker: SIGINT during checkpoint" dc INT 'checkpoint|check|restore'

crh_bg dk --backend docker "$T/long-wait.yaml"
counting docker && sleep 0.5
kill -KILL "$PID"; finish dk
check "docker: a SIGKILLed run leaves its dockerd behind (to be cleaned)" pgrep -f "dockerd --config-file $T/tmp/"
$CRH cleanup --run-dir "$RD" >"$T/dk-clean.out" 2>&1; rc=$?
cat "$T/dk-clean.out"
[ $rc = 0 ] && ok "docker: cleanup after SIGKILL exits 0" || notok "docker: cleanup after SIGKILL exits 0" "exit $rc"
check "docker: cleanup after SIGKILL: nothing left" nothing_left

# --- SIGKILL on a running Docker engine crharness did not start -----------
# its containers carry crharness.run=crh-PID and crharness.workdir=DIR;
# cleanup removes those with both, not a container that has only the first
DE=$T/deng; mkdir -p "$DE"; echo '{}' > "$DE/daemon.json"
CRIU_FAULT=130 setsid dockerd --config-file "$DE/daemon.json" --experimental --data-root "$DE/data" --exec-root "$DE/exec" \
    -H "unix://$DE/docker.sock" --pidfile "$DE/docker.pid" --bridge=none --iptables=false \
    --ip-masq=false >"$DE/log" 2>&1 </dev/null &
dk() { docker -H "unix://$DE/docker.sock" "$@"; }
for _ in $(seq 300); do dk version >/dev/null 2>&1 && break; sleep 0.1; done
printf 'scenario: dk-kill\nsteps:\n  - start\n  - wait: 6000\n' > "$T/dk-kill.yaml"
$CRH run --run-dir "$RD" --backend docker --docker-host "unix://$DE/docker.sock" "$T/dk-kill.yaml" \
    >"$T/de.out" 2>&1 &
PID=$!
for _ in $(seq 300); do [ -n "$(dk ps -q --filter label=crharness.run=crh-$PID)" ] && break; sleep 0.05; done
kill -KILL "$PID"; finish de
$CRH image counter -o "$T/dforeign.tar" --name dforeign:latest >/dev/null 2>&1
dk load -i "$T/dforeign.tar" >/dev/null 2>&1
dk run -d --name dforeign --network none --label "crharness.run=crh-$PID" dforeign:latest >/dev/null 2>&1
check "docker engine: the dead run's container runs, beside a foreign one with the same run label" \
    bash -c "[ \$(docker -H unix://$DE/docker.sock ps -q --filter label=crharness.run=crh-$PID | wc -l) = 2 ]"
$CRH cleanup --run-dir "$RD" >"$T/de-clean.out" 2>&1; rc=$?
cat "$T/de-clean.out"
[ $rc = 0 ] && ok "docker engine: cleanup exits 0" || notok "docker engine: cleanup exits 0" "exit $rc"
check "docker engine: the run's container and image are gone" \
    bash -c "! docker -H unix://$DE/docker.sock ps -a --format '{{.Names}}' | grep -q crh-$PID- && ! docker -H unix://$DE/docker.sock images | grep -q 'crharness-counter.*crh-$PID'"
check "docker engine: the foreign container still runs" \
    bash -c "docker -H unix://$DE/docker.sock ps --format '{{.Names}}' | grep -qx dforeign"
check "docker engine: nothing else of the run left" nothing_left
dk rm -f dforeign >/dev/null 2>&1
kill "$(cat "$DE/docker.pid")"; for _ in $(seq 150); do [ -f "$DE/docker.pid" ] || break; sleep 0.1; done
grep -o " $DE[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null

# --- SIGKILL on a containerd crharness did not start ---------------------
# crharness records each container and checkpoint image it makes there;
# cleanup removes exactly those, not a container of the same namespace
mkdir -p "$T/ext/tmp"
printf 'version = 2\nroot = "%s/ext/root"\nstate = "%s/ext/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/ext/c.sock"\n[ttrpc]\n  address = "%s/ext/c.sock.ttrpc"\n' \
    "$T" "$T" "$T" "$T" > "$T/ext/config.toml"
TMPDIR=$T/ext/tmp containerd --config "$T/ext/config.toml" >"$T/ext/log" 2>&1 &
EXTD=$!
ctr_x() { ctr --address "$T/ext/c.sock" --namespace crharness "$@"; }
for _ in $(seq 100); do ctr_x version >/dev/null 2>&1 && break; sleep 0.1; done
$CRH image counter -o "$T/foreign.tar" --name foreign:latest >/dev/null 2>&1
ctr_x image import "$T/foreign.tar" >/dev/null 2>&1
ctr_x run -d docker.io/library/foreign:latest foreign-1 >/dev/null 2>&1
check "a foreign container runs in the crharness namespace" bash -c "ctr --address $T/ext/c.sock -n crharness task ls | grep -q 'foreign-1.*RUNNING'"
# killed while its container runs beside a checkpoint image of it
printf 'scenario: ext-kill\nsteps:\n  - start\n  - checkpoint: { leave_running: true }\n  - wait: 4000\n' > "$T/ext-kill.yaml"
crh_bg ke --backend containerd --containerd-socket "$T/ext/c.sock" "$T/ext-kill.yaml"
for _ in $(seq 200); do ctr_x image ls -q 2>/dev/null | grep -q crharness/checkpoint && break; sleep 0.05; done
kill -KILL "$PID"; finish ke
check "external containerd: the dead run's container and image are there before cleanup" \
    bash -c "ctr --address $T/ext/c.sock -n crharness c ls -q | grep -q crh-$PID- && ctr --address $T/ext/c.sock -n crharness image ls -q | grep -q crharness/checkpoint/crh-$PID-"
$CRH cleanup --run-dir "$RD" >"$T/ext-clean.out" 2>&1; rc=$?
cat "$T/ext-clean.out"
[ $rc = 0 ] && ok "external containerd: cleanup exits 0" || notok "external containerd: cleanup exits 0" "exit $rc"
check "external containerd: cleanup says it removed both" bash -c "grep -q \"^removed   container 'crh-$PID-ext-kill-0'\" $T/ext-clean.out && grep -q '^removed   checkpoint image' $T/ext-clean.out"
check "external containerd: the run's containers are gone" bash -c "! ctr --address $T/ext/c.sock -n crharness c ls -q | grep -q crh-"
check "external containerd: the run's checkpoint images are gone" bash -c "! ctr --address $T/ext/c.sock -n crharness image ls -q | grep -q crharness/checkpoint"
check "external containerd: the foreign container still runs" bash -c "ctr --address $T/ext/c.sock -n crharness task ls | grep -q 'foreign-1.*RUNNING'"
check "external containerd: nothing else of the run left" nothing_left
ctr_x task kill -s SIGKILL foreign-1 >/dev/null 2>&1; sleep 0.3
ctr_x task delete foreign-1 >/dev/null 2>&1; ctr_x c delete foreign-1 >/dev/null 2>&1
kill "$EXTD"; wait "$EXTD" 2>/dev/null; EXTD=
for _ in $(seq 50); do pgrep -f -- "$T/ext/c.sock" >/dev/null || break; sleep 0.1; done
pkill -9 -f -- "-address $T/ext/c.sock" 2>/dev/null

# --- nodeprep: an interrupted apply, then rollback -----------------------
NR=$T/np-root
mkdir -p "$NR/etc/app"
printf 'port: 1\n' > "$NR/etc/app/app.yaml"; chmod 640 "$NR/etc/app/app.yaml"
printf 'keep me\n' > "$NR/etc/app/other"
tree_sum() { (cd "$NR" && find . -printf '%p %m %y\n' | sort && find . -type f -exec sha256sum {} + | sort); }
tree_sum > "$T/np-before"
cat > "$T/np.yaml" <<'EOF'
recipe: interrupted
steps:
  - name: edit app.yaml
    file: { path: /etc/app/app.yaml, content: "port: 2\n", mode: "0644" }
  - name: new conf
    file: { path: /etc/app/new.conf, content: "new\n" }
  - name: slow step
    command: { shell: "sleep {{ pause }}", creates: /etc/app/never }
  - name: after
    file: { path: /etc/app/after.conf, content: "after\n" }
EOF
np_bg() { $NP apply --root "$NR" --state-dir "$T/np-state" -e pause="$1" "$T/np.yaml" >"$T/np.out" 2>&1 & PID=$!; }
np_bg 2.017
wait_for "sleep 2.017$"
kill -TERM "$PID"; finish np
[ "$RC" = 143 ] && ok "nodeprep: SIGTERM during apply exits 143" || notok "nodeprep: SIGTERM during apply exits 143" "exit $RC: $(tail -3 "$T/np.out")"
check "nodeprep: the step in flight finished, no later step ran" bash -c "grep -q 'changed  slow step' $T/np.out && [ ! -e $NR/etc/app/after.conf ]"
check "nodeprep: the journal records the interruption" grep -q '"interrupted":"SIGTERM"' "$T"/np-state/runs/*/journal.jsonl
check "nodeprep: says how to roll back" grep -q "nodeprep rollback --state-dir $T/np-state" "$T/np.out"
check "nodeprep: rollback after an interrupted apply" $NP rollback --state-dir "$T/np-state"
check "nodeprep: the tree is as before, byte for byte" bash -c "diff <(cd $NR && find . -printf '%p %m %y\n' | sort && find . -type f -exec sha256sum {} + | sort) $T/np-before"

# a step that outlives the grace is abandoned (killed after 10 s), whole
np_bg 61.7
wait_for "sleep 61.7$"
kill -INT "$PID"; finish np
[ "$RC" = 130 ] && ok "nodeprep: SIGINT during a long step exits 130 (${SECS} s)" || notok "nodeprep: SIGINT during a long step exits 130" "exit $RC: $(tail -3 "$T/np.out")"
check "nodeprep: the long step was abandoned within the grace" bash -c "[ $SECS -le 12 ] && grep -q 'failed   slow step: .*killed: still running 10 s after SIGINT' $T/np.out && ! pgrep -f 'sleep 61.7$'"
check "nodeprep: rollback after an abandoned step" $NP rollback --state-dir "$T/np-state"
check "nodeprep: the tree is as before again" bash -c "diff <(cd $NR && find . -printf '%p %m %y\n' | sort && find . -type f -exec sha256sum {} + | sort) $T/np-before"
