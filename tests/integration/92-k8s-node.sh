#!/usr/bin/env bash
# A real one-node Kubernetes cluster on this machine (k8s/node.yaml through
# `make cluster`): kubelet, kube-apiserver, kube-controller-manager,
# kube-scheduler and etcd built
# from source, containerd 2.x with CRIU, every daemon supervised by
# nodeprep (no systemd here). A counter pod (crharness's image, imported
# into containerd's k8s.io namespace) is created through the API server,
# checkpointed with the seed's exact curl against the kubelet, the archive
# checked under /var/lib/kubelet/checkpoints; `make cluster-down` must then
# leave no process, mount or container behind. The first run builds
# everything (Go caches in /var/lib/nodeprep/cache/go); later runs only
# start the daemons.
set -u
. tests/integration/lib.sh
KC=/etc/kubernetes/admin.conf
K="/usr/local/bin/kubectl --kubeconfig=$KC"
CTR="/opt/containerd-2/bin/ctr --address /run/containerd/containerd.sock -n k8s.io"
CK=/var/lib/kubelet/checkpoints
before=$(ls "$CK" 2>/dev/null)
cleanup() {
    for f in $(ls "$CK" 2>/dev/null); do
        case " $before " in *" $f "*) ;; *) rm -f "$CK/$f" ;; esac
    done
    rm -rf "$T"
}
trap cleanup EXIT

t0=$(date +%s)
check "make cluster (cold: builds; warm: starts the daemons)" make -s cluster BIN="$(dirname "$NP")"
t1=$(date +%s)
echo "# make cluster took $((t1 - t0)) s"
cp "$T/.out" "$T/cluster.out"
check "its last line is KUBECONFIG=PATH" bash -c "tail -n 1 '$T/cluster.out' | grep -qx 'KUBECONFIG=$KC'"
check "make cluster again: converged" make -s cluster BIN="$(dirname "$NP")"
check_grep "0 changed on a running node" " 0 changed, 0 failed" "$T/.out"
echo "# make cluster (converged) took $(($(date +%s) - t1)) s"
check "every daemon runs under nodeprep" bash -c 'for n in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet; do p=$(cat /run/nodeprep/$n.pid) && grep -q "^State:[[:space:]]*[^Z[:space:]]" /proc/$p/status || exit 1; done'
check "the node is Ready" bash -c "$K get nodes --no-headers | grep -q ' Ready '"
check "kubelet and API server are the built ones" bash -c "$K version -o json | grep -q '\"gitVersion\": \"v1.37.2\"' && $K get nodes -o jsonpath='{.items[0].status.nodeInfo.kubeletVersion}' | grep -qx v1.37.2"
check "the container runtime is containerd 2.x" bash -c "$K get nodes -o jsonpath='{.items[0].status.nodeInfo.containerRuntimeVersion}' | grep -q '^containerd://2\\.'"

check "counter image" $CRH image counter -o "$T/counter.tar"
check "imported into containerd's k8s.io namespace" $CTR images import "$T/counter.tar"
cat > "$T/counter.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: { name: counter, namespace: default }
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: counter
    image: docker.io/library/counter:latest
    imagePullPolicy: Never
Y
$K delete pod counter --ignore-not-found --wait=true >/dev/null 2>&1
check "counter pod created through the API server" $K apply -f "$T/counter.yaml"
check "and Ready (scheduled, sandbox with CNI networking, container running)" $K wait --for=condition=Ready pod/counter --timeout=120s
check "the pod has an address on the CNI bridge" bash -c "$K get pod counter -o jsonpath='{.status.podIP}' | grep -q '^10\\.244\\.'"
sleep 1
check "the counter counts (pod log through the API server and the kubelet)" bash -c "[ \$($K logs counter | tail -n 1) -ge 1 ]"

# the controller manager at work: a new namespace gets its default service
# account and kube-root-ca.crt; a deployment gets a replica set and a pod
# that runs; a deleted pod of it is replaced
$K delete namespace np-cm --ignore-not-found --wait=true >/dev/null 2>&1
$K create namespace np-cm >/dev/null 2>&1
check "controller manager: a new namespace gets its default service account and kube-root-ca.crt" bash -c "
    for i in \$(seq 60); do $K -n np-cm get serviceaccount/default configmap/kube-root-ca.crt >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1"
