# nodeprep end to end on real files under --root: validate, plan changes
# nothing, apply, converged re-apply touches nothing, rollback is byte
# exact, malformed recipes fail with FILE:LINE:COL, the lock, SIGKILL.
. tests/integration/lib.sh

tree_sum() { (cd "$1" && find . -path ./var/lib/nodeprep -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) ; }
tree_times() { (cd "$1" && find . -path ./var/lib/nodeprep -prune -o -printf '%p %T@ %m\n' | sort) ; }

# every shipped recipe validates
check "validate recipes/*.yaml" $NP validate recipes/*.yaml

# data-driven malformed recipes: exit 2 and the expected located error
for f in tests/data/bad/*.yaml; do
    want=$(head -n1 "$f" | sed 's/^# expect: //')
    $NP validate "$f" >"$T/out" 2>"$T/err"; rc=$?
    if [ "$rc" = 2 ] && grep -qE -- "$want" "$T/err" && grep -qE '^[^ ]+:[0-9]+:[0-9]+: error: ' "$T/err"; then
        ok "validate rejects $(basename "$f")"
    else
        notok "validate rejects $(basename "$f")" "rc=$rc err=$(cat "$T/err")"
    fi
done
check_exit "missing recipe file is bad input" 2 $NP validate /nonexistent.yaml
check_exit "an endless recipe file is refused, not read to the end" 2 $NP validate /dev/zero
check_grep "and the error says why" "'/dev/zero' is larger than 16 MiB" "$T/.out"
check_exit "unknown option is bad usage" 2 $NP apply --bogus x
check "every command has --help" bash -c "for c in validate plan apply rollback facts; do $NP \$c --help | grep -q usage: || exit 1; done"

root=$T/root
cp -a tests/data/fixture-root "$root"
tree_sum "$root" > "$T/orig.sum"
R=tests/data/recipes/node-cr.yaml

check "plan exits 0" $NP plan --root "$root" $R
check_grep "plan shows a diff for the kubelet config" '^\s+\+  ContainerCheckpoint: true' "$T/.out"
tree_sum "$root" > "$T/after-plan.sum"
check "plan changed nothing" cmp "$T/orig.sum" "$T/after-plan.sum"

check "apply exits 0" $NP apply --root "$root" $R
check_grep "apply reports changes" '^0 ok|[1-9][0-9]* changed, 0 failed' "$T/.out"
check_grep "kubelet gate set, comment kept" 'ContainerCheckpoint: true' "$root/var/lib/kubelet/config.yaml"
check_grep "kubelet comment kept" '^# kubelet config \(comment kept\)' "$root/var/lib/kubelet/config.yaml"
check_grep "crio criu on in place" '^enable_criu_support = true' "$root/etc/crio/crio.conf"
check_grep "crio comment kept" 'default_runtime = "runc"   # comment' "$root/etc/crio/crio.conf"
check_grep "containerd nested table edited" '^    snapshotter = "native"' "$root/etc/containerd/config.toml"
check "installed binary is byte-identical" cmp /bin/busybox "$root/usr/local/bin/tool"
check "backup of replaced file kept" test -f "$root/usr/local/bin/tool.old"

tree_times "$root" > "$T/t1"
check "second apply exits 0" $NP apply --root "$root" $R
check_grep "second apply changes nothing" ' 0 changed, 0 failed' "$T/.out"
tree_times "$root" > "$T/t2"
check "second apply touched no file (mtimes)" cmp "$T/t1" "$T/t2"

check "rollback exits 0" $NP rollback --root "$root"
tree_sum "$root" > "$T/rolled.sum"
check "rollback restores the tree byte for byte" cmp "$T/orig.sum" "$T/rolled.sum"
check_exit "a second rollback has nothing to do" 2 $NP rollback --root "$root"

# --json is valid JSON with the summary
$NP plan --json --root "$root" $R > "$T/plan.json"
check "plan --json parses" python3 -c "import json,sys; d=json.load(open('$T/plan.json')); assert d['summary']['failed']==0 and d['summary']['changed']>0"

# a failing verify fails the run with exit 1 and says why
check_exit "failed step exits 1" 1 $NP apply --root "$root" tests/data/recipes/fails.yaml
check_grep "failure names the problem" 'expected exit status 0, got 3' "$T/.out"

# the lock: a second apply while one holds it exits 1 with a clear message
mkdir -p "$root/var/lib/nodeprep"
flock "$root/var/lib/nodeprep/lock" sleep 3 &
sleep 0.3
check_exit "concurrent apply is refused" 1 $NP apply --root "$root" $R
check_grep "lock message" 'another nodeprep .* is working' "$T/.out"
wait

# SIGKILL at many points: every managed file is old or new, never partial;
# re-apply converges and rollback restores the original
big=tests/data/recipes/many-files.yaml
bad=0
for i in $(seq 1 12); do
    r2=$T/kill$i; rm -rf "$r2"; mkdir -p "$r2"
    $NP apply --root "$r2" $big >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$((i % 10))"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    for f in "$r2"/data/f*; do
        [ -f "$f" ] || continue
        n=$(basename "$f"); want=$(printf 'content of %s\n' "$n")
        [ "$(cat "$f")" = "$want" ] || { bad=1; echo "# partial $f"; }
    done
    ls -a "$r2/data" 2>/dev/null | grep -q '\.np-' && echo "# temp file left in $r2/data (not a managed file)"
    $NP apply --root "$r2" $big >/dev/null 2>&1 || bad=1
    $NP apply --root "$r2" $big 2>&1 | grep -q ' 0 changed, 0 failed' || bad=1
done
[ $bad = 0 ] && ok "SIGKILL mid-apply leaves no partial file; re-apply converges" || notok "SIGKILL mid-apply" "see above"

# tags, when, notify/handlers, -e overrides, env and facts in templates
R2=$T/lang-root; S2=$T/lang-state; mkdir -p "$R2"
cat > "$T/lang.yaml" <<'YAML'
recipe: lang
vars:
  greeting: hello
  nested: { name: "{{ greeting }} world" }
steps:
  - name: tagged a
    file: { path: /a.txt, content: "{{ nested.name }} from {{ env.NP_TEST_WHO }} on {{ facts.arch }}\n" }
    tags: [alpha]
    notify: reload
  - name: tagged b
    file: { path: /b.txt, content: "b\n" }
    tags: [beta]
  - name: never
    file: { path: /never.txt, content: "x\n" }
    when: "{{ greeting }} == goodbye"
handlers:
  reload:
    command: { shell: "echo reloaded >> $NODEPREP_ROOT/handler.log" }
YAML
check "tags: only the alpha step runs" env NP_TEST_WHO=tests $NP apply --root "$R2" --state-dir "$S2" --tags alpha "$T/lang.yaml"
check "tags: beta step untouched" bash -c "[ -f $R2/a.txt ] && [ ! -e $R2/b.txt ]"
check "templating: nested var, env and facts rendered" grep -qx "hello world from tests on $(dpkg --print-architecture)" "$R2/a.txt"
check "when: a false condition skips the step" test ! -e "$R2/never.txt"
check "notify: the handler ran once after a change" test "$(cat "$R2/handler.log")" = reloaded
check "notify: converged re-apply" env NP_TEST_WHO=tests $NP apply --root "$R2" --state-dir "$S2" "$T/lang.yaml"
check "notify: no change, no handler" test "$(wc -l < "$R2/handler.log")" = 1
check "-e overrides a recipe var" env NP_TEST_WHO=tests $NP apply --root "$R2" --state-dir "$S2" -e greeting=hi "$T/lang.yaml"
check "-e reaches nested templates" grep -q "^hi world" "$R2/a.txt"
check "notify: the handler ran again after the change" test "$(wc -l < "$R2/handler.log")" = 2
check_exit "undefined env var is an error" 2 env -u NP_TEST_WHO $NP validate "$T/lang.yaml"
check_grep "undefined variable is located" "lang.yaml:7:[0-9]+: error: .*NP_TEST_WHO" "$T/.out"
check "facts --json is JSON with arch and init" bash -c "$NP facts --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"arch\"] in (\"amd64\",\"arm64\") and \"init\" in d'"

# service and packages. Under --root, systemctl --root converges a unit's
# enablement in the image root (start/stop are skipped: not a running
# system) and packages read the root's dpkg database.
R6=$T/svc S6=$T/svc-state
mkdir -p "$R6/var/lib/dpkg" "$R6/usr/bin" && : > "$R6/usr/bin/apt-get"   # a Debian root
printf 'Package: np-demo\nStatus: install ok installed\nMaintainer: t <t@t>\nVersion: 1\nArchitecture: all\nDescription: x\n\n' > "$R6/var/lib/dpkg/status"
cat > "$T/svc.yaml" <<'YAML'
recipe: svc
vars: { enable: true }
steps:
  - file: { path: /etc/systemd/system/np-demo.service, content: "[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n" }
  - service: { name: np-demo.service, enabled: "{{ enable }}", state: started }
  - packages: { names: [np-demo] }
YAML
WANTS=$R6/etc/systemd/system/multi-user.target.wants/np-demo.service
check "service under --root: plan" $NP plan --root "$R6" --state-dir "$S6" "$T/svc.yaml"
check_grep "plan says it would enable the unit" "enable np-demo.service" "$T/.out"
check "service under --root: apply" $NP apply --root "$R6" --state-dir "$S6" "$T/svc.yaml"
check_grep "start under --root is skipped, with the reason" "not a running system" "$T/.out"
check "systemctl --root made the wants link" test -L "$WANTS"
check "service under --root: re-apply" $NP apply --root "$R6" --state-dir "$S6" "$T/svc.yaml"
check_grep "service and packages converge: 0 changed (start: skipped)" "2 ok, 0 changed, 0 failed, 1 skipped" "$T/.out"
check "enabled: false disables" $NP apply --root "$R6" --state-dir "$S6" -e enable=false "$T/svc.yaml"
check "the wants link is gone" test ! -e "$WANTS"
printf 'recipe: pk\nsteps:\n  - packages: { names: [np-demo, np-missing] }\n' > "$T/pk.yaml"
check "packages: plan names the missing package" $NP plan --root "$R6" --state-dir "$S6" "$T/pk.yaml"
check_grep "only np-missing would be installed" "\(install np-missing\)" "$T/.out"
check_exit "packages: installing into --root is refused" 1 $NP apply --root "$R6" --state-dir "$S6" "$T/pk.yaml"
check_grep "and says why" "cannot install packages inside --root.*needs a chroot" "$T/.out"

# live: a real service where systemd runs; else the clear refusal and the
# recipe's if_missing: skip. Packages through this host's dpkg and apt.
if [ "$($NP facts --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["init"])')" = systemd ]; then
    printf '[Service]\nExecStart=/bin/sleep 1000\n' > /run/systemd/system/np-test-$$.service
    systemctl daemon-reload
    printf 'recipe: live\nvars: { st: started }\nsteps:\n  - service: { name: np-test-%s.service, state: "{{ st }}" }\n' $$ > "$T/live.yaml"
    check "live service: start" $NP apply --state-dir "$T/live-st" "$T/live.yaml"
    check "systemd runs it" systemctl is-active -q np-test-$$.service
    check "live service: converged" $NP apply --state-dir "$T/live-st" "$T/live.yaml"
    check_grep "live service: 0 changed" "1 ok, 0 changed" "$T/.out"
    check "live service: stop" $NP apply --state-dir "$T/live-st" -e st=stopped "$T/live.yaml"
    check "systemd stopped it" bash -c "! systemctl is-active -q np-test-$$.service"
    rm -f /run/systemd/system/np-test-$$.service; systemctl daemon-reload
else
    printf 'recipe: live\nsteps:\n  - service: { name: np-no-such-service, state: started }\n' > "$T/live.yaml"
    check_exit "no systemd: a service step fails (exit 1)" 1 $NP apply --state-dir "$T/live-st" "$T/live.yaml"
    check_grep "and says so, with the way out" "no systemd on this host.*if_missing: skip" "$T/.out"
    printf 'recipe: live\nsteps:\n  - service: { name: np-no-such-service, state: started, if_missing: skip }\n' > "$T/live.yaml"
    check "no systemd, if_missing: skip" $NP apply --state-dir "$T/live-st" "$T/live.yaml"
    check_grep "the step is skipped" "0 failed, 1 skipped" "$T/.out"
fi
printf 'recipe: pk\nvars: { st: present }\nsteps:\n  - packages: { names: [coreutils] }\n  - packages: { names: [hello], state: "{{ st }}" }\n' > "$T/pk.yaml"
if dpkg -s hello > /dev/null 2>&1; then first=absent second=present; else first=present second=absent; fi
check "packages: $first hello, live (apt-get)" $NP apply --state-dir "$T/pk-st" -e st=$first "$T/pk.yaml"
check "dpkg agrees" bash -c "dpkg -s hello 2>/dev/null | grep -q 'Status: install ok installed'; [ \$? = $([ $first = present ] && echo 0 || echo 1) ]"
check "packages: converged" $NP apply --state-dir "$T/pk-st" -e st=$first "$T/pk.yaml"
check_grep "packages: 0 changed" "2 ok, 0 changed" "$T/.out"
# another apt holds the dpkg lock (as unattended-upgrades does on a fresh
# VM) for 3 s: the step waits for it instead of failing
python3 -c 'import fcntl, sys, time
f = open("/var/lib/dpkg/lock-frontend", "w"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[1], "w").close(); time.sleep(3)' "$T/locked" &
LOCKER=$!
for _ in $(seq 50); do [ -e "$T/locked" ] && break; sleep 0.1; done
check "another process holds the dpkg lock" kill -0 $LOCKER
check "packages: back to $second, waiting for the dpkg lock another apt holds" \
    $NP apply --state-dir "$T/pk-st" -e st=$second "$T/pk.yaml"
wait $LOCKER

# make install: fetch/git/extract live in nodeprep-sources.so, found in
# PREFIX/lib/nodeprep; a run without such a step never loads it
check "make install" make -s install PREFIX="$T/inst"
mkdir -p "$T/ir/srv" "$T/isrc" && echo hi > "$T/isrc/a.txt" && tar -C "$T/isrc" -czf "$T/ir/srv/a.tgz" a.txt
printf 'recipe: i\nsteps:\n  - file: { path: /f.txt, content: "x\\n" }\n  - extract: { src: /srv/a.tgz, dest: /opt/a }\n' > "$T/inst.yaml"
check "installed nodeprep loads its sources plugin for extract" "$T/inst/bin/nodeprep" apply --root "$T/ir" --state-dir "$T/ist" "$T/inst.yaml"
check "and the tree is there" cmp "$T/isrc/a.txt" "$T/ir/opt/a/a.txt"
mv "$T/inst/lib/nodeprep/nodeprep-sources.so" "$T/"
printf 'recipe: i\nsteps:\n  - file: { path: /g.txt, content: "x\\n" }\n' > "$T/inst2.yaml"
check "without the plugin, a recipe with no fetch/git/extract runs" "$T/inst/bin/nodeprep" apply --root "$T/ir" --state-dir "$T/ist" "$T/inst2.yaml"
rm -rf "$T/ir/opt/a"
check_exit "an extract step without the plugin fails (exit 1)" 1 "$T/inst/bin/nodeprep" apply --root "$T/ir" --state-dir "$T/ist" "$T/inst.yaml"
check_grep "and names what is missing and where it looked" "cannot load nodeprep-sources.so.*lib/nodeprep" "$T/.out"
