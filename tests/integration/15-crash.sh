# Crash consistency with exact kill points: strace delivers SIGKILL to a real
# apply on entry to its K-th rename (every commit point of every file,
# install and extract), its K-th fsync and its K-th write (inside the install
# of a 20 MB file, the extract, the journal and the backups). After each:
# every managed file is old or new (sha256), never partial; the journal is
# readable and rollback restores the original tree byte for byte (the temp
# files of killed writes removed too); and, on a
# second copy, a re-apply converges.
. tests/integration/lib.sh
SEED=$T/seed
mkdir -p "$SEED/data" "$SEED/opt" "$SEED/srv" "$T/src/pkg"
for i in $(seq -w 0 29); do   # half the files exist with other content
    [ $((10#$i % 2)) = 0 ] && printf 'old content of f%s\n' "$i" > "$SEED/data/f$i"
done
head -c 1000 /dev/urandom > "$SEED/opt/big.bin"
head -c 4000000 /dev/urandom > "$T/big.new"
for i in $(seq 200); do head -c 3000 /dev/urandom > "$T/src/pkg/file$i"; done
tar -C "$T/src" -czf "$SEED/srv/pkg.tgz" pkg
{
    printf 'recipe: crash\nsteps:\n'
    for i in $(seq -w 0 14); do printf '  - file: { path: /data/f%s, content: "content of f%s\\n" }\n' "$i" "$i"; done
    printf '  - install: { src: %s, dest: /opt/big.bin }\n' "$T/big.new"
    for i in $(seq -w 15 29); do printf '  - file: { path: /data/f%s, content: "content of f%s\\n" }\n' "$i" "$i"; done
    printf '  - extract: { src: /srv/pkg.tgz, dest: /opt/pkg, strip_components: 1 }\n'
} > "$T/crash.yaml"

# every managed file old or new; extract's dest absent or complete
old_or_new() { # ROOT
    local r=$1 f n
    for f in $(seq -w 0 29); do
        n=$r/data/f$f
        if [ -e "$n" ]; then
            cmp -s "$n" <(printf 'content of f%s\n' "$f") || cmp -s "$n" "$SEED/data/f$f" || { echo "partial $n"; return 1; }
        elif [ -e "$SEED/data/f$f" ]; then echo "lost $n"; return 1; fi
    done
    cmp -s "$r/opt/big.bin" "$T/big.new" || cmp -s "$r/opt/big.bin" "$SEED/opt/big.bin" || { echo "partial big.bin"; return 1; }
    [ ! -e "$r/opt/pkg" ] || { diff -r -x .nodeprep-extract "$T/src/pkg" "$r/opt/pkg" > /dev/null &&
        [ -f "$r/opt/pkg/.nodeprep-extract" ]; } || { echo "partial /opt/pkg"; return 1; }
}
# the tree as it was, exactly: rollback also removes the hidden temp files
# of killed writes
same_as_seed() { diff -r "$SEED" "$1" > /dev/null; }

kills=0 bad=0 litter=0
for sc in rename fsync write; do
    step=$([ $sc = rename ] && echo 1 || echo 4)
    # writes rename relative to the directory they resolved in the root (renameat)
    calls=$([ $sc = rename ] && echo rename,renameat,renameat2 || echo $sc)
    for k in $(seq 1 $step 400); do
        r=$T/k-$sc-$k; rm -rf "$r" "$r.st"; cp -a "$SEED" "$r"
        (strace -o /dev/null -e trace=$calls -e inject=$calls:signal=KILL:when=$k \
            $NP apply --root "$r" --state-dir "$r.st" "$T/crash.yaml" > "$r.out" 2>&1; exit $?) 2> /dev/null
        rc=$?
        [ $rc = 0 ] && { rm -rf "$r" "$r.st"; break; }   # past the last call: the apply finished
        [ $rc = 137 ] || { bad=$((bad + 1)); echo "# $sc #$k: exit $rc, not killed: $(tail -1 "$r.out")"; }
        kills=$((kills + 1))
        why=$(old_or_new "$r") || { bad=$((bad + 1)); echo "# $sc #$k: $why"; }
        litter=$((litter + $(find "$r" -name '.*.np-*' | wc -l)))
        cp -a "$r" "$r.again"
        if $NP rollback --state-dir "$r.st" > "$r.rb" 2>&1 || grep -q "nothing to roll back" "$r.rb"; then
            same_as_seed "$r" || { bad=$((bad + 1)); echo "# $sc #$k: rollback did not restore the original"; diff -r "$SEED" "$r" | head -3 | sed 's/^/#   /'; }
        else
            bad=$((bad + 1)); echo "# $sc #$k: rollback failed: $(tail -1 "$r.rb")"
        fi
        $NP apply --root "$r.again" --state-dir "$r.st2" "$T/crash.yaml" > /dev/null 2>&1 &&
            $NP apply --root "$r.again" --state-dir "$r.st2" "$T/crash.yaml" 2>&1 | grep -q ' 0 changed, 0 failed' ||
            { bad=$((bad + 1)); echo "# $sc #$k: re-apply did not converge"; }
        rm -rf "$r" "$r.st" "$r.again" "$r.st2" "$r.out" "$r.rb"
    done
done
echo "# $kills kills ($litter hidden temp files left beside targets, removed by the rollbacks)"
[ $kills -ge 60 ] && ok "SIGKILL at $kills exact points (renames, fsyncs, writes)" || notok "SIGKILL points" "only $kills kills: the apply made too few calls?"
[ $bad = 0 ] && ok "after every kill: old or new, rollback to the original, re-apply converges" ||
    notok "crash consistency" "$bad failures (see above)"

# an extracted tree replaced by a new archive: killed at every rename, dest
# is the whole old tree or the whole new one, never missing; rollback puts
# the old one back (kept in the journal's backups by a rename)
mkdir -p "$T/v1/pkg" && printf 'v1\n' > "$T/v1/pkg/only-in-v1" && tar -C "$T/v1" -czf "$SEED/srv/v1.tgz" pkg
printf 'recipe: v\nvars: { v: v1 }\nsteps:\n  - extract: { src: "/srv/{{ v }}.tgz", dest: /opt/pkg, strip_components: 1 }\n' > "$T/v.yaml"
$NP apply --root "$SEED" --state-dir "$T/v.st" "$T/v.yaml" > /dev/null
kills=0 bad=0
for k in $(seq 1 50); do
    r=$T/x$k; rm -rf "$r"; cp -a "$SEED" "$r"
    (strace -o /dev/null -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL:when=$k \
        $NP apply --root "$r" --state-dir "$r.st" -e v=pkg "$T/v.yaml" > /dev/null 2>&1; exit $?) 2> /dev/null
    rc=$?
    [ $rc = 0 ] && { rm -rf "$r" "$r.st"; break; }
    kills=$((kills + 1))
    if [ -e "$r/opt/pkg/only-in-v1" ]; then
        diff -r -x '.*.np-*' "$SEED/opt/pkg" "$r/opt/pkg" > /dev/null || { bad=1; echo "# rename #$k: the old tree is not whole"; }
    else
        diff -r -x .nodeprep-extract "$T/src/pkg" "$r/opt/pkg" > /dev/null || { bad=1; echo "# rename #$k: neither the old nor the new tree"; }
    fi
    $NP rollback --state-dir "$r.st" > "$r.rb" 2>&1 || grep -q "nothing to roll back" "$r.rb" || { bad=1; echo "# rename #$k: rollback failed"; }
    # killed before the old tree reached the backups, rollback says it was
    # not kept and leaves the tree as the kill did (old or new, checked above)
    if ! grep -q "not kept" "$r.rb"; then
        diff -r "$SEED/opt/pkg" "$r/opt/pkg" > /dev/null || { bad=1; echo "# rename #$k: rollback did not bring the old tree back"; }
    fi
    rm -rf "$r" "$r.st" "$r.rb"
done
[ $kills -ge 1 ] && [ $bad = 0 ] && ok "a tree being replaced is old or new at each of $kills renames, and rollback brings the old one back" ||
    notok "tree replacement" "$kills kills, see above"
r=$T/xfull; cp -a "$SEED" "$r"
check "a tree replaced by a full apply" $NP apply --root "$r" --state-dir "$r.st" -e v=pkg "$T/v.yaml"
check "rollback swaps the old tree back in, byte for byte" bash -c "$NP rollback --state-dir $r.st && diff -r $SEED/opt/pkg $r/opt/pkg"
check_grep "and says so" "restored  /opt/pkg \(tree\)" "$T/.out"
