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
