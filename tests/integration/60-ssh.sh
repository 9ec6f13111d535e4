# nodeprep over SSH against real OpenSSH servers on loopback (keys made
# here): remote apply == local apply, converged re-apply, rollback, host key
# policy (unknown, accepted, changed), a refused client key, an inventory of
# two hosts applied in parallel, --limit, a connection killed mid-apply, and
# inventory from-vagrant.
. tests/integration/lib.sh
. tests/helpers/sshd.sh
trap 'kill $SSHD1 $SSHD2 2>/dev/null; rm -rf "$T"' EXIT
start_sshd "$T/s1"; SSHD1=$SSHD_PID; P1=$SSHD_PORT; KEY=$SSH_KEY; KH=$T/kh
start_sshd "$T/s2"; SSHD2=$SSHD_PID; P2=$SSHD_PORT
cat "$T/s1/known_hosts" "$T/s2/known_hosts" > "$KH"
cp "$T/s1/client_key.pub" "$T/s2/authorized_keys"   # one client key for both
R=tests/data/recipes/node-cr.yaml
for d in local r1; do cp -a tests/data/fixture-root "$T/$d"; done
$NP apply --root "$T/local" --state-dir "$T/st-local" $R > /dev/null
remote() { $NP "$1" --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/r1" --state-dir "$T/st1" "${@:2}"; }

check "remote apply over SSH" remote apply $R
check_grep "remote apply changed what a local one does" '1 ok, 8 changed, 0 failed, 1 skipped' "$T/.out"
check "remote result is byte-identical to a local apply" diff -r "$T/local" "$T/r1"
check "remote re-apply converges" remote apply $R
check_grep "remote: 0 changed" ' 0 changed, 0 failed' "$T/.out"
check "remote facts" bash -c "$NP facts --json --host root@127.0.0.1:$P1 -i $KEY --known-hosts $KH | grep -q '\"distro\": \"debian\"'"
check "remote rollback" remote rollback
check "rollback restored the fixture byte for byte" diff -r tests/data/fixture-root "$T/r1"

: > "$T/empty_kh"
check_exit "unknown host key refused" 1 $NP apply --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$T/empty_kh" --root "$T/r1" --state-dir "$T/st1" $R
check_grep "says unknown host and how to accept" "refusing an unknown host.*--accept-new-host-key" "$T/.out"
check "nothing changed on the refused host" diff -r tests/data/fixture-root "$T/r1"
check "--accept-new-host-key adds it" $NP plan --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$T/empty_kh" --accept-new-host-key --root "$T/r1" --state-dir "$T/st1" $R
check_grep "the key was written" "^\[127.0.0.1\]:$P1 ssh-ed25519 " "$T/empty_kh"
sed "s/^\[127.0.0.1\]:$P1 /[127.0.0.1]:$P2 /" "$T/s2/known_hosts" > "$T/changed_kh"
sed -i "s/:$P2 /:$P1 /" "$T/changed_kh"   # s2's key under s1's name: a changed key
check_exit "changed host key refused, even with --accept-new-host-key" 1 $NP apply --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$T/changed_kh" --accept-new-host-key --root "$T/r1" --state-dir "$T/st1" $R
check_grep "says the key does not match" "does NOT match" "$T/.out"
ssh-keygen -q -t ed25519 -N '' -f "$T/stranger" <<< y > /dev/null
check_exit "a key the server does not know is refused" 1 $NP apply --host "root@127.0.0.1:$P1" -i "$T/stranger" --known-hosts "$KH" --root "$T/r1" --state-dir "$T/st1" $R
check_grep "says the key was refused" "key was refused|authentication failed" "$T/.out"

cat > "$T/inv.yaml" <<YAML
hosts:
  - name: node1
    address: 127.0.0.1
    port: $P1
    user: root
    key: $KEY
    vars: { gate: ContainerCheckpoint }
    roles: [master]
  - name: node2
    address: 127.0.0.1
    port: $P2
    key: $KEY
YAML
rm -rf "$T/r1" && cp -a tests/data/fixture-root "$T/r1"
# both "nodes" are this machine behind two sshds, so they share --root: the
# parallel applies write the same content to the same files (atomically)
check "inventory: two hosts in parallel" $NP apply --inventory "$T/inv.yaml" --known-hosts "$KH" --root "$T/r1" --state-dir "$T/fleet" --forks 2 $R
check_grep "inventory: a block per host" "^=== node1 \(127.0.0.1\)" "$T/.out"
check_grep "inventory: per-host summary" "^  node2 +[0-9]+ ok, [0-9]+ changed, 0 failed" "$T/.out"
check_grep "inventory: final line" "^2 hosts, 0 failed" "$T/.out"
# both hosts write the same root at once: the one that gets there second may
# find it converged (no change, so rightly no journal); every host that
# changed something has its journal under its own name, and one of them did
cp "$T/.out" "$T/inv.out"
check "inventory: each host has its own journal" bash -c "n=0; for h in node1 node2; do
    grep -Eq \"^  \$h +[0-9]+ ok, 0 changed\" $T/inv.out && continue; ls $T/fleet/hosts/\$h/runs || exit 1; n=\$((n+1)); done; [ \$n -ge 1 ]"
check "inventory: the result equals a local apply" diff -r "$T/local" "$T/r1"
check "inventory: --limit one host" $NP plan --inventory "$T/inv.yaml" --known-hosts "$KH" --root "$T/r1" --state-dir "$T/fleet" --limit node2 $R
check_grep "inventory: only node2 ran" "^1 host, 0 failed" "$T/.out"
check_exit "inventory: --limit matching nothing is bad usage" 2 $NP plan --inventory "$T/inv.yaml" --limit nobody $R
printf 'hosts:\n  - name: a\n    adress: x\n' > "$T/badinv.yaml"
check_exit "inventory: a typo is located" 2 $NP plan --inventory "$T/badinv.yaml" $R
check_grep "inventory: FILE:LINE:COL" "badinv.yaml:3:5: error: unknown key 'adress'" "$T/.out"
cat > "$T/unreach.yaml" <<YAML
hosts:
  - { name: gone, address: 127.0.0.1, port: 1, key: $KEY }
  - { name: node1, address: 127.0.0.1, port: $P1, key: $KEY }
YAML
check_exit "inventory: an unreachable host fails only itself" 1 $NP plan --inventory "$T/unreach.yaml" --known-hosts "$KH" --root "$T/r1" --state-dir "$T/fleet" $R
check_grep "inventory: the unreachable host is named" "^  gone +FAILED" "$T/.out"
check_grep "inventory: the other host still ran" "^  node1 +[0-9]+ ok" "$T/.out"

# Ctrl-C on an inventory run: each host's nodeprep runs in its own process
# group, so only the parent gets the terminal's SIGINT; it passes it on, the
# host in flight stops after its step, and no other host is started
cat > "$T/three.yaml" <<YAML
hosts:
  - { name: n1, address: 127.0.0.1, port: $P1, key: $KEY }
  - { name: n2, address: 127.0.0.1, port: $P1, key: $KEY }
  - { name: n3, address: 127.0.0.1, port: $P1, key: $KEY }
YAML
printf 'recipe: slow\nsteps:\n  - name: before\n    file: { path: /before.conf, content: "x\\n" }\n  - name: slow step\n    command: { shell: "sleep 2.031", creates: /never }\n  - name: after\n    file: { path: /after.conf, content: "x\\n" }\n' > "$T/slow.yaml"
mkdir -p "$T/r4" "$T/fltmp"
TMPDIR=$T/fltmp $NP apply --inventory "$T/three.yaml" --known-hosts "$KH" --root "$T/r4" --state-dir "$T/fleet4" --forks 1 "$T/slow.yaml" > "$T/fl.out" 2>&1 & FL=$!
for _ in $(seq 200); do pgrep -f 'sleep 2.031$' > /dev/null && break; sleep 0.05; done
check "inventory: the first host's slow step runs" pgrep -f 'sleep 2.031$'
kill -INT $FL; wait $FL; rc=$?
[ $rc = 130 ] && ok "inventory: SIGINT exits 130" || notok "inventory: SIGINT exits 130" "exit $rc: $(tail -5 "$T/fl.out")"
check_grep "inventory: the host in flight finished its step and stopped" "^  n1 +0 ok, 2 changed, 0 failed" "$T/fl.out"
check "inventory: ... before its next step" test ! -e "$T/r4/after.conf"
check_grep "inventory: its journal records the interruption" '"interrupted":"SIGINT"' "$T"/fleet4/hosts/n1/runs/*/journal.jsonl
check_grep "inventory: the others were not started, and say so" "^  n3 +not started: interrupted by SIGINT" "$T/fl.out"
check_grep "inventory: the last line says so" "^3 hosts, 0 failed, interrupted by SIGINT" "$T/fl.out"
check "inventory: no host run or temp dir left" bash -c "! pgrep -f -- '[-]-state-dir $T/fleet4' && [ -z \"\$(ls -A $T/fltmp)\" ]"

# a dropped connection mid-write never leaves a half-written managed file
head -c 200000000 /dev/zero > "$T/big.bin"
printf 'recipe: big\nsteps:\n  - install: { src: %s, dest: /opt/big.bin }\n' "$T/big.bin" > "$T/big.yaml"
mkdir -p "$T/r3"
remote3() { $NP apply --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/r3" --state-dir "$T/st3" "$T/big.yaml"; }
remote3 > "$T/kill.out" 2>&1 & app=$!
for _ in $(seq 100); do ls -a "$T/r3/opt" 2>/dev/null | grep -q np- && break; sleep 0.05; done
pkill -P "$SSHD1"; wait $app; rc=$?   # only this test's sshd's connections
[ $rc = 1 ] && ok "killed connection: the apply fails (exit 1)" || notok "killed connection: exit" "exit $rc: $(tail -2 $T/kill.out)"
check_grep "killed connection: says so" "connection lost|cannot|failed" "$T/kill.out"
check "killed connection: dest is absent, never partial" test ! -e "$T/r3/opt/big.bin"

cat > "$T/vagrant-ssh-config" <<'CFG'
Host master
  HostName 127.0.0.1
  User vagrant
  Port 2222
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile "/home/me/my project/.vagrant/machines/master/virtualbox/private_key"
  IdentitiesOnly yes
  LogLevel FATAL

Host worker
  HostName 127.0.0.1
  User vagrant
  Port 2200
  IdentityFile /home/me/p/.vagrant/machines/worker/virtualbox/private_key
CFG
check "inventory from-vagrant" bash -c "$NP inventory from-vagrant - < $T/vagrant-ssh-config > $T/vinv.yaml"
check "from-vagrant output is a valid inventory" $NP validate --inventory "$T/vinv.yaml" $R
check_grep "from-vagrant keeps ports, users, keys" 'key: "/home/me/my project/.vagrant/machines/master/virtualbox/private_key"' "$T/vinv.yaml"
check_grep "from-vagrant: the vagrant user becomes root" "become: true" "$T/vinv.yaml"
check_exit "from-vagrant with no hosts is bad input" 2 bash -c "echo nothing | $NP inventory from-vagrant -"

# the Vagrant environment: its Vagrantfile validates (Debian's vagrant,
# provider options ignored: no hypervisor here) and its bundles are valid
check "vagrant validate" bash -c "cd vagrant && vagrant validate -p"
check "the Vagrant bundles are valid recipes" $NP validate --recipe-path vagrant vagrant/master.yaml vagrant/common.yaml

# fetch on the control host (default) is uploaded; fetch_on: remote makes the node download
mkdir -p "$T/www" "$T/r4"; head -c 100000 /dev/urandom > "$T/www/f.bin"; fsum=$(sha256sum "$T/www/f.bin" | cut -d' ' -f1)
python3 tests/helpers/httpd.py "$T/www" "$T/port" & HTTPD=$!
trap 'kill $SSHD1 $SSHD2 $HTTPD 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
HP=$(cat "$T/port")
r4() { $NP apply --host "root@127.0.0.1:$P2" -i "$KEY" --known-hosts "$KH" --root "$T/r4" --state-dir "$T/st4" "$@"; }
printf 'recipe: f\nsteps:\n  - fetch: { url: "http://127.0.0.1:%s/f.bin", sha256: %s, dest: /opt/ctl.bin }\n  - fetch: { url: "http://127.0.0.1:%s/f.bin", sha256: %s, dest: /opt/node.bin, fetch_on: remote }\n' \
    "$HP" "$fsum" "$HP" "$fsum" > "$T/f.yaml"
check "fetch over SSH: control-host download uploaded, and fetch_on: remote" r4 "$T/f.yaml"
check "both copies are the served file" bash -c "cmp $T/www/f.bin $T/r4/opt/ctl.bin && cmp $T/www/f.bin $T/r4/opt/node.bin"
check "fetch over SSH converges" r4 "$T/f.yaml"
check_grep "fetch over SSH: 0 changed" "2 ok, 0 changed" "$T/.out"
printf 'recipe: f\nsteps:\n  - fetch: { url: "http://127.0.0.1:%s/f.bin", sha256: %s, dest: /opt/bad.bin, fetch_on: remote }\n' \
    "$HP" "$(printf '1%.0s' $(seq 64))" > "$T/fbad.yaml"
check_exit "fetch_on: remote with a wrong sha256 fails" 1 r4 "$T/fbad.yaml"
check "fetch_on: remote mismatch leaves nothing" bash -c "[ ! -e $T/r4/opt/bad.bin ] && [ ! -e $T/r4/opt/bad.bin.np-fetch ]"

# secrets never reach logs or results: a password in the environment and the
# private key's contents, with verbose logging and JSON output
keyline=$(sed -n 2p "$KEY")
NODEPREP_SSH_PASSWORD=np-secret-pw-4711 $NP apply -v --json --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" \
    --root "$T/r1" --state-dir "$T/st1" $R > "$T/secret.out" 2>&1
NODEPREP_SSH_PASSWORD=np-secret-pw-4711 $NP apply -v --host "root@127.0.0.1:$P1" -i "$T/stranger" --known-hosts "$KH" \
    --root "$T/r1" --state-dir "$T/st1" $R >> "$T/secret.out" 2>&1
check "the password never appears in output" bash -c "! grep -q np-secret-pw-4711 $T/secret.out"
check "the private key never appears in output" bash -c "! grep -qF '$keyline' $T/secret.out"
check "nor in the journal" bash -c "! grep -rq np-secret-pw-4711 $T/st1"

# sources and builds on a remote host: the archive fetched to the node is
# copied back, unpacked and checked here, and pushed as a tree; the git
# checkout is made here (file:// on this side) and pushed with its .git; the
# build runs on the node, fingerprinted by the node's find
mkdir -p "$T/src5/pkg/sub" "$T/r5" "$T/l5"
printf 'one\n' > "$T/src5/pkg/a.txt"; printf 'two\n' > "$T/src5/pkg/sub/b.txt"; ln -s a.txt "$T/src5/pkg/link"
tar -C "$T/src5" -czf "$T/src5.tgz" pkg; ssum=$(sha256sum "$T/src5.tgz" | cut -d' ' -f1)
git init -q -b main "$T/repo5" && printf 'gitfile\n' > "$T/repo5/g.txt" && git -C "$T/repo5" add g.txt && \
    git -C "$T/repo5" -c user.name=t -c user.email=t@t commit -qm one && git -C "$T/repo5" tag v1
cat > "$T/src.yaml" <<YAML
recipe: src
steps:
  - fetch: { url: "file://$T/src5.tgz", sha256: $ssum, dest: /opt/src.tgz }
  - extract: { src: /opt/src.tgz, dest: /opt/pkg, strip_components: 1 }
  - git: { repo: "file://$T/repo5", ref: v1, dest: /opt/repo }
  - build:
      dir: /opt/pkg
      commands: ["cat a.txt sub/b.txt ../repo/g.txt > all.txt", "git -C ../repo describe --tags > version.txt"]
      inputs: [a.txt, sub, ../repo/g.txt]
      outputs: [all.txt]
YAML
r5() { $NP apply --host "root@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/r5" --state-dir "$T/st5" "$@"; }
check "fetch, extract, git and build over SSH" r5 "$T/src.yaml"
check_grep "all four changed" "0 ok, 4 changed, 0 failed" "$T/.out"
check "the node's tree: extracted (symlink kept), checked out, built there" bash -c \
    "[ \"\$(cat $T/r5/opt/pkg/all.txt)\" = \"\$(printf 'one\ntwo\ngitfile')\" ] && [ -L $T/r5/opt/pkg/link ] && [ \"\$(cat $T/r5/opt/pkg/version.txt)\" = v1 ]"
$NP apply --root "$T/l5" --state-dir "$T/stl5" "$T/src.yaml" > /dev/null 2>&1
check "the same files as a local apply" diff -r -x .git -x .nodeprep-git "$T/l5/opt" "$T/r5/opt"
check "re-apply over SSH converges" r5 "$T/src.yaml"
check_grep "remote sources: 0 changed, build skipped" "4 ok, 0 changed, 0 failed" "$T/.out"
touch -d '2001-01-01' "$T/r5/opt/pkg/sub/b.txt"
check "an input changed on the node: rebuilt" r5 "$T/src.yaml"
check_grep "only the build ran" "3 ok, 1 changed, 0 failed" "$T/.out"
git -C "$T/repo5" -c user.name=t -c user.email=t@t commit -qm two --allow-empty && git -C "$T/repo5" tag v2
sed 's/ref: v1/ref: v2/' "$T/src.yaml" > "$T/src2.yaml"
check "a new ref is pushed" r5 "$T/src2.yaml"
check "the node's checkout is at the new commit" bash -c "[ \"\$(git -C $T/r5/opt/repo rev-parse HEAD)\" = \"\$(git -C $T/repo5 rev-parse v2)\" ]"
python3 - "$T/evil5.tgz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for n in ("pkg/ok.txt", "pkg/../../escape.txt"):
        ti = tarfile.TarInfo(n); ti.size = 2; t.addfile(ti, io.BytesIO(b"x\n"))
PY
esum=$(sha256sum "$T/evil5.tgz" | cut -d' ' -f1)
printf 'recipe: evil\nsteps:\n  - fetch: { url: "file://%s", sha256: %s, dest: /opt/evil.tgz }\n  - extract: { src: /opt/evil.tgz, dest: /opt/evil, strip_components: 1 }\n' \
    "$T/evil5.tgz" "$esum" > "$T/evil5.yaml"
check_exit "a hostile archive on the node is refused" 1 r5 "$T/evil5.yaml"
check_grep "naming the entry" "\.\./\.\./escape\.txt|\.\." "$T/.out"
check "nothing of it on the node" bash -c "[ ! -e $T/r5/opt/evil ] && [ ! -e $T/r5/escape.txt ] && [ ! -e $T/escape.txt ] && ! ls $T/r5/opt | grep -q np-push"

# service and packages run on the node, not here: this sshd lives in its own
# mount namespace with a tmpfs over $T/ns, so only the "node" sees that root
# (a Debian root whose dpkg database lists np-demo)
mkdir -p "$T/ns" "$T/ns-seed/var/lib/dpkg" "$T/ns-seed/usr/bin" && : > "$T/ns-seed/usr/bin/apt-get"
printf 'Package: np-demo\nStatus: install ok installed\nMaintainer: t <t@t>\nVersion: 1\nArchitecture: all\nDescription: x\n\n' > "$T/ns-seed/var/lib/dpkg/status"
printf '#!/bin/sh\nmount -t tmpfs np-node "$NS" && cp -a "$NS_SEED"/. "$NS"/ && exec "$@"\n' > "$T/nswrap" && chmod +x "$T/nswrap"
SSHD_WRAP="env NS=$T/ns NS_SEED=$T/ns-seed unshare -m --propagation private $T/nswrap" start_sshd "$T/s3"; SSHD3=$SSHD_PID
trap 'kill $SSHD1 $SSHD2 $SSHD3 $HTTPD 2>/dev/null; rm -rf "$T"' EXIT
cp "$T/s1/client_key.pub" "$T/s3/authorized_keys"
cat > "$T/svc.yaml" <<'YAML'
recipe: svc
steps:
  - file: { path: /etc/systemd/system/np-demo.service, content: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n" }
  - service: { name: np-demo.service, enabled: true }
  - packages: { names: [np-demo] }
YAML
r7() { $NP apply --host "root@127.0.0.1:$SSHD_PORT" -i "$KEY" --known-hosts "$KNOWN_HOSTS" --root "$T/ns" --state-dir "$T/st7" "$@"; }
check "service and packages over SSH" r7 "$T/svc.yaml"
check_grep "the unit enabled, the package found in the node's database" "1 ok, 2 changed, 0 failed" "$T/.out"
check "systemctl ran on the node: the wants link is in its root" \
    nsenter -t "$SSHD3" -m test -L "$T/ns/etc/systemd/system/multi-user.target.wants/np-demo.service"
check "and nothing of it here" bash -c "[ -z \"\$(ls -A $T/ns)\" ]"
check "service and packages over SSH converge" r7 "$T/svc.yaml"
check_grep "over SSH: 0 changed" "3 ok, 0 changed, 0 failed" "$T/.out"

# --become: a non-root user whose sudo (NOPASSWD) does the work, as on a
# Vagrant box. The user and its sudoers entry are made here and removed on exit.
BU=nptest$$
login_user "$BU"
chmod 755 "$T" "$T/s1"   # sshd reads the authorized keys as the user
trap 'kill $SSHD1 $SSHD2 $SSHD3 $HTTPD 2>/dev/null; userdel "$BU" 2>/dev/null; rm -f /etc/sudoers.d/$BU; rm -rf "$T"' EXIT
rm -rf "$T/r6" && cp -a tests/data/fixture-root "$T/r6"
r6() { $NP apply --host "$BU@127.0.0.1:$P1" -i "$KEY" --known-hosts "$KH" --root "$T/r6" --state-dir "$T/st6" "$@"; }
check_exit "become without sudo rights fails" 1 r6 --become $R
check_grep "and says sudo refused" "sudo: a password is required" "$T/.out"
check "and changed nothing" diff -r tests/data/fixture-root "$T/r6"
grant_sudo "$BU"
check "become: apply as a sudo user" r6 --become $R
check "become: the result equals a local apply" diff -r "$T/local" "$T/r6"
check "become: files written as root, not as the login user" bash -c "[ -z \"\$(find $T/r6 -user $BU)\" ]"
check "become: re-apply converges" r6 --become $R
check_grep "become: 0 changed" ' 0 changed, 0 failed' "$T/.out"
rm -rf "$T/r6" && cp -a tests/data/fixture-root "$T/r6"
check_exit "without --become the same user cannot write there" 1 r6 $R
check "and nothing was changed there" diff -r tests/data/fixture-root "$T/r6"

# the other ways in: a key held by ssh-agent (no -i), and a password from
# NODEPREP_SSH_PASSWORD against a server that allows passwords
AGENT=$(ssh-agent -a "$T/agent.sock" -s | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
SSH_AUTH_SOCK=$T/agent.sock ssh-add -q "$KEY" 2> /dev/null
rm -rf "$T/r8" && cp -a tests/data/fixture-root "$T/r8"
r8() { $NP apply --host "root@127.0.0.1:$P1" --known-hosts "$KH" --root "$T/r8" --state-dir "$T/st8" $R; }
export NP T P1 KH R; export -f r8
check "ssh-agent: apply with the agent's key, no -i" env SSH_AUTH_SOCK="$T/agent.sock" bash -c r8
check "ssh-agent: the result equals a local apply" diff -r "$T/local" "$T/r8"
check_exit "no key, no agent, no password: refused (exit 1)" 1 env -u SSH_AUTH_SOCK bash -c r8
check_grep "and says how to give a password" "authentication failed.*NODEPREP_SSH_PASSWORD" "$T/.out"
kill "$AGENT"
echo "$BU:np-pw-$$" | chpasswd
SSHD_PASSWORD_AUTH=yes start_sshd "$T/s4"; SSHD4=$SSHD_PID
trap 'kill $SSHD1 $SSHD2 $SSHD3 $SSHD4 $AGENT $HTTPD 2>/dev/null; userdel "$BU" 2>/dev/null; rm -f /etc/sudoers.d/$BU; rm -rf "$T"' EXIT
r9() { env -u SSH_AUTH_SOCK $NP plan --host "$BU@127.0.0.1:$SSHD_PORT" --known-hosts "$KNOWN_HOSTS" --root "$T/r8" --state-dir "$T/st9" $R; }
export BU SSHD_PORT KNOWN_HOSTS; export -f r9
check "password auth from NODEPREP_SSH_PASSWORD" env NODEPREP_SSH_PASSWORD="np-pw-$$" bash -c r9
check_grep "password auth: the plan ran there" " 0 to change, 0 failed" "$T/.out"
check_exit "a wrong password is refused (exit 1)" 1 env NODEPREP_SSH_PASSWORD=wrong bash -c r9
check_grep "and says the password was refused" "password refused" "$T/.out"
check "neither password appears in the output" bash -c "! grep -q np-pw-$$ $T/.out"
