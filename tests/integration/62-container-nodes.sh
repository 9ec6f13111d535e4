# Fleet and Vagrant tests on real container nodes: Debian 12 containers
# (recipes/node-image.yaml: debootstrap, built once and cached) with sshd,
# started by scripts/container-nodes on a Docker network of their own with
# their own addresses, keys and an inventory. The vagrant/ roles are
# applied to them for real over SSH; a node killed mid-apply is that host's
# failure while the others finish, and a re-run converges; a network cut
# fails the host with a clear error instead of hanging; Vagrant's docker
# provider brings master and worker up and nodeprep provisions them.
#
# Redirected, to keep CI lean (the real builds are tested elsewhere):
# - Go: the host's /usr/local/go is bind-mounted read-only, so go-toolchain
#   takes its "installed Go is new enough" path;
# - CRIU: --source criu= a tarball whose Makefile installs this host's real
#   CRIU 4.1.1 binary (built by 30-harness-runc.sh) as criu/criu, so fetch,
#   extract, build, install and `criu check` run on the node without a
#   45 s compile per node; build deps not installed (install_build_deps=false);
# - runc: --source runc= a git repo (tag v1.1.5) whose Makefile installs the
#   distribution's runc 1.1.5 (-e runc_version=1.1.5); its trial is off
#   (runc_trial=false): nested runc cannot make cgroups in a container here;
# - the kubelet endpoint probe is off (check_endpoint=false: no kubelet).
. tests/integration/lib.sh
t0=$(date +%s)
N=$T/nodes
export NODE_PREFIX=np62-$$ NODE_RUN_ARGS="-v /usr/local/go:/usr/local/go:ro"
V=$T/repo
vagrant_down() {
    [ -d "$V/vagrant/.vagrant" ] && (cd "$V/vagrant" && timeout 120 vagrant destroy -f >/dev/null 2>&1)
    docker rm -f $(docker ps -aq --filter label=nodeprep.nodes=np62v-$$) >/dev/null 2>&1
    docker network rm np62v-$$ >/dev/null 2>&1
}
trap 'scripts/container-nodes down "$N" >/dev/null 2>&1; vagrant_down; rm -rf "$T"' EXIT

check "three container nodes start (image built or cached)" scripts/container-nodes up "$N" master worker1 worker2
echo "# nodes up after $(( $(date +%s) - t0 )) s"
check "inventory: three hosts with their own addresses" python3 - "$N/inventory.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
addrs = [l.split('"')[1] for l in text.splitlines() if "address:" in l]
assert len(addrs) == 3 and len(set(addrs)) == 3, addrs
assert all(a.startswith("10.") for a in addrs), addrs
PY
node() { docker exec "$NODE_PREFIX-$1" "${@:2}"; }

# the stand-in sources (see the header)
F=$T/src; mkdir -p "$F/criu-4.1.1" "$F/runc"
cp /usr/local/sbin/criu "$F/criu-4.1.1/criu.prebuilt"
printf 'criu:\n\tmkdir -p criu && install -m 755 criu.prebuilt criu/criu\n' > "$F/criu-4.1.1/Makefile"
tar -C "$F" -cf "$F/criu.tar" criu-4.1.1
cp /usr/sbin/runc "$F/runc/runc.prebuilt"
printf 'runc:\n\tinstall -m 755 runc.prebuilt runc\n\techo "tags=$(BUILDTAGS)" > buildtags\n' > "$F/runc/Makefile"
(cd "$F/runc" && git init -q && git add . && git -c user.email=t@t -c user.name=t commit -qm stand-in && git tag v1.1.5)
OV="-e install_build_deps=false -e runc_trial=false -e runc_version=1.1.5 -e check_endpoint=false
    -e criu_sha256=$(sha256sum "$F/criu.tar" | cut -d' ' -f1) --source criu=$F/criu.tar --source runc=$F/runc"
