# Batched checks over SSH against a real OpenSSH server on loopback: a
# converged run asks the node in a few round trips over one channel (counted
# by nodeprep with -v AND by sshd's own log of session channels), whatever
# the number of steps; the answers are never used after a change; a failing
# verify still fails; --become and an inventory batch too; a connection
# killed in the middle of a batch fails the run with the reason and leaves
# the node as it was (no half-written file, no temp file).
. tests/integration/lib.sh
. tests/helpers/sshd.sh
trap 'kill $SSHD1 2>/dev/null; rm -rf "$T"' EXIT
SSHD_LOGLEVEL=VERBOSE start_sshd "$T/s1"; SSHD1=$SSHD_PID; P1=$SSHD_PORT; KEY=$SSH_KEY; KH=$KNOWN_HOSTS
LOG=$T/s1/sshd.log

# N steps of each kind: file directory, file content, line, verify (distinct commands)
recipe() { # N FILE
    python3 - "$1" "$2" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
s = []
s += [{"name": f"dir {i}", "file": {"path": f"/etc/app/d{i}", "state": "directory", "mode": "0755"}} for i in range(n)]
s += [{"name": f"file {i}", "file": {"path": f"/etc/app/f{i}.conf", "content": f"value {i}\n", "mode": "0644"}} for i in range(n)]
s += [{"name": f"line {i}", "line": {"path": "/etc/app/lines.conf", "regexp": f"^key{i}=", "line": f"key{i}=on"}} for i in range(n)]
s += [{"name": f"verify {i}", "verify": {"command": ["sh", "-c", f'grep -qx key{i}=on "$NODEPREP_ROOT/etc/app/lines.conf"']}} for i in range(n)]
json.dump({"recipe": "batch", "steps": s}, open(out, "w"), indent=1)
PY
}
recipe 10 "$T/r40.yaml"; recipe 20 "$T/r80.yaml"
mkdir -p "$T/node" "$T/local"
remote() { $NP "$1" -v --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/node" --state-dir "$T/st" "${@:2}"; }
sessions() { grep -c "Starting session:" "$LOG"; }
# round trips of the last run, as nodeprep counted them
counted() { sed -n "s/.*: \([0-9]*\) SSH channels\{0,1\}, \([0-9]*\) shell round trips\{0,1\}, \([0-9]*\) SFTP requests\{0,1\}$/\1 \2 \3/p" "$T/.out"; }

$NP apply --root "$T/local" --state-dir "$T/st-local" "$T/r40.yaml" > /dev/null
check "first apply over SSH" remote apply "$T/r40.yaml"
check_grep "first apply: 30 changed" "10 ok, 30 changed, 0 failed" "$T/.out"
check "the node equals a local apply" diff -r "$T/local" "$T/node"
find "$T/node" -type f -exec sha256sum {} + | sort > "$T/sum.before"
before=$(sessions)
check "converged re-apply" remote apply "$T/r40.yaml"
check_grep "converged: 0 changed" "40 ok, 0 changed, 0 failed" "$T/.out"
read -r ch rt sf <<< "$(counted)"
[ "${ch:-99}" = 1 ] && [ "${rt:-99}" -le 4 ] && [ "${sf:-99}" = 0 ] && ok "converged 40 steps: one channel, at most 4 round trips, no SFTP (nodeprep: $ch/$rt/$sf)" \
    || notok "converged 40 steps: one channel, at most 4 round trips, no SFTP" "counted: $ch channels, $rt round trips, $sf SFTP"
check_grep "converged: the batch covered every step" "batch: [0-9]+ round trips?, .* 40 of 40 steps covered" "$T/.out"
n=$(( $(sessions) - before ))
[ "$n" = 1 ] && ok "sshd saw one session channel for the converged run" || notok "sshd saw one session channel for the converged run" "sshd logged $n"
find "$T/node" -type f -exec sha256sum {} + | sort > "$T/sum.after"
check "converged: nothing on the node was rewritten" cmp "$T/sum.before" "$T/sum.after"

# twice the steps, the same round trips: the cost does not grow with the recipe
remote80() { $NP "$1" -v --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/node80" --state-dir "$T/st80" "${@:2}"; }
mkdir -p "$T/node80"
check "first apply of 80 steps" remote80 apply "$T/r80.yaml"
check "converged 80 steps" remote80 apply "$T/r80.yaml"
check_grep "80 steps: 0 changed" "80 ok, 0 changed, 0 failed" "$T/.out"
read -r ch2 rt2 sf2 <<< "$(counted)"
[ "${ch2:-99}" = 1 ] && [ "${rt2:-99}" = "${rt:-0}" ] && [ "${sf2:-99}" = 0 ] && ok "80 steps cost the round trips of 40 ($rt2)" \
    || notok "80 steps cost the round trips of 40" "40: $ch/$rt/$sf, 80: $ch2/$rt2/$sf2"
check "converged plan is batched too" remote80 plan "$T/r80.yaml"
read -r ch3 rt3 sf3 <<< "$(counted)"
[ "${ch3:-99}" = 1 ] && [ "${rt3:-99}" -le 3 ] && ok "plan: one channel, at most 3 round trips ($rt3)" || notok "plan: one channel, at most 3 round trips" "$ch3/$rt3/$sf3"

# a node-side change between runs is seen and repaired; later steps see the repair
printf 'tampered\n' > "$T/node/etc/app/f3.conf"; sed -i 's/^key7=on$/key7=off/' "$T/node/etc/app/lines.conf"
check "a drifted node is repaired" remote apply "$T/r40.yaml"
check_grep "exactly the two drifted steps changed" "38 ok, 2 changed, 0 failed" "$T/.out"
check "and equals the local apply again" diff -r "$T/local" "$T/node"

# answers fetched before a change are never used after it: a file rewritten,
# then a line edit and a verify on the same file must see the new content
# (the line step, given the batch's stale "old=0", would append to that)
cat > "$T/chain.yaml" <<'YAML'
recipe: chain
steps:
  - file: { path: /etc/chain.conf, content: "a=1\nb=2\n" }
  - line: { path: /etc/chain.conf, regexp: "^b=", line: "b=2" }
  - verify: { command: [sh, -c, 'cat "$NODEPREP_ROOT/etc/chain.conf"'], expect_output: "^b=2$" }
YAML
printf 'old=0\n' > "$T/node/etc/chain.conf"
check "steps after a change see the node live" remote apply "$T/chain.yaml"
check_grep "only the file changed: the line step saw its new content" "2 ok, 1 changed, 0 failed" "$T/.out"
check "the node has exactly the new content" bash -c "[ \"\$(cat $T/node/etc/chain.conf)\" = \"\$(printf 'a=1\nb=2')\" ]"
check "chain converges" remote apply "$T/chain.yaml"
check_grep "chain: 0 changed" "3 ok, 0 changed, 0 failed" "$T/.out"

# a verify answered from the batch still fails the run, with its output
cat > "$T/bad.yaml" <<'YAML'
recipe: bad
steps:
  - file: { path: /etc/chain.conf, content: "a=1\nb=2\n" }
  - verify: { command: [sh, -c, 'echo nope; exit 3'] }
  - file: { path: /etc/never.conf, content: "x\n" }
YAML
check_exit "a failing verify fails the batched run" 1 remote apply "$T/bad.yaml"
check_grep "with its status and output" "expected exit status 0, got 3.*|nope" "$T/.out"
check "and the step after it did not run" test ! -e "$T/node/etc/never.conf"

# --become: the session's shell is sudo's; a converged run is still one channel
BU=npbatch$$
login_user "$BU"
grant_sudo "$BU"
trap 'kill $SSHD1 2>/dev/null; userdel "$BU" 2>/dev/null; rm -f /etc/sudoers.d/$BU; rm -rf "$T"' EXIT
chmod 755 "$T" "$T/s1"; chmod 644 "$T/s1/authorized_keys"
mkdir -p "$T/bnode"
become() { $NP apply -v --become --host "$BU@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/bnode" --state-dir "$T/bst" "$@"; }
check "become: first apply" become "$T/r40.yaml"
check "become: the node equals a local apply, owned by root" bash -c "diff -r $T/local $T/bnode && [ -z \"\$(find $T/bnode ! -user root)\" ]"
check "become: converged" become "$T/r40.yaml"
check_grep "become: 0 changed" "40 ok, 0 changed, 0 failed" "$T/.out"
read -r ch rt sf <<< "$(counted)"
[ "${ch:-99}" = 1 ] && [ "${rt:-99}" -le 4 ] && ok "become converged: one channel, at most 4 round trips ($rt)" || notok "become converged: one channel, at most 4 round trips" "$ch/$rt/$sf"

# an inventory: each host batches in its own process; per-host summaries stay
two_host_inventory "$T/inv.yaml"
trap 'kill $SSHD1 $SSHD2 2>/dev/null; userdel "$BU" 2>/dev/null; rm -f /etc/sudoers.d/$BU; rm -rf "$T"' EXIT
# both "hosts" are this machine behind two sshds: they share the converged root
check "inventory: converged on both hosts" $NP apply -v --inventory "$T/inv.yaml" --known-hosts "$T/kh2" --root "$T/node" --state-dir "$T/fleet" --forks 2 "$T/r40.yaml"
check_grep "inventory: per-host summary" "^  two +40 ok, 0 changed, 0 failed" "$T/.out"
check_grep "inventory: one channel on each host" "127.0.0.2:$P2: 1 SSH channel, [1-4] shell round trips?, 0 SFTP" "$T/.out"

# the connection dies in the middle of a batch: the verify in the batch
# signals it is running, then the test kills this sshd's session processes
cat > "$T/slow.yaml" <<'YAML'
recipe: slow
steps:
  - file: { path: /etc/app/f1.conf, content: "value 1\n", mode: "0644" }
  - line: { path: /etc/app/lines.conf, regexp: "^key1=", line: "key1=on" }
  - verify: { command: [sh, -c, 'touch "$NODEPREP_ROOT/../batch-running"; sleep 20'] }
  - file: { path: /etc/app/f1.conf, content: "changed after the batch\n" }
YAML
find "$T/node" -type f -exec sha256sum {} + | sort > "$T/sum.before"
rm -f "$T/batch-running"
start=$(date +%s)
remote apply "$T/slow.yaml" > "$T/drop.out" 2>&1 & app=$!
for _ in $(seq 100); do [ -e "$T/batch-running" ] && break; sleep 0.1; done
pkill -P "$SSHD1"; wait $app; rc=$?; took=$(( $(date +%s) - start ))
[ $rc = 1 ] && ok "dropped mid-batch: the apply fails (exit 1)" || notok "dropped mid-batch: exit" "exit $rc: $(tail -3 "$T/drop.out")"
check_grep "dropped mid-batch: the reason is given" "connection lost.*during the batched checks" "$T/drop.out"
[ "$took" -lt 15 ] && ok "dropped mid-batch: it did not wait for the command (${took}s)" || notok "dropped mid-batch: it did not wait" "${took}s"
find "$T/node" -type f -exec sha256sum {} + | sort > "$T/sum.after"
check "dropped mid-batch: every file on the node as it was" cmp "$T/sum.before" "$T/sum.after"
check "dropped mid-batch: no temp file left there" bash -c "[ -z \"\$(find $T/node -name '.*.np-*')\" ]"
