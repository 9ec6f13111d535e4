# --root is a jail: a hostile root (absolute and relative symlinks pointing
# out, "..", dangling links, loops, links swapped in while an apply runs)
# against every step kind that touches paths, through openat2 and through
# the component walk (NODEPREP_RESOLVE=walk). After each case a sentinel
# tree outside the root is byte-identical (names, types, modes, link
# targets, contents) and the step either failed or wrote inside the root.
. tests/integration/lib.sh

S=$T/sentinel
mkdir -p "$S/etc/crio" "$S/work" "$S/srv" "$S/src" "$S/opt"
echo "root:x:0:0:host" > "$S/etc/passwd"
echo "[crio]" > "$S/etc/crio/crio.conf"
printf 'all:\n\ttouch built\n' > "$S/work/Makefile"
echo "host secret" > "$S/etc/secret"
(cd "$T" && mkdir pkg && echo payload > pkg/file && tar -czf "$S/srv/a.tar.gz" pkg && rm -rf pkg)
echo "fetched" > "$T/payload"
PAYLOAD_SUM=$(sha256sum "$T/payload" | cut -d' ' -f1)
git init -q -b main "$T/repo" && git -C "$T/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
snap() { (cd "$S" && find . -printf '%p %y %m %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
snap > "$T/sentinel.snap"
HOSTPWN=/etc/np-jail-$$-pwned
trap 'rm -rf "$T" "$HOSTPWN"' EXIT

# The hostile root: every link below points out of it when followed on the host.
base=$T/base
mkdir -p "$base/etc" "$base/opt" "$base/var/lib"
cp "$S/srv/a.tar.gz" "$base/opt/a.tar.gz"
ln -s "$S/etc/crio" "$base/etc/crio"          # absolute, to an existing dir outside
ln -s ../../sentinel/etc "$base/etc/kube"      # relative, climbing out
ln -s "$S/etc/passwd" "$base/etc/resolv.conf"  # absolute, to a file outside
ln -s "$S/etc/secret" "$base/etc/secret"       # a file to leak in
ln -s "$S/srv" "$base/srv"
ln -s "$S/work" "$base/work"
ln -s ../sentinel/src "$base/src"
ln -s "$S/opt" "$base/opt/out"
ln -s /nonexistent/target "$base/opt/dangling"
ln -s loop2 "$base/loop1"
ln -s /loop1 "$base/loop2"
ln -s "$S/etc" "$base/var/lib/dpkg"

n=0
# jail_case NAME EXPECT RECIPE-STEPS: EXPECT is "fail", or "inside:PATH"
# (the apply succeeds and PATH, relative to the root, exists as a file)
jail_case() {
    local name=$1 expect=$2 steps=$3 r=$T/r-$n
    n=$((n + 1))
    rm -rf "$r" "$r.st"; cp -a "$base" "$r"
    printf 'recipe: jail\nsteps:\n%s\n' "$steps" > "$T/jail-$n.yaml"
    $NP apply --root "$r" --state-dir "$r.st" --source repo="$T/repo" --source blob="$T/payload" \
        "$T/jail-$n.yaml" > "$T/out-$n" 2>&1
    local rc=$? why=""
    case $expect in
    fail) [ $rc = 1 ] || why="exit $rc, wanted a failed step" ;;
    inside:*) [ $rc = 0 ] || why="exit $rc, wanted success"
              [ -f "$r/${expect#inside:}" ] && [ ! -L "$r/${expect#inside:}" ] ||
                  why="$why; no file at ${expect#inside:} in the root" ;;
    esac
    snap | cmp -s - "$T/sentinel.snap" || why="$why; THE SENTINEL CHANGED: $(snap | diff - "$T/sentinel.snap" | head -3)"
    [ -e "$HOSTPWN" ] && why="$why; wrote the host's $HOSTPWN"
    grep -q "host secret\|root:x:0:0:host" -r "$r" 2>/dev/null && why="$why; host data leaked into the root"
    if [ -z "$why" ]; then ok "$MODE: $name"; else notok "$MODE: $name" "$why: $(tail -2 "$T/out-$n")"; fi
    # rollback of whatever the case did stays inside too
    if [ $rc = 0 ]; then
        $NP rollback --state-dir "$r.st" > "$T/rb-$n" 2>&1 || grep -q "nothing to roll back" "$T/rb-$n" ||
            notok "$MODE: $name: rollback" "$(tail -2 "$T/rb-$n")"
        snap | cmp -s - "$T/sentinel.snap" || notok "$MODE: $name: rollback kept the sentinel"
    fi
}

for MODE in openat2 walk; do
    if [ $MODE = walk ]; then export NODEPREP_RESOLVE=walk; else unset NODEPREP_RESOLVE; fi

    jail_case "'..' cannot climb out (the issue's /../../../etc/pwned)" "inside:$HOSTPWN" \