# shellcheck disable=SC2086
ap() { $NP apply --inventory "$N/inventory.yaml" --known-hosts "$N/known_hosts" --state-dir "$T/fleet" \
       --recipe-path vagrant $OV "$@"; }

check "master role applied to the master node" ap --limit master -e role=master vagrant/master.yaml
check_grep "master: converged nothing failed" "^1 host, 0 failed" "$T/.out"

# workers, worker2 killed once its apply is under way (its CRIU tarball arrived)
ap --limit worker1,worker2 vagrant/worker.yaml > "$T/kill.out" 2>&1 &
apid=$!
for _ in $(seq 300); do node worker2 test -e /var/lib/nodeprep/cache/criu-4.1.1.tar 2>/dev/null && break; sleep 0.05; done
docker kill "$NODE_PREFIX-worker2" >/dev/null
wait $apid; rc=$?
[ $rc = 1 ] && ok "a node killed mid-apply fails the run (exit 1)" || notok "a node killed mid-apply fails the run" "exit $rc: $(tail -n 8 "$T/kill.out")"
check_grep "the killed node is that host's failure" "^  worker2 +.*(FAILED|[1-9][0-9]* failed)" "$T/kill.out"
check_grep "the other worker finished" "^  worker1 +[0-9]+ ok, [0-9]+ changed, 0 failed" "$T/kill.out"
check_grep "one host failed of two" "^2 hosts, 1 failed" "$T/kill.out"
docker start "$NODE_PREFIX-worker2" >/dev/null
ip2=$(awk '$1 == "worker2" {print $2}' "$N/addresses")
for _ in $(seq 100); do ssh-keyscan -T 2 "$ip2" >/dev/null 2>&1 && break; sleep 0.2; done
check "after a restart of the node, the re-run converges" ap --limit worker1,worker2 vagrant/worker.yaml
check_grep "re-run: both workers fine" "^2 hosts, 0 failed" "$T/.out"
check "all three converged: nothing changes" ap vagrant/worker.yaml --limit worker1,worker2
cp "$T/.out" "$T/conv.out"
check "converged: 0 changed on both workers" bash -c "[ \$(grep -cE '^  worker[12] +[0-9]+ ok, 0 changed, 0 failed' '$T/conv.out') = 2 ]"
check "the nodes got their roles" bash -c "[ \"\$(docker exec $NODE_PREFIX-master cat /etc/nodeprep/role)\" = master ] &&
    [ \"\$(docker exec $NODE_PREFIX-worker2 cat /etc/nodeprep/role)\" = worker ]"
check "CRIU 4.1.1 installed and checking on a node" node worker2 env CRIU_FAULT=130 /usr/local/sbin/criu check
check "runc and the CRI-O drop-in on a node" node worker1 sh -c 'runc --version | grep -q "1.1.5" &&
    grep -q "enable_criu_support = true" /etc/crio/crio.conf.d/10-criu.conf'
check "the kubelet gate on the master only" sh -c "docker exec $NODE_PREFIX-master grep -q 'ContainerCheckpoint: true' /var/lib/kubelet/config.yaml &&
    ! docker exec $NODE_PREFIX-worker1 test -e /var/lib/kubelet/config.yaml"

# network cut while a command runs on the node: an error within SSH_DEAD_S, no hang
net=$(cat "$N/network")
printf 'recipe: slow\nsteps:\n  - name: a long command\n    command: { shell: "sleep 120", timeout: 300 }\n' > "$T/slow.yaml"
s=$(date +%s)
$NP apply --inventory "$N/inventory.yaml" --known-hosts "$N/known_hosts" --state-dir "$T/fleet" --limit worker1 "$T/slow.yaml" > "$T/cut.out" 2>&1 &
apid=$!
sleep 3
docker network disconnect "$net" "$NODE_PREFIX-worker1"
wait $apid; rc=$?
took=$(( $(date +%s) - s ))
echo "# apply with the network cut mid-command ended after $took s (exit $rc)"
[ $rc = 1 ] && [ $took -lt 90 ] && ok "network cut mid-command: the host fails in $took s, no hang" ||
    notok "network cut mid-command: the host fails, no hang" "exit $rc after $took s: $(tail -n 5 "$T/cut.out")"
check_grep "network cut: the reason says the connection was lost" "connection lost|timed out|Timed out" "$T/cut.out"
s=$(date +%s)
check_exit "a disconnected node: the apply fails" 1 $NP apply --inventory "$N/inventory.yaml" --known-hosts "$N/known_hosts" \
    --state-dir "$T/fleet" --limit worker1 "$T/slow.yaml"
took=$(( $(date +%s) - s ))
[ $took -lt 30 ] && ok "a disconnected node fails within $took s" || notok "a disconnected node fails quickly" "$took s"
check_grep "disconnected: cannot connect, with the reason" "cannot connect: (no answer within|No route to host)" "$T/.out"
docker network connect --ip "$(awk '$1 == "worker1" {print $2}' "$N/addresses")" "$net" "$NODE_PREFIX-worker1"
check "the container nodes are removed" scripts/container-nodes down "$N"
check "nothing of them is left" bash -c "[ -z \"\$(docker ps -aq --filter label=nodeprep.nodes=$NODE_PREFIX)\" ] &&
    [ -z \"\$(docker network ls -q --filter label=nodeprep.nodes=$NODE_PREFIX)\" ]"
echo "# fleet part took $(( $(date +%s) - t0 )) s"

# Vagrant's docker provider on a copy of the tree (its .vagrant stays in $T)
t1=$(date +%s)
mkdir -p "$V" && cp -a vagrant "$V/" && rm -rf "$V/vagrant/.vagrant" && ln -s "$PWD/recipes" "$V/recipes" &&
    ln -s "$(cd "$(dirname "$NP")" && pwd)" "$V/bin"
export VAGRANT_HOME=$T/vagrant.d NODEPREP_DOCKER_NET=np62v-$$ NODEPREP_DOCKER_PREFIX=np62v-$$
export NODEPREP_DOCKER_SUBNET=10.$((RANDOM % 50 + 150)).$((RANDOM % 256)) NODEPREP_ARGS=$(printf "%s " $OV)
export NODEPREP_DOCKER_RUN_ARGS=$NODE_RUN_ARGS NODEPREP_DOCKER_SSH_PORT=$((20000 + RANDOM % 20000))
(cd "$V/vagrant" && timeout 600 vagrant up --provider=docker) > "$T/vagrant.out" 2>&1
rc=$?
[ $rc = 0 ] && ok "vagrant up --provider=docker: master and worker up and provisioned" ||
    notok "vagrant up --provider=docker" "exit $rc: $(grep -E -A2 'failed|rror' "$T/vagrant.out" | head -n 16)"
check "vagrant: the roles arrived (nodeprep over SSH as vagrant with sudo)" bash -c \
    "[ \"\$(docker exec np62v-$$-master cat /etc/nodeprep/role)\" = master ] && [ \"\$(docker exec np62v-$$-worker cat /etc/nodeprep/role)\" = worker ]"
check "vagrant: both provisioning applies failed nothing" bash -c "[ \$(grep -cE '[0-9]+ ok, [0-9]+ changed, 0 failed' '$T/vagrant.out') = 2 ]"
check "vagrant ssh-config makes an inventory" bash -c "cd '$V/vagrant' && vagrant ssh-config | '$V/bin/nodeprep' inventory from-vagrant - > $T/vinv.yaml && grep -q 'become: true' $T/vinv.yaml"
check "vagrant destroy removes the nodes" bash -c "cd '$V/vagrant' && vagrant destroy -f"
vagrant_down
echo "# vagrant part took $(( $(date +%s) - t1 )) s; 62-container-nodes took $(( $(date +%s) - t0 )) s"
