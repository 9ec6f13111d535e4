# --persist: nodeprep's ControlPersist against real OpenSSH servers on
# loopback. The first run starts an ssh-master; a converged run after it
# opens no new connection or session on sshd (its own log says) and prints
# what a direct run prints; changes through the master land atomically and
# roll back; a streamed build log arrives through the passed descriptor; a
# master killed -9 is replaced; the socket directory is private and a loose
# one is refused; a refused key or host key gives the direct run's message
# and leaves no master; the master leaves after its idle time, and when sshd
# dies (the run in flight fails naming the host; once sshd is back a run
# works again); Ctrl-C in a run leaves the master serving; an inventory
# with --persist; --become through a master; only our uid served
# (SO_PEERCRED); ssh-master check/exit. Every
# master this test starts is stopped by it (checked at the end).
. tests/integration/lib.sh
. tests/helpers/sshd.sh
export XDG_RUNTIME_DIR=$T/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
CD=$XDG_RUNTIME_DIR/nodeprep-ssh
# this test's masters: they inherited its XDG_RUNTIME_DIR
masters() {
    local p
    for p in $(pgrep -f 'ssh-master [s]erve'); do
        tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qxF "XDG_RUNTIME_DIR=$T/run" && echo "$p"
    done
}
cleanup() { local p; for p in $(masters); do kill -9 "$p"; done; kill $SSHD1 $SSHD2 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
SSHD_LOGLEVEL=VERBOSE start_sshd "$T/s1"; SSHD1=$SSHD_PID; P1=$SSHD_PORT; KEY=$SSH_KEY; KH=$KNOWN_HOSTS
LOG=$T/s1/sshd.log
H=root@127.0.0.1:$P1
sessions() { grep -c "Starting session:" "$LOG"; }
logins() { grep -c "Accepted publickey" "$LOG"; }
# wait up to 5 s for CMD to succeed
wait_for() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; "$@"; }
no_master() { [ -z "$(masters)" ]; }
no_socket() { [ -z "$(ls "$CD" 2>/dev/null | grep '\.sock$')" ]; }
gone() { no_master && no_socket; }
export T CD; export -f masters no_master no_socket gone

python3 - "$T/r.yaml" <<'PY'
import json, sys
s = []
s += [{"name": f"dir {i}", "file": {"path": f"/etc/app/d{i}", "state": "directory", "mode": "0755"}} for i in range(5)]
s += [{"name": f"file {i}", "file": {"path": f"/etc/app/f{i}.conf", "content": f"value {i}\n", "mode": "0644"}} for i in range(5)]
s += [{"name": f"line {i}", "line": {"path": "/etc/app/lines.conf", "regexp": f"^key{i}=", "line": f"key{i}=on"}} for i in range(5)]
s += [{"name": f"verify {i}", "verify": {"command": ["sh", "-c", f'grep -qx key{i}=on "$NODEPREP_ROOT/etc/app/lines.conf"']}} for i in range(5)]
json.dump({"recipe": "persist", "steps": s}, open(sys.argv[1], "w"), indent=1)
PY
mkdir -p "$T/node"
np() { $NP "$1" --host "$H" -i "$KEY" --known-hosts "$KH" --root "$T/node" --state-dir "$T/st" "${@:2}"; }

check_exit "--persist takes seconds" 2 np plan --persist soon "$T/r.yaml"
check_exit "so does NODEPREP_SSH_PERSIST" 2 env NODEPREP_SSH_PERSIST=-1 $NP plan --host "$H" "$T/r.yaml"
check "first apply with --persist starts a master" np apply -v --persist 60 "$T/r.yaml"
check_grep "first apply: 15 changed (the verifies ok)" "^5 ok, 15 changed, 0 failed" "$T/.out"
check_grep "first apply: it started the master" "through ssh-master pid [0-9]+ \(started by this run\)" "$T/.out"
M1=$(masters)
[ "$(echo "$M1" | wc -w)" = 1 ] && ok "one master runs" || notok "one master runs" "masters: $M1"
check "the socket directory is ours, 0700" bash -c "[ \"\$(stat -c '%a %u %F' $CD)\" = '700 0 directory' ]"
check "the socket is 0600, the only one" bash -c "ls $CD/*.sock | wc -l | grep -qx 1 && [ \"\$(stat -c '%a %F' $CD/*.sock)\" = '600 socket' ]"