$K -n np-cm apply -f - >/dev/null 2>&1 <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: { name: counter }
spec:
  replicas: 1
  selector: { matchLabels: { app: counter } }
  template:
    metadata: { labels: { app: counter } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - { name: counter, image: "docker.io/library/counter:latest", imagePullPolicy: Never }
Y
check "controller manager: a deployment's pod becomes available" $K -n np-cm wait --for=condition=Available deployment/counter --timeout=120s
first=$($K -n np-cm get pods -l app=counter -o 'jsonpath={.items[0].metadata.name}' 2>/dev/null)
$K -n np-cm delete pod "$first" --wait=true >/dev/null 2>&1
check "controller manager: a deleted pod of the deployment is replaced" bash -c "
    for i in \$(seq 120); do p=\$($K -n np-cm get pods -l app=counter --field-selector=status.phase=Running -o 'jsonpath={.items[*].metadata.name}' 2>/dev/null)
    [ -n \"\$p\" ] && [ \"\$p\" != '$first' ] && exit 0; sleep 0.5; done; exit 1"
check "controller manager: deleting the namespace finishes (namespace controller)" \
    $K delete namespace np-cm --wait=true --timeout=120s

# the seed's exact command
check "seed: curl -X POST -k --cert ... https://localhost:10250/checkpoint/default/counter/counter" \
    curl -X POST -k --cert /etc/kubernetes/pki/apiserver-kubelet-client.crt --key /etc/kubernetes/pki/apiserver-kubelet-client.key https://localhost:10250/checkpoint/default/counter/counter
cp "$T/.out" "$T/seed.json"
check_grep "the kubelet answers with the archive's path" '"items":\["/var/lib/kubelet/checkpoints/checkpoint-counter_default-counter-[^"]*\.tar"\]' "$T/seed.json"
A=$(grep -o '/var/lib/kubelet/checkpoints/[^"]*\.tar' "$T/seed.json")
check "the archive is there" test -s "$A"
check "it holds CRIU's images and the container's dumps" bash -c "tar tf '$A' > '$T/list' && grep -qx checkpoint/inventory.img '$T/list' && grep -qx spec.dump '$T/list' && grep -qx config.dump '$T/list' && grep -q '^checkpoint/pages-' '$T/list'"
check "crharness inspect reads it" $CRH inspect "$A"
check_grep "inspect names the container" "counter" "$T/.out"
check "no client certificate: refused (401)" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -k https://localhost:10250/checkpoint/default/counter/counter) = 401 ]"
check "the counter still runs after the checkpoint" $K wait --for=condition=Ready pod/counter --timeout=10s
check "its processes are in the kubelet's pod cgroups (what cluster-down must empty)" bash -c 'find /sys/fs/cgroup/*/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .'

t2=$(date +%s)
check "make cluster-down" make -s cluster-down BIN="$(dirname "$NP")"
echo "# make cluster-down took $(($(date +%s) - t2)) s"
check "no daemon of the node left (zombies aside: PID 1 here never reaps)" bash -c '
    for p in $(pgrep -f "^/usr/local/bin/(kubelet|kube-apiserver|kube-controller-manager|kube-scheduler|etcd)( |$)|^/opt/containerd-2/bin/containerd( |$)|containerd-shim-runc-v[2] .*-address /run/containerd/containerd.sock"); do
        # this machine only: the kind nodes of other tests run their own containerd
        [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/self/ns/pid)" ] || continue
        grep -q "^State:[[:space:]]*[^Z[:space:]]" /proc/$p/status 2>/dev/null && { echo "left: $p $(tr "\0" " " < /proc/$p/cmdline)"; exit 1; }
    done; true'
check "no container process left (nothing in the kubelet's pod cgroups)" bash -c '! find /sys/fs/cgroup/*/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | grep .'
check "no mount left under the kubelet, containerd or CNI netns" bash -c "! awk '\$5 ~ \"^(/var/lib/kubelet(/|$)|/run/containerd/|/var/lib/containerd/|/run/netns/cni-)\"' /proc/self/mountinfo | grep ."
check "no runc container state left" bash -c "! ls /run/containerd/runc/k8s.io 2>/dev/null | grep ."
check "no task dir left" bash -c "! ls /run/containerd/io.containerd.runtime.v2.task/k8s.io 2>/dev/null | grep ."
check "the CNI bridge is gone" bash -c "! ip link show np-cni0 2>/dev/null"
check "make cluster-down again: nothing to do" make -s cluster-down BIN="$(dirname "$NP")"
check_grep "cluster-down converged" " 0 changed, 0 failed" "$T/.out"
