# kind on this host's own Docker engine, for real: kind built from its Go
# module with our patch for engines whose capability bounding set lacks a
# capability (kind/kind-bin.yaml), what `docker run --privileged` does on
# this engine, kind's base image assembled by kind/kind-base.yaml
# (debootstrap rootfs, containerd/runc/CNI/crictl from their modules, CRIU
# 4.1.1), and a node started by that kind: systemd is PID 1 and reaches
# "running", containerd 2.x serves, and crharness's counter scenario runs
# inside the node against the node's own containerd, runc and CRIU.
#
# State (rootfs, binaries, build fingerprints) lives in KIND_STATE (default
# /var/lib/nodeprep/kind, as for `make kind-cluster`), so a second run
# rebuilds nothing; a cold run costs a debootstrap and the Go builds.
. tests/integration/lib.sh
KS=${KIND_STATE:-/var/lib/nodeprep/kind}
name=np94-$$
node=$name-control-plane
KIND=
cleanup() {
    [ -n "$KIND" ] && "$KIND" delete cluster --name "$name" > /dev/null 2>&1
    docker rm -f "$name-priv" > /dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT

check "docker engine answers" docker version
if [ ! -x /usr/local/sbin/criu ]; then
    src=$(scripts/criu-source.sh "$KS/cache") && $NP apply --state-dir "$KS" --source criu="$src" recipes/criu.yaml > "$T/criu.log" 2>&1
fi

# --- kind itself ---------------------------------------------------------
check "kind-bin: kind built from its module, patched" $NP apply --state-dir "$KS" --recipe-path kind kind/kind-bin.yaml
ver=$(sed -n 's/^  kind_version: *//p' kind/kind-bin.yaml)
KIND=$KS/cache/kind/bin-$ver/kind
"$KIND" version > "$T/kv" 2>&1
check_grep "kind-bin: the binary is kind $ver" "^kind $ver " "$T/kv"
$NP apply --state-dir "$KS" --recipe-path kind kind/kind-bin.yaml > "$T/again" 2>&1
check_grep "kind-bin: a second apply changes nothing" "^[0-9]+ ok, 0 changed, 0 failed" "$T/again"

# --- what --privileged does on this engine --------------------------------
# The capabilities dockerd cannot hand out are those missing from its own
# bounding set; a --privileged container must then fail in runc. (A busybox
# rootfs imported for this check only.)
drop=$(scripts/docker-missing-caps)
echo "# capabilities dockerd cannot grant: ${drop:-none}"
mkdir -p "$T/bb/bin" && cp /bin/busybox "$T/bb/bin/busybox" && ln -s busybox "$T/bb/bin/true"
tar -C "$T/bb" -c . | docker import - "$name-bb:probe" > /dev/null
if [ -n "$drop" ]; then
    check_exit "--privileged fails on this engine (bounding set lacks $drop)" 125 \
        docker run --rm --name "$name-priv" --network none --privileged "$name-bb:probe" /bin/true
    check_grep "--privileged: runc's error is the capability one" "unable to apply caps: operation not permitted" "$T/.out"
    check "without $drop, the same container runs" docker run --rm --name "$name-priv" --network none \
        --cap-add=ALL $(printf -- '--cap-drop=%s ' ${drop//,/ }) "$name-bb:probe" /bin/true
else
    check "--privileged works on this engine" docker run --rm --name "$name-priv" --network none --privileged "$name-bb:probe" /bin/true
fi
docker rmi "$name-bb:probe" > /dev/null 2>&1
export KIND_EXPERIMENTAL_NODE_CAP_DROP=$drop

# --- the base image ------------------------------------------------------
base=nodeprep/kind-base:$ver
check "kind-base: base image assembled and imported" $NP apply --state-dir "$KS" --recipe-path kind kind/kind-base.yaml
id1=$(docker image inspect --format '{{.Id}}' "$base" 2>&1)
$NP apply --state-dir "$KS" --recipe-path kind kind/kind-base.yaml > "$T/again" 2>&1
check_grep "kind-base: a second apply changes nothing" "^[0-9]+ ok, 0 changed, 0 failed" "$T/again"
id2=$(docker image inspect --format '{{.Id}}' "$base" 2>&1)
check "kind-base: the image was not re-imported" test "$id1" = "$id2"

# --- a node started by kind ------------------------------------------------
# The base image has no kubeadm yet, so `create cluster` stops after the
# node is up; --retain keeps it for the checks below.
"$KIND" create cluster --name "$name" --image "$base" --retain --wait 0s > "$T/create" 2>&1
check_grep "kind create cluster: nodes prepared (systemd reached its target)" "✓ Preparing nodes" "$T/create"
check_grep "kind create cluster: stops at the missing /kind/version, as expected of a base image" "cat /kind/version" "$T/create"
check "kind create cluster: the node is running" docker inspect --format '{{.State.Running}}' "$node"
for _ in $(seq 60); do
    state=$(docker exec "$node" systemctl is-system-running 2>/dev/null)
    case $state in running|degraded) break ;; esac
    sleep 1
done
docker exec "$node" systemctl --failed --no-legend --no-pager > "$T/failed" 2>&1
check "node: systemd is PID 1 and the system is running (failed: $(tr '\n' ' ' < "$T/failed"))" test "$state" = running
docker exec "$node" cat /proc/1/comm > "$T/pid1" 2>&1
check_grep "node: PID 1 is systemd" "^systemd$" "$T/pid1"
docker exec "$node" ctr version > "$T/ctr" 2>&1
check_grep "node: containerd 2.x serves" "^  Version: +v2\." "$T/ctr"
docker exec "$node" runc --version > "$T/runc" 2>&1
check_grep "node: runc 1.2" "^runc version v?1\.2\." "$T/runc"
docker exec "$node" criu --version > "$T/criu" 2>&1
check_grep "node: CRIU 4.1.1" "^Version: 4\.1\.1" "$T/criu"

# crharness on the node: it drives the node's containerd (namespace
# crharness) with the node's ctr, runc and CRIU
# (/var/lib/crh: docker cp cannot write into the node's /tmp, a tmpfs; the
# counter image is made from a static busybox, copied in too)
docker exec "$node" mkdir -p /var/lib/crh
docker cp "$CRH" "$node:/usr/local/bin/crharness" > /dev/null
docker cp /bin/busybox "$node:/bin/busybox" > /dev/null
docker cp harness/scenarios/counter-basic.yaml "$node:/var/lib/crh/counter-basic.yaml" > /dev/null
check "node: crharness counter-basic on the node's containerd" docker exec "$node" crharness run \
    --backend containerd --containerd-socket /run/containerd/containerd.sock \
    --runtime /usr/local/sbin/runc --criu /usr/local/sbin/criu --work-dir /var/lib/crh/work \
    --report json:/var/lib/crh/r.json --report table:- /var/lib/crh/counter-basic.yaml
sed 's/^/#   /' "$T/.out" | tail -n 4
cp "$T/.out" "$T/node-run.out"
check "node: the run removed all it made in the node's containerd" bash -c "! grep -E 'could not remove' '$T/node-run.out'"
docker exec "$node" cat /var/lib/crh/r.json > "$T/r.json" 2>&1
check_grep "node: the scenario passed (JSON)" '"status": *"passed"' "$T/r.json"
check_grep "node: no scenario failed (JSON)" '"failed": *0' "$T/r.json"
"$KIND" delete cluster --name "$name" > /dev/null 2>&1

# --- the cluster: kind/kind-cr.yaml, what `make kind-cluster` applies ------
# Kubernetes and its images built from source (kind/kind-node.yaml), one
# node Ready, counter image loaded with `kind load image-archive`. Cold this
# part took 4 min on an idle VM after 92-k8s-node (the Kubernetes packages
# are in the shared Go cache by then; etcd, CoreDNS and the node image are
# its own); warm ~1 min.
KR=(--state-dir "$KS" --recipe-path kind -e cluster_name="$name" -e crharness="$PWD/$CRH")
check "kind-cr: cluster created, Ready, counter loaded" $NP apply "${KR[@]}" kind/kind-cr.yaml
$NP apply "${KR[@]}" kind/kind-cr.yaml > "$T/again" 2>&1
check_grep "kind-cr: a second apply rebuilds nothing and changes nothing" "^[0-9]+ ok, 0 changed, 0 failed" "$T/again"
docker exec "$node" crictl images > "$T/images" 2>&1
for i in kube-apiserver kube-controller-manager kube-scheduler etcd coredns pause; do
    check_grep "node: image $i built here and preloaded (nothing pulled)" "^nodeprep.local/$i " "$T/images"
done
for i in counter; do
    check_grep "node: counter image loaded by kind load image-archive" "/$i " "$T/images"
done
# a static pod's mirror may be a few seconds old (and not Ready yet) when
# kind-cr returns: wait for it, then ask which image it runs
check "node: kube-apiserver pod Ready" docker exec "$node" kubectl --kubeconfig /etc/kubernetes/admin.conf \
    -n kube-system wait --for=condition=Ready "pod/kube-apiserver-$node" --timeout=120s
docker exec "$node" kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system get pod \
    "kube-apiserver-$node" -o 'jsonpath={.spec.containers[0].image}' > "$T/apiimg" 2>&1
check_grep "node: kube-apiserver runs from the image built here" "^nodeprep.local/kube-apiserver:" "$T/apiimg"

# crharness on the node (the kubelet writes its archives there), against
# the real kubelet; its serving certificate is kubeadm's self-signed one,
# for the node's host name only, hence that CA and URL
docker cp "$CRH" "$node:/usr/local/bin/crharness" > /dev/null
docker exec "$node" mkdir -p /var/lib/crh
for s in kubelet-checkpoint kubelet-restore; do
    docker cp "harness/scenarios/$s.yaml" "$node:/var/lib/crh/$s.yaml" > /dev/null
done
KUB=(--backend kubelet --kubeconfig /etc/kubernetes/admin.conf --kubelet-url "https://$node:10250"
     --kubelet-ca /var/lib/kubelet/pki/kubelet.crt --work-dir /var/lib/crh/kwork)
check "kubelet-checkpoint on the kind cluster (real kubelet, containerd 2.2.9, CRIU 4.1.1)" \
    docker exec "$node" crharness run "${KUB[@]}" --report json:/var/lib/crh/k.json --report table:- \
    /var/lib/crh/kubelet-checkpoint.yaml
sed 's/^/#   /' "$T/.out" | grep -v DEPRECATION | tail -n 4
docker exec "$node" cat /var/lib/crh/k.json > "$T/k.json" 2>&1
check_grep "kubelet-checkpoint: passed (JSON)" '"status": *"passed"' "$T/k.json"
# restore as a new pod from a checkpoint image (crharness image
# from-checkpoint, imported into the node's containerd), then the restored
# container killed and restarted by the kubelet, and checkpointed again
check "kubelet-restore on the kind cluster (checkpoint image, kill after restore)" \
    docker exec "$node" crharness run "${KUB[@]}" --load-image 'ctr -n k8s.io images import {archive}' \
    --unload-image 'ctr -n k8s.io images rm {name}' \
    --report json:/var/lib/crh/r.json --report table:- /var/lib/crh/kubelet-restore.yaml
sed 's/^/#   /' "$T/.out" | grep -v DEPRECATION | tail -n 4
docker exec "$node" cat /var/lib/crh/r.json > "$T/r.json" 2>&1
check_grep "kubelet-restore: passed (JSON)" '"status": *"passed"' "$T/r.json"

# the seed's form, verbatim: a pod "counter" with a container "counter-container"
docker exec -i "$node" kubectl --kubeconfig /etc/kubernetes/admin.conf apply --validate=false -f - > "$T/pod" 2>&1 <<'POD'
apiVersion: v1
kind: Pod
metadata: { name: counter, namespace: default }
spec:
  containers:
    - name: counter-container
      image: counter:latest
      imagePullPolicy: Never
POD
check "seed: counter pod Running" docker exec "$node" kubectl --kubeconfig /etc/kubernetes/admin.conf \
    wait --for=condition=Ready pod/counter --timeout=120s
docker exec "$node" curl -sS -X POST -k --cert /etc/kubernetes/pki/apiserver-kubelet-client.crt \
    --key /etc/kubernetes/pki/apiserver-kubelet-client.key \
    https://localhost:10250/checkpoint/default/counter/counter-container > "$T/seed" 2>&1
check_grep "seed: docker exec ... curl -X POST .../checkpoint/default/counter/counter-container answers items" \
    '"items":\["/var/lib/kubelet/checkpoints/checkpoint-counter_default-counter-container-' "$T/seed"
ar=$(sed -n 's/.*"items":\["\([^"]*\)".*/\1/p' "$T/seed")
check "seed: the archive is on the node and holds CRIU images" \
    docker exec "$node" sh -c "tar -tf '$ar' | grep -q '^checkpoint/inventory.img$'"

# make kind-cluster-down
check "kind-down: cluster deleted" $NP apply --state-dir "$KS" --recipe-path kind -e cluster_name="$name" kind/kind-down.yaml
check "kind-down: no node container left" test -z "$(docker ps -aq --filter label=io.x-k8s.kind.cluster=$name)"