# converged: through the master, no new connection, no new session, same output
s0=$(sessions); l0=$(logins)
check "converged run through the master" np apply -v --persist 60 "$T/r.yaml"
cp "$T/.out" "$T/conv.out"
check_grep "converged: 0 changed" "^20 ok, 0 changed, 0 failed" "$T/conv.out"
check_grep "converged: the connection was reused" "through ssh-master pid $M1 \(connection reused\)" "$T/conv.out"
check_grep "converged: no SSH channel opened" "$H: 0 SSH channels, [1-4] shell round trips?, 0 SFTP requests" "$T/conv.out"
[ "$(sessions)" = "$s0" ] && ok "sshd saw no new session" || notok "sshd saw no new session" "$s0 -> $(sessions)"
[ "$(logins)" = "$l0" ] && ok "sshd saw no new login" || notok "sshd saw no new login" "$l0 -> $(logins)"
np apply "$T/r.yaml" > "$T/direct.out" 2>&1
NODEPREP_SSH_PERSIST=60 np apply "$T/r.yaml" > "$T/env.out" 2>&1
check "the same output as a direct run (NODEPREP_SSH_PERSIST=60)" cmp "$T/direct.out" "$T/env.out"
[ "$(masters)" = "$M1" ] && ok "still the one master" || notok "still the one master" "$(masters)"
check "plan through the master" np plan --persist 60 "$T/r.yaml"
check_grep "plan: nothing to change" "^15 ok, 0 to change, 0 failed, 5 skipped" "$T/.out"
check "facts through the master" bash -c "$NP facts --json --persist 60 --host $H -i $KEY --known-hosts $KH --root $T/node | grep -q '\"distro\"'"
l0=$(logins) # the direct run above logged in

# a change through the master: atomic (a new inode, no temp file), then rolled back
cp -a "$T/node" "$T/before"
printf 'tampered\n' > "$T/node/etc/app/f2.conf"; ino=$(stat -c %i "$T/node/etc/app/f2.conf")
sed -i 's/^key3=on$/key3=off/' "$T/node/etc/app/lines.conf"
cp -a "$T/node" "$T/drifted"
check "a drifted node is repaired through the master" np apply --persist 60 "$T/r.yaml"
check_grep "exactly the two drifted steps changed" "^18 ok, 2 changed, 0 failed" "$T/.out"
check "and equals the converged node" diff -r "$T/before" "$T/node"
check "the file was replaced by rename (a new inode), no temp file left" bash -c \
    "[ \$(stat -c %i $T/node/etc/app/f2.conf) != $ino ] && [ -z \"\$(find $T/node -name '.*.np-*')\" ]"
check "rollback through the master" np rollback --persist 60
check "rollback restored the drifted node byte for byte" diff -r "$T/drifted" "$T/node"
check "re-apply after the rollback" np apply --persist 60 "$T/r.yaml"
[ "$(masters)" = "$M1" ] && [ "$(logins)" = "$l0" ] && ok "all of it on the master's one connection" \
    || notok "all of it on the master's one connection" "masters: $(masters), logins $l0 -> $(logins)"

# a build's log streams through the descriptor passed to the master
cat > "$T/build.yaml" <<'YAML'
recipe: b
steps:
  - build:
      dir: /opt/b
      commands: ["mkdir -p $NODEPREP_ROOT/opt/b; echo built-on-the-node; echo to-stderr >&2; echo x > out.txt"]
      outputs: [out.txt]
YAML
mkdir -p "$T/node/opt/b"
check "a build through the master" np apply --persist 60 "$T/build.yaml"
check "its log has the command and both of its streams" bash -c \
    "grep -q '^+ mkdir' $T/st/logs/build-*.log && grep -qx built-on-the-node $T/st/logs/build-*.log && grep -qx to-stderr $T/st/logs/build-*.log"

# Ctrl-C while the master runs a command: that command finishes on the node,
# apply stops after its step (130), and the master goes on serving
cat > "$T/slow.yaml" <<'YAML'
recipe: slow
steps:
  - command: { shell: 'touch "$NODEPREP_ROOT/../slow-started"; sleep 2; touch "$NODEPREP_ROOT/../slow-done"' }
  - file: { path: /etc/app/after.conf, content: "x\n" }
YAML
rm -f "$T/slow-started" "$T/slow-done"
# (nodeprep itself in the background, not a function's subshell: the signal is for it)
$NP apply --host "$H" -i "$KEY" --known-hosts "$KH" --root "$T/node" --state-dir "$T/st" --persist 60 "$T/slow.yaml" > "$T/int.out" 2>&1 & app=$!
wait_for test -e "$T/slow-started"; kill -INT $app; wait $app; rc=$?
[ $rc = 130 ] && ok "Ctrl-C mid-command: apply exits 130" || notok "Ctrl-C mid-command: apply exits 130" "exit $rc: $(tail -3 "$T/int.out")"
check "the command in flight finished on the node; the next step did not run" bash -c \
    "[ -e $T/slow-done ] && [ ! -e $T/node/etc/app/after.conf ]"