"  - file: { path: \"/../../../../../../../..$HOSTPWN\", content: pwned }"
    jail_case "'..' after a link cannot climb out" "inside:etc/np-up" \
"  - file: { path: \"/etc/../../../../etc/np-up\", content: x }"
    jail_case "absolute dir link: file fails, nothing outside" fail \
"  - file: { path: /etc/crio/crio.conf, content: pwned }"
    jail_case "relative dir link climbing out: line fails" fail \
"  - line: { path: /etc/kube/passwd, regexp: '^root', line: 'root:pwned', create: true }"
    jail_case "link to a file outside: replaced in the root, not followed" "inside:etc/resolv.conf" \
"  - file: { path: /etc/resolv.conf, content: 'nameserver 10.0.0.1' }"
    jail_case "yaml_set through an absolute link to a file outside" "inside:etc/resolv.conf" \
"  - yaml_set: { path: /etc/resolv.conf, set: { a.b: 1 } }"
    jail_case "toml_set through a dir link outside fails" fail \
"  - toml_set: { path: /etc/crio/crio.conf, table: crio, set: { x: 1 } }"
    jail_case "json_set through a dir link outside fails" fail \
"  - json_set: { path: /etc/kube/x.json, set: { a: 1 } }"
    jail_case "dangling link: replaced in the root" "inside:opt/dangling" \
"  - file: { path: /opt/dangling, content: x }"
    jail_case "link loop: fails" fail \
"  - file: { path: /loop1/x, content: x }"
    jail_case "file directory through a link outside fails" fail \
"  - file: { path: /opt/out/newdir, state: directory }"
    jail_case "install dest through a link outside fails" fail \
"  - install: { src: $T/payload, dest: /etc/crio/runc }"
    jail_case "install remote_src cannot read a host file through a link" fail \
"  - install: { src: /etc/secret, dest: /etc/copied, remote_src: true }"
    jail_case "fetch dest through a link outside fails" fail \
"  - fetch: { name: blob, url: 'http://127.0.0.1:9/none', sha256: $PAYLOAD_SUM, dest: /etc/kube/fetched }"
    jail_case "extract src through a link outside is not found" fail \
"  - extract: { src: /srv/a.tar.gz, dest: /opt/pkg }"
    jail_case "extract dest through a link outside fails" fail \
"  - extract: { src: /opt/a.tar.gz, dest: /opt/out/pkg }"
    jail_case "git dest through a relative link outside fails" fail \
"  - git: { name: repo, repo: 'file:///nonexistent', ref: main, dest: /src/repo }"
    jail_case "build dir through a link outside fails" fail \
"  - build: { dir: /work, commands: make, outputs: [built] }"
    jail_case "command cwd through a link outside fails" fail \
"  - command: { shell: 'touch built', cwd: /work }"
    jail_case "file remove through a link outside leaves it" inside:etc/placeholder \
"  - file: { path: /etc/crio/crio.conf, state: absent }
  - file: { path: /etc/placeholder, content: x }"
    # the same steps where the links lead is inside the root: they work there
    mkdir -p "$base$S/etc/crio" "$base$S/work" "$base/sentinel/src"
    printf 'all:\n\ttouch built\n' > "$base$S/work/Makefile"
    jail_case "absolute dir link followed inside the root" "inside:$S/etc/crio/crio.conf" \
"  - file: { path: /etc/crio/crio.conf, content: jailed }"
    jail_case "build in a dir reached by an absolute link, inside the root" "inside:$S/work/built" \
"  - build: { dir: /work, commands: make, outputs: [built] }"
    jail_case "extract through an absolute link, inside the root" "inside:$S/etc/crio/pkg/pkg/file" \
"  - extract: { src: /opt/a.tar.gz, dest: /etc/crio/pkg }"
    jail_case "git through a relative link, inside the root" "inside:sentinel/src/repo/.git/HEAD" \
"  - git: { name: repo, repo: 'file:///nonexistent', ref: main, dest: /src/repo }"
    rm -rf "${base:?}/tmp" "${base:?}/sentinel"
done
unset NODEPREP_RESOLVE

# rollback after the tree was made hostile: the directory an apply made is
# now a link out of the root; rollback must not follow it
r=$T/rb
rm -rf "$r" "$r.st"; mkdir -p "$r/etc"
printf 'recipe: rb\nsteps:\n  - file: { path: /etc/app/conf, content: x }\n' > "$T/rb.yaml"
$NP apply --root "$r" --state-dir "$r.st" "$T/rb.yaml" > "$T/rb.out" 2>&1 || notok "rollback setup" "$(tail -2 "$T/rb.out")"
mkdir -p "$S/etc/app"; echo "host app" > "$S/etc/app/conf"; snap > "$T/sentinel.snap"
mv "$r/etc/app" "$r/etc/app.moved"; ln -s "$S/etc/app" "$r/etc/app"
$NP rollback --state-dir "$r.st" > "$T/rb.out" 2>&1
if snap | cmp -s - "$T/sentinel.snap"; then ok "rollback through a link swapped in afterwards leaves the outside alone"
else notok "rollback through a link swapped in afterwards leaves the outside alone" "$(cat "$T/rb.out")"; fi

