#!/usr/bin/env bash
# service steps on a host without systemd: nodeprep runs the daemon itself
# (provision/daemon.c): pid file, log file, readiness probe, started /
# stopped / restarted, a changed command line restarts it, a step naming
# only the service acts on the remembered command, rollback stops what an
# apply started, a recycled pid is never mistaken for the daemon. The
# daemon is a real one: Python's HTTP server on a free loopback port; the
# last part starts and stops it over SSH (a real sshd on loopback).
set -u
. tests/integration/lib.sh
if [ -d /run/systemd/system ]; then
    ok "service daemons: # SKIP this host runs systemd (units are used there; 10-nodeprep tests them)"
    exit 0
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
S=$T/state R=$T/run L=$T/log
cleanup() { [ -f "$R/web.pid" ] && kill "$(cat "$R/web.pid")" 2>/dev/null; [ -n "${SLEEPER:-}" ] && kill "$SLEEPER" 2>/dev/null
           [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cat > "$T/web.yaml" <<Y
recipe: web
vars: { st: started, greeting: hello }
steps:
  - name: web server
    service:
      name: np-test-web-$$
      state: "{{ st }}"
      command: [/usr/bin/python3, -m, http.server, --bind, 127.0.0.1, "$PORT"]
      cwd: $T
      env: { GREETING: "{{ greeting }}" }
      pid_file: $R/web.pid
      log_file: $L/web.log
      ready_url: "http://127.0.0.1:$PORT/"
      ready_timeout: 20
Y
printf 'recipe: byname\nvars: { st: restarted }\nsteps:\n  - service: { name: np-test-web-%s, pid_file: %s, state: "{{ st }}" }\n' $$ "$R/web.pid" > "$T/byname.yaml"
serves() { curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/"; }

check "daemon: start" $NP apply --state-dir "$S" "$T/web.yaml"
check_grep "daemon: the plan line names pid file and log" "start np-test-web-$$ \(daemon: pid file $R/web.pid, log $L/web.log\)" "$T/.out"
check "daemon: it runs and serves (ready_url waited for)" serves
check "daemon: in its own session, stdin /dev/null" bash -c "p=\$(cat $R/web.pid); [ \"\$(ps -o sid= -p \$p | tr -d ' ')\" = \$p ] && [ \"\$(readlink /proc/\$p/fd/0)\" = /dev/null ]"
check "daemon: environment from the step" bash -c "tr '\\0' '\\n' < /proc/\$(cat $R/web.pid)/environ | grep -qx GREETING=hello"
check_grep "daemon: log file has nodeprep's start line and the daemon's output" "nodeprep: starting /usr/bin/python3" "$L/web.log"
PID1=$(cat "$R/web.pid")
check "daemon: re-apply" $NP apply --state-dir "$S" "$T/web.yaml"
check_grep "daemon: converged, 0 changed" "1 ok, 0 changed" "$T/.out"
check "daemon: a changed command line restarts it" $NP apply --state-dir "$S" -e greeting=bye "$T/web.yaml"
check_grep "daemon: and says why" "restart np-test-web-$$ \(daemon started with another command line" "$T/.out"
PID2=$(cat "$R/web.pid")
check "daemon: new pid, old one gone" bash -c "[ $PID1 != $PID2 ] && ! grep -q '^State:[[:space:]]*[^Z[:space:]]' /proc/$PID1/status 2>/dev/null"
check "daemon: restarted by name only (remembered command)" $NP apply --state-dir "$S" "$T/byname.yaml"
PID3=$(cat "$R/web.pid")
check "daemon: restart gave a new pid, and it serves" bash -c "[ $PID3 != $PID2 ] && curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:$PORT/"
check "daemon: the remembered environment was kept" bash -c "tr '\\0' '\\n' < /proc/$PID3/environ | grep -qx GREETING=bye"
kill -9 "$PID3"; sleep 0.3
check "daemon: killed outside nodeprep (a zombie here: PID 1 does not reap), started again" $NP apply --state-dir "$S" -e greeting=bye "$T/web.yaml"
check_grep "daemon: seen as not running" "start np-test-web-$$" "$T/.out"
check "daemon: stopped by name" $NP apply --state-dir "$S" -e st=stopped "$T/byname.yaml"
check "daemon: gone, pid file removed" bash -c "[ ! -e $R/web.pid ] && ! curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:$PORT/"
check "daemon: stopping again changes nothing" $NP apply --state-dir "$S" -e st=stopped "$T/byname.yaml"
check_grep "daemon: 0 changed" "1 ok, 0 changed" "$T/.out"

# a recycled pid: the pid file names a live process that is not the daemon
sleep 300 & SLEEPER=$!
echo "$SLEEPER" > "$R/web.pid"
check "daemon: a pid file naming another program is not the daemon (started)" $NP apply --state-dir "$S" "$T/web.yaml"
check "daemon: the other program was left alone" kill -0 "$SLEEPER"
check "daemon: serves" serves

# rollback stops what the last apply started
check "daemon: stop for the rollback case" $NP apply --state-dir "$S" -e st=stopped "$T/byname.yaml"
check "daemon: apply starts it" $NP apply --state-dir "$S" "$T/web.yaml"
check "daemon: rollback" $NP rollback --state-dir "$S"
check_grep "daemon: rollback says it stopped the daemon" "stopped +daemon np-test-web-$$" "$T/.out"
check "daemon: nothing serves after the rollback" bash -c "! curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:$PORT/ && [ ! -e $R/web.pid ]"

# failures: a daemon that exits at once, one that never becomes ready
cat > "$T/bad.yaml" <<Y
recipe: bad
steps:
  - service:
      name: np-test-bad-$$
      state: started
      command: [/bin/sh, -c, "echo cannot bind the port >&2; exit 3"]
      pid_file: $R/bad.pid
      log_file: $L/bad.log
      ready_url: "http://127.0.0.1:$PORT/"
Y
check_exit "daemon: one that exits at once fails the step" 1 $NP apply --state-dir "$S" "$T/bad.yaml"
check_grep "daemon: with the last lines of its log" "exited while starting.*|cannot bind the port" "$T/.out"
cat > "$T/slow.yaml" <<Y
recipe: slow
steps:
  - service:
      name: np-test-slow-$$
      state: started
      command: [/bin/sleep, "600.$$"]
      pid_file: $R/slow.pid
      log_file: $L/slow.log
      ready: [/bin/false]
      ready_timeout: 2
Y
check_exit "daemon: one that never gets ready fails after ready_timeout" 1 $NP apply --state-dir "$S" "$T/slow.yaml"
check_grep "daemon: says so" "not ready after 2 s" "$T/.out"
check "daemon: and is not left running" bash -c "! pgrep -xf '/bin/sleep 600.$$'"

# the same over SSH: the daemon outlives the session that started it
. tests/helpers/sshd.sh
start_sshd "$T/sshd"
remote() { $NP apply --host "root@127.0.0.1:$SSHD_PORT" -i "$SSH_KEY" --known-hosts "$T/sshd/known_hosts" --state-dir "$T/ssh-st" "$@"; }
check "daemon over SSH: start" remote "$T/web.yaml"
check "daemon over SSH: it serves after the session ended" serves
check "daemon over SSH: converged" remote "$T/web.yaml"
check_grep "daemon over SSH: 0 changed" "1 ok, 0 changed" "$T/.out"
check "daemon over SSH: stopped by name" remote -e st=stopped "$T/byname.yaml"
check "daemon over SSH: gone" bash -c "[ ! -e $R/web.pid ] && ! curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:$PORT/"