check "the master still serves" np plan --persist 60 "$T/r.yaml"
[ "$(masters)" = "$M1" ] && ok "the same master" || notok "the same master" "$(masters)"

# two runs at once: the master serves one, the other waits its turn
for k in 1 2 3; do np plan --persist 60 "$T/r.yaml" > "$T/c$k.out" 2>&1 & eval c$k=\$!; done
wait $c1; r1=$?; wait $c2; r2=$?; wait $c3; r3=$?
[ "$r1$r2$r3" = 000 ] && [ "$(cat "$T"/c[123].out | grep -c '^15 ok, 0 to change, 0 failed, 5 skipped$')" = 3 ] \
    && ok "three runs at once through one master: each served in turn" \
    || notok "three runs at once through one master" "exits $r1 $r2 $r3: $(tail -n 2 "$T"/c[123].out)"
[ "$(masters)" = "$M1" ] && ok "and still the one master" || notok "and still the one master" "$(masters)"

# killed -9: the socket stays behind, nobody listens; the next run replaces it
kill -9 $M1; wait_for bash -c "! kill -0 $M1 2>/dev/null"
check "the stale socket is still there" bash -c "ls $CD/*.sock"
check "a run after the master was killed -9 succeeds" np apply -v --persist 60 "$T/r.yaml"
check_grep "with a new master" "through ssh-master pid [0-9]+ \(started by this run\)" "$T/.out"
M2=$(masters)
[ -n "$M2" ] && [ "$M2" != "$M1" ] && ok "a new master ($M2)" || notok "a new master" "masters: $M2"

# a stopped master (SIGSTOP, a debugger) is not waited for: a run that
# finds one says so and starts a new master; a run whose master is stopped
# under it fails within seconds, naming it, instead of hanging
kill -STOP $M2
t0=$(date +%s)
# (timeout: without the check these runs would wait for ever)
check "a run that finds its master stopped succeeds" timeout -s KILL 60 $NP apply --host "$H" -i "$KEY" --known-hosts "$KH" --root "$T/node" --state-dir "$T/st" --persist 60 "$T/r.yaml"
check_grep "and says the master is stopped" "ssh-master is stopped .*kill -CONT $M2" "$T/.out"
check "within seconds" test $(( $(date +%s) - t0 )) -le 10
M3=$(masters | grep -vx "$M2")
[ -n "$M3" ] && ok "through a new master ($M3)" || notok "through a new master" "masters: $(masters)"
kill -TERM $M2; kill -CONT $M2; wait_for bash -c "! kill -0 $M2 2>/dev/null"
cat > "$T/stop.yaml" <<'YAML'
recipe: stop
steps:
  - command: { shell: 'touch "$NODEPREP_ROOT/../stop-running"; sleep 3', creates: /never }
YAML
rm -f "$T/stop-running"
timeout -s KILL 60 $NP apply --host "$H" -i "$KEY" --known-hosts "$KH" --root "$T/node" --state-dir "$T/st" --persist 60 "$T/stop.yaml" > "$T/stop.out" 2>&1 &
SP=$!
wait_for test -e "$T/stop-running"
kill -STOP $M3; t0=$(date +%s)
wait $SP; rc=$?
[ $rc = 1 ] && ok "a master stopped under a run: the run fails (exit 1)" || notok "a master stopped under a run fails" "exit $rc: $(tail -3 "$T/stop.out")"
check "within seconds" test $(( $(date +%s) - t0 )) -le 10
check_grep "naming the master and how to resume it" "the ssh-master \(pid $M3\) is stopped .*kill -CONT $M3" "$T/stop.out"
kill -CONT $M3
check "resumed, the master serves again" timeout -s KILL 60 $NP plan -v --host "$H" -i "$KEY" --known-hosts "$KH" --root "$T/node" --state-dir "$T/st" --persist 60 "$T/r.yaml"
check_grep "the same master" "through ssh-master pid $M3 " "$T/.out"
M2=$M3