# a link swapped in mid-apply: a flipper turns /etc/flip into a link out of
# the root (absolute or relative) and back into a directory, as fast as it
# can, while applies write files and directories below it
r=$T/race
mkdir -p "$r/etc/flip"
steps=""
for i in $(seq 1 20); do steps="$steps  - file: { path: /etc/flip/f$i, content: \"{{ v }}\" }
  - file: { path: /etc/flip/d$i, state: directory }
"; done
printf 'recipe: race\nsteps:\n%s' "$steps" > "$T/race.yaml"
flipper() {
    while :; do
        rm -rf "$r/etc/flip"; ln -s "$S/etc" "$r/etc/flip"
        rm -f "$r/etc/flip"; ln -s ../../sentinel/etc "$r/etc/flip"
        rm -f "$r/etc/flip"; mkdir "$r/etc/flip"
    done
}
flipper & fl=$!
trap 'kill $fl 2>/dev/null; rm -rf "$T" "$HOSTPWN"' EXIT
applied=0 wrote=0
for mode in openat2 walk; do
    for k in $(seq 1 25); do
        NODEPREP_RESOLVE=$([ $mode = walk ] && echo walk || echo kernel) \
            $NP apply --root "$r" --state-dir "$r.st-$mode" -e v=$mode$k "$T/race.yaml" > "$T/race.out" 2>&1 && wrote=$((wrote + 1))
        applied=$((applied + 1))
    done
done
kill $fl; wait $fl 2>/dev/null
if snap | cmp -s - "$T/sentinel.snap"; then
    ok "$applied applies racing a symlink flipper (openat2 and walk, $wrote ran through): the sentinel is intact"
else
    notok "applies racing a symlink flipper: the sentinel is intact" "$(snap | diff - "$T/sentinel.snap" | head -5)"
fi
grep -rqs "openat2\|walk" "$S" && notok "race: no content written outside" || ok "race: no content written outside"

# --root on an SSH host (a real sshd on loopback): ".." is taken out of the
# names, and a path through a link the node would follow out of the root
# fails naming the link; paths that avoid such links work
. tests/helpers/sshd.sh
start_sshd "$T/sshd"; SSHD=$SSHD_PID
trap 'kill $SSHD 2>/dev/null; rm -rf "$T" "$HOSTPWN"' EXIT
r=$T/remote
rm -rf "$r"; cp -a "$base" "$r"; mkdir -p "$r/etc/real/sub"; ln -s real/sub "$r/etc/down"
snap > "$T/sentinel.snap"
remote() { printf 'recipe: remote\nsteps:\n%s\n' "$1" > "$T/remote.yaml"
    $NP apply --host "root@127.0.0.1:$SSHD_PORT" -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" --root "$r" \
        --state-dir "$T/remote.st" "$T/remote.yaml"; }
check_exit "ssh: a path through an absolute link out of the root fails" 1 \
    remote "  - file: { path: /etc/crio/crio.conf, content: pwned }"
check_grep "ssh: naming the link" "passes through '/etc/crio' -> '$S/etc/crio'" "$T/.out"
check_exit "ssh: a path through a relative link climbing out fails" 1 \
    remote "  - line: { path: /etc/kube/passwd, line: pwned, create: true }"
check_exit "ssh: writing at a link to a file outside fails" 1 \
    remote "  - file: { path: /etc/resolv.conf, content: x }"
check "ssh: '..' cannot climb out of the root" remote "  - file: { path: \"/../../../../../..$HOSTPWN\", content: x }"
[ -f "$r$HOSTPWN" ] && [ ! -e "$HOSTPWN" ] && ok "ssh: and the file is inside the root" || notok "ssh: and the file is inside the root"
check "ssh: paths through links that stay inside work" remote "  - file: { path: /etc/down/conf, content: x }"
[ -f "$r/etc/real/sub/conf" ] && ok "ssh: written where the link leads, inside" || notok "ssh: written where the link leads, inside"
snap | cmp -s - "$T/sentinel.snap" && ok "ssh: the sentinel is intact" || notok "ssh: the sentinel is intact" "$(snap | diff - "$T/sentinel.snap" | head -3)"

# plan and validate refuse relative paths with FILE:LINE:COL
printf 'recipe: rel\nsteps:\n  - file: { path: "../../etc/passwd", content: x }\n' > "$T/rel.yaml"
check_exit "plan refuses a relative path" 2 $NP plan --root "$T/rb" "$T/rel.yaml"
check_grep "with FILE:LINE:COL" "rel.yaml:3:[0-9]+: error: file: 'path' must be an absolute path" "$T/.out"