# ssh-master check / exit
sm() { $NP ssh-master "$1" --host "$H" -i "$KEY" --known-hosts "$KH" --root "$T/node" "${@:2}"; }
check "ssh-master check" sm check
check_grep "check names the pid" "^ssh-master for $H: pid $M2, " "$T/.out"
check "ssh-master exit" sm exit
check_grep "exit says so" "^ssh-master for $H \(pid $M2\) exited" "$T/.out"
check "no master, no socket after exit" wait_for gone
check "and no lock file: the master removes it under the lock" bash -c "! ls '$CD' | grep -q '\.lock\$'"
check_exit "check with none running: exit 1" 1 sm check
check_grep "and says none runs" "no ssh-master runs for $H" "$T/.out"
check "ssh-master start" sm start --persist 60
check_grep "start prints the state" "^ssh-master for $H: pid [0-9]+, " "$T/.out"
# only our uid is served (SO_PEERCRED): with the directory and socket opened
# up for the experiment, a hello from uid 65534 gets the connection closed,
# the same hello from us an answer
cat > "$T/hello.py" <<'PY'
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
h = json.dumps({"op": "hello", "version": 1, "persist": -1, "blobs": []}).encode()
try:
    s.sendall(struct.pack(">I", len(h)) + h)
    print("answered" if s.recv(4) else "closed")
except OSError:  # closed before our hello was even read
    print("closed")
PY
SOCK=$(ls "$CD"/*.sock)
chmod 0711 "$T" "$XDG_RUNTIME_DIR" "$CD"; chmod 0666 "$SOCK"; chmod 0644 "$T/hello.py"
/usr/bin/python3 "$T/hello.py" "$SOCK" > "$T/hello-us.out" 2>&1
check_grep "a hello from us is answered" "^answered$" "$T/hello-us.out"
(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$T/hello.py" "$SOCK") > "$T/hello-other.out" 2>&1
check_grep "a hello from another uid is refused" "^closed$" "$T/hello-other.out"
chmod 0700 "$T" "$XDG_RUNTIME_DIR" "$CD"; chmod 0600 "$SOCK"
check "exit again" sm exit

# the lock file goes with the master that holds it last; a run that waited
# on it meanwhile takes the new one: with the lock held from here, an
# exiting master and a new run both wait; released, the run gets a new
# master whichever goes first, and only one master and one socket remain
sm start --persist 60 > /dev/null 2>&1
LOCKF=$(ls "$CD"/*.lock 2>/dev/null)
check "a started master has its lock file" test -n "$LOCKF"
flock "$LOCKF" sleep 2 &
HOLD=$!
sleep 0.3
sm exit > "$T/exit-race.out" 2>&1 &
EX=$!
np plan --persist 60 "$T/r.yaml" > "$T/plan-race.out" 2>&1 &
PL=$!
wait $HOLD; wait $EX; ex=$?; wait $PL; pl=$?
check "a run waiting on the lock while the master exits: it runs (exit 0)" test "$pl" = 0
check "  the exit went through too" test "$ex" = 0
check "  one master and one socket remain" bash -c "[ \$(masters | wc -l) = 1 ] && [ \$(ls '$CD' | grep -c '\.sock\$') = 1 ]"
check "  and its exit leaves nothing behind (no socket, no lock file)" bash -c "$NP ssh-master exit --host '$H' -i '$KEY' --known-hosts '$KH' --root '$T/node' > /dev/null && [ -z \"\$(ls '$CD')\" ]"

# the socket directory must be private: refused, not loosened
chmod 0755 "$CD"
check_exit "a socket directory open to others is refused" 1 np plan --persist 60 "$T/r.yaml"
check_grep "naming it and the mode" "ssh-master directory '$CD' is open to others \(mode 0755" "$T/.out"
check "and it was left as it was, with no master" bash -c "[ \$(stat -c %a $CD) = 755 ] && no_master"
chmod 0700 "$CD"; chown 65534 "$CD"
check_exit "a socket directory owned by another uid is refused" 1 np plan --persist 60 "$T/r.yaml"
check_grep "naming the owner" "belongs to uid 65534" "$T/.out"
chown 0 "$CD"

# refused key and host key: the direct run's message, nothing left behind
ssh-keygen -q -t ed25519 -N '' -f "$T/stranger" <<< y > /dev/null
: > "$T/empty_kh"
bad() { $NP plan --host "$H" --root "$T/node" --state-dir "$T/st" "$@" "$T/r.yaml"; }
for c in "stranger key|-i $T/stranger --known-hosts $KH" "unknown host key|-i $KEY --known-hosts $T/empty_kh"; do
    name=${c%%|*}; args=${c#*|}
    bad $args > "$T/d.out" 2>&1; rd=$?
    bad $args --persist 60 > "$T/p.out" 2>&1; rp=$?
    [ $rd = 1 ] && [ $rp = 1 ] && cmp -s "$T/d.out" "$T/p.out" && ok "$name: the same error with --persist ($(head -1 "$T/p.out"))" \
        || notok "$name: the same error with --persist" "direct $rd: $(cat "$T/d.out") / persist $rp: $(cat "$T/p.out")"
    check "$name: no master, no socket left" wait_for gone
done
check "the refused host key was not added" test ! -s "$T/empty_kh"

# the idle time: gone after it, socket and all
check "a master with --persist 1" np plan --persist 1 "$T/r.yaml"
check "it exits after its idle second, removing its socket" wait_for gone

# sshd dies under a master: the run in flight fails naming the host, the
# master leaves; once sshd is back, a run starts a new master
cat > "$T/wait.yaml" <<'YAML'
recipe: w
steps:
  - command: { shell: 'touch "$NODEPREP_ROOT/../wait-running"; sleep 20' }
YAML
rm -f "$T/wait-running"
np apply --persist 60 "$T/wait.yaml" > "$T/drop.out" 2>&1 & app=$!
wait_for test -e "$T/wait-running"
M3=$(masters)
pkill -P "$SSHD1"; kill "$SSHD1"; wait $app; rc=$?
[ $rc = 1 ] && ok "sshd killed mid-command: the run fails (exit 1)" || notok "sshd killed mid-command: exit 1" "exit $rc: $(tail -3 "$T/drop.out")"
check_grep "sshd killed: the error names the host" "$H: .*(connection lost|closed)" "$T/drop.out"
check "the master left, with its socket" wait_for gone
check_exit "with sshd down, a run fails as a direct one does" 1 np plan --persist 60 "$T/r.yaml"
check_grep "naming the host" "$H: cannot connect" "$T/.out"
check "and leaves no master" wait_for gone
/usr/sbin/sshd -f "$T/s1/sshd_config" -E "$LOG"; wait_for test -s "$T/s1/sshd.pid"
for _ in $(seq 50); do SSHD1=$(cat "$T/s1/sshd.pid" 2>/dev/null); kill -0 "$SSHD1" 2>/dev/null && break; sleep 0.1; done
check "sshd back: a run starts a fresh master" np plan -v --persist 60 "$T/r.yaml"
check_grep "a fresh master" "started by this run" "$T/.out"
M4=$(masters); [ -n "$M4" ] && [ "$M4" != "$M3" ] && ok "a new master after sshd came back" || notok "a new master after sshd came back" "$M3 -> $M4"
check "exit it" sm exit

# an inventory with --persist: each host's child uses (and keeps) its master
two_host_inventory "$T/inv.yaml"
fleet() { $NP apply -v --inventory "$T/inv.yaml" --known-hosts "$T/kh2" --root "$T/node" --state-dir "$T/fleet" --forks 2 --persist 60 "$T/r.yaml"; }
check "inventory with --persist" fleet
check "two masters, one per host" bash -c "[ \$(masters | wc -l) = 2 ]"
check "inventory again" fleet
check_grep "inventory: per-host summary" "^  two +20 ok, 0 changed, 0 failed" "$T/.out"
check_grep "inventory: host one reused its master" "127.0.0.1:$P1: 0 SSH channels" "$T/.out"
check_grep "inventory: host two reused its master" "127.0.0.2:$P2: 0 SSH channels" "$T/.out"
check "both exit" bash -c "$NP ssh-master exit --host root@127.0.0.1:$P1 -i $KEY --known-hosts $T/kh2 --root $T/node && \
    $NP ssh-master exit --host root@127.0.0.2:$P2 -i $KEY --known-hosts $T/kh2 --root $T/node"

# --become through the master: sudo's shell is kept too; files are root's
BU=nppersist$$
login_user "$BU"
grant_sudo "$BU"
trap 'cleanup; userdel "$BU" 2>/dev/null; rm -f /etc/sudoers.d/$BU' EXIT
chmod 755 "$T" "$T/s1"; chmod 644 "$T/s1/authorized_keys"
mkdir -p "$T/bnode"
become() { $NP apply -v --become --host "$BU@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/bnode" --state-dir "$T/bst" --persist 60 "$T/r.yaml"; }
check "become: first apply through a master" become
check "become: the files are root's, not the login user's" bash -c "[ -s $T/bnode/etc/app/f1.conf ] && [ -z \"\$(find $T/bnode ! -user root)\" ]"
check "become: converged through the same master" become
check_grep "become: 0 changed" "^20 ok, 0 changed, 0 failed" "$T/.out"
check_grep "become: no SSH channel opened, the connection reused" "0 SSH channels.*|connection reused" "$T/.out"
check "become: exit its master" $NP ssh-master exit --become --host "$BU@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/bnode"

check "no master of this test is left" wait_for no_master
