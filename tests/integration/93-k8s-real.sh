# crharness against the real one-node cluster of k8s/ (`make cluster`:
# kube-apiserver + etcd, kubelet, containerd 2.x with CRIU, all built from
# source): the kubelet backend's scenarios (checkpoint through the real
# kubelet API, restore as a new pod from a checkpoint image that containerd
# restores), the ContainerCheckpoint CRD with `crharness controller`
# (kubectl apply of the sample, kubectl describe says Phase: Completed; the
# crd backend end to end), and the real kubelet's errors as crharness
# reports them: unknown container, a certificate from another CA, a
# certificate the kubelet's authorizer refuses, a runtime error, the gate
# off (the kubelet restarted without it, then with it again).
# Uses the cluster when it is up; else (in CI: 92 took it down) brings it
# up, a warm `make cluster` only starts the daemons, and takes it down at
# the end.
. tests/integration/lib.sh
KUBECTL=/usr/local/bin/kubectl
KC=/etc/kubernetes/admin.conf
SOCK=/run/containerd/containerd.sock
CTR="/opt/containerd-2/bin/ctr --address $SOCK -n k8s.io"
PKI=/etc/kubernetes/pki
NS=crh-real-$$ NS2=crh-sa-$$
CTL= UP= CM=
CK=/var/lib/kubelet/checkpoints
before=$(ls "$CK" 2>/dev/null)
cleanup() {
    [ -n "$CTL" ] && kill -TERM "$CTL" 2>/dev/null
    [ -n "$CM" ] && kill -CONT "$CM" 2>/dev/null
    $KUBECTL --kubeconfig "$KC" delete namespace "$NS2" --wait=false > /dev/null 2>&1
    $KUBECTL --kubeconfig "$KC" delete namespace "$NS" --wait=false > /dev/null 2>&1
    $KUBECTL --kubeconfig "$KC" delete -f harness/k8s/containercheckpoint-crd.yaml --wait=false > /dev/null 2>&1
    # the archives and checkpoint images this test made
    for f in $(ls "$CK" 2>/dev/null); do case " $before " in *" $f "*) ;; *) rm -f "$CK/$f" ;; esac; done
    $CTR images ls -q 2>/dev/null | grep "^localhost/crharness/crh-" | xargs -r $CTR images rm > /dev/null 2>&1
    [ -n "$UP" ] && { make -s cluster-down BIN="$(dirname "$NP")" > "$T/down.log" 2>&1 || tail -n 5 "$T/down.log"; }
    rm -rf "$T"
}
trap cleanup EXIT
k() { $KUBECTL --kubeconfig "$KC" -n "$NS" "$@"; }

if ! $KUBECTL --kubeconfig "$KC" get --raw=/readyz --request-timeout=5s > /dev/null 2>&1; then
    if ! make -s cluster BIN="$(dirname "$NP")" > "$T/cluster.log" 2>&1; then
        notok "the cluster comes up (make cluster)" "$(tail -n 5 "$T/cluster.log")"
        exit 0
    fi
    UP=1
    KC=$(tail -n 1 "$T/cluster.log" | sed -n 's/^KUBECONFIG=//p')
fi
check "the real cluster answers (kubectl get nodes)" $KUBECTL --kubeconfig "$KC" get nodes
$KUBECTL --kubeconfig "$KC" create namespace "$NS" > /dev/null
# pods need the namespace's default service account (the controller manager makes it)
for _ in $(seq 60); do k get serviceaccount/default configmap/kube-root-ca.crt > /dev/null 2>&1 && break; sleep 0.5; done
# a kubeconfig whose context points at our namespace (the backends use the context's namespace)
$KUBECTL --kubeconfig "$KC" config view --raw --flatten > "$T/kc"
$KUBECTL --kubeconfig "$T/kc" config set-context --current --namespace "$NS" > /dev/null

# the counter image, put into containerd's k8s.io namespace (no registry)
$CRH image counter -o "$T/counter.tar" > /dev/null 2>&1
check "counter image imported into containerd (k8s.io)" $CTR images import "$T/counter.tar"

run() { $CRH run --kubeconfig "$T/kc" --work-dir "$T/w-$1" --report json:"$T/$1.json" "${@:2}"; }
check "kubelet backend on the real kubelet: kubelet-checkpoint" run ck --backend kubelet kubelet-checkpoint
check "kubelet-checkpoint: archive written by the kubelet under /var/lib/kubelet/checkpoints, checked and sized" python3 - "$T/ck.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["status"] == "passed" and s["backend"] == "kubelet", s
assert s["counter_before"] > 0 and s["archive_bytes"] > 10000 and s["checkpoint_ms"] > 0, s
PY
check "the archives are where the kubelet puts them" bash -c "ls /var/lib/kubelet/checkpoints | grep -Eq '^checkpoint-crh-[0-9]+-kubelet-checkpoint-0_$NS-counter-.*\\.tar\$'"

# A namespace made a moment ago has no default service account yet and
# admission refuses its pods (403) until the controller manager makes one:
# crharness waits for it. The controller manager is held stopped for 3 s
# so that the moment is certain, not a race.
# (-f: a process name is cut to 15 characters, "kube-controller")
CM=$(pgrep -f '^[^ ]*/kube-controller-manager ' | head -n 1)
if [ -z "$CM" ]; then
    notok "a kube-controller-manager runs" "pgrep -f found no kube-controller-manager"
else
    kill -STOP "$CM"
    $KUBECTL --kubeconfig "$KC" create namespace "$NS2" > /dev/null
    sed "s/namespace: $NS\$/namespace: $NS2/" "$T/kc" > "$T/kc2"
    $CRH run --kubeconfig "$T/kc2" --backend kubelet --work-dir "$T/w-sa" --report json:"$T/sa.json" \
        kubelet-checkpoint > "$T/sa.out" 2>&1 &
    sa=$!
    sleep 3
    check "a fresh namespace's pod is refused while it has no service account" \
        bash -c "! $KUBECTL --kubeconfig '$KC' -n $NS2 get serviceaccount/default > /dev/null 2>&1"
    kill -CONT "$CM"
    wait "$sa"; rc=$?
    check "crharness waits for the new namespace's default service account, then passes" test "$rc" = 0
    check_grep "  and says what it waits for" "waiting for namespace '$NS2' to get its default service account" "$T/sa.out"
fi

LOAD="--load-image '$CTR images import {archive}' --unload-image '$CTR images rm {name}'"
check "kubelet-restore: restored as a new pod from a checkpoint image containerd restores; counter went on" \
    bash -c "$CRH run --kubeconfig '$T/kc' --backend kubelet --work-dir '$T/w-rs' --run-dir '$T/rd-rs' --report json:'$T/rs.json' $LOAD kubelet-restore"
check "kubelet-restore: --unload-image took its checkpoint image off the node" \
    bash -c "! $CTR images ls -q 2>/dev/null | grep -q '^localhost/crharness/crh-[0-9]*-kubelet-restore-0:'"
check "kubelet-restore: checkpoint, restore, kill through an ephemeral container, restart and a second checkpoint measured" python3 - "$T/rs.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["status"] == "passed" and s["cycles"] == 2 and s["restore_ms"] > 0, s
PY
check "kubelet-kill-after-restore: the kubelet restarts a killed restored container" \
    bash -c "$CRH run --kubeconfig '$T/kc' --backend kubelet --work-dir '$T/w-kr' --report json:'$T/kr.json' $LOAD kubelet-kill-after-restore"

# a run SIGKILLed while its pods run (the original, and one restored from
# a checkpoint image it loaded): pods and image were written into the run
# record before they were made, and `crharness cleanup` deletes the pods
# through the API server and runs the recorded --unload-image (the next
# run's sweep does the same)
printf 'scenario: long-wait\nsteps:\n  - start\n  - wait: 800\n  - checkpoint: { leave_running: true }\n  - restore: { new_id: true }\n  - wait: 120000\n' > "$T/long-wait.yaml"
bash -c "exec $CRH run --kubeconfig '$T/kc' --backend kubelet --run-dir '$T/rd' --work-dir '$T/w-kill' $LOAD '$T/long-wait.yaml'" > "$T/kill.out" 2>&1 &
KP=$!
KPOD=crh-$KP-long-wait-0
for _ in $(seq 240); do [ "$(k get pod "$KPOD-r1" -o 'jsonpath={.status.phase}' 2>/dev/null)" = Running ] && break; sleep 0.5; done
check "a killed run's checkpoint image: on the node" bash -c "$CTR images ls -q 2>/dev/null | grep -q '^localhost/crharness/$KPOD:1\$'"
check "a killed run's pod: it runs" bash -c "[ \"\$($KUBECTL --kubeconfig $KC -n $NS get pod $KPOD -o 'jsonpath={.status.phase}')\" = Running ]"
kill -KILL $KP; wait $KP 2>/dev/null
check "a killed run's pod: still there after the SIGKILL" k get pod "$KPOD"
$CRH cleanup --run-dir "$T/rd" --dry-run > "$T/dry.out" 2>&1
check_grep "cleanup --dry-run lists the pod" "^left .*pod '$KPOD' in namespace $NS at https://" "$T/dry.out"
check "cleanup --dry-run left it running" k get pod "$KPOD"
check_grep "cleanup --dry-run names the checkpoint image it may have left, and the command cleanup runs" \
    "^may be left checkpoint image 'localhost/crharness/$KPOD:1' on the node \\(cleanup runs: .*images rm '?localhost/crharness/$KPOD:1'?\\)" "$T/dry.out"
check "cleanup --dry-run left the image on the node" bash -c "$CTR images ls -q 2>/dev/null | grep -q '^localhost/crharness/$KPOD:1\$'"
$CRH cleanup --run-dir "$T/rd" > "$T/clean.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "cleanup of a killed kubelet run exits 0" || notok "cleanup of a killed kubelet run exits 0" "exit $rc: $(cat "$T/clean.out")"
check_grep "cleanup says it deleted the pod" "^removed .*pod '$KPOD' in namespace $NS" "$T/clean.out"
check_grep "and the restored one" "^removed .*pod '$KPOD-r1' in namespace $NS" "$T/clean.out"
check_grep "cleanup says it removed the checkpoint image" "^removed .*checkpoint image 'localhost/crharness/$KPOD:1' on the node" "$T/clean.out"
check "the checkpoint image is gone from the node" bash -c "! $CTR images ls -q 2>/dev/null | grep -q '^localhost/crharness/$KPOD:'"
check "the pod is gone from the API server" bash -c "! $KUBECTL --kubeconfig $KC -n $NS get pod $KPOD 2>/dev/null"
check "a second cleanup finds nothing" bash -c "$CRH cleanup --run-dir $T/rd | grep -q '^0 dead runs'"

# the seed's pod: counter/counter (92 checkpoints it with the seed's curl)
k run counter --image=docker.io/library/counter:latest --image-pull-policy=Never --restart=Always > /dev/null
check "pod counter runs" k wait --for=condition=Ready pod/counter --timeout=90s

# ContainerCheckpoint CRD + crharness controller, for real
check "the ContainerCheckpoint CRD installs (kubectl apply)" $KUBECTL --kubeconfig "$KC" apply -f harness/k8s/containercheckpoint-crd.yaml
check "and is established" $KUBECTL --kubeconfig "$KC" wait --for=condition=Established crd/containercheckpoints.lpm.my.domain --timeout=30s
$CRH controller --kubeconfig "$KC" > "$T/ctl.out" 2> "$T/ctl.err" &
CTL=$!
sed "s/namespace: default/namespace: $NS/" harness/k8s/containercheckpoint-sample.yaml > "$T/sample.yaml"
check "the seed's object applies (kubectl apply)" k apply -f "$T/sample.yaml"
check "the controller brings it to Completed" k wait --for=jsonpath='{.status.phase}'=Completed containercheckpoint/counter-checkpoint --timeout=120s
k describe containercheckpoint counter-checkpoint > "$T/describe.txt" 2>&1
check_grep "kubectl describe shows Phase: Completed" "^ +Phase: +Completed$" "$T/describe.txt"
check "status.location is the kubelet's archive on this node" bash -c "loc=\$($KUBECTL --kubeconfig $KC -n $NS get containercheckpoint counter-checkpoint -o jsonpath='{.status.location}'); case \$loc in /var/lib/kubelet/checkpoints/checkpoint-counter_${NS}-counter-*.tar) test -s \"\$loc\";; *) false;; esac"
check "crd backend through the controller: kubelet-checkpoint passes" run crd --backend crd kubelet-checkpoint

# the real kubelet's errors, as the controller writes them into status.message
cc() { printf 'apiVersion: lpm.my.domain/v1\nkind: ContainerCheckpoint\nmetadata: {name: %s}\nspec: {podName: %s, containerName: %s}\n' "$1" "$2" "$3" | k apply -f - > /dev/null; }
failed() { # NAME PATTERN: the object ends Failed with a message matching PATTERN
    k wait --for=jsonpath='{.status.phase}'=Failed "containercheckpoint/$1" --timeout=60s > /dev/null &&
    k get containercheckpoint "$1" -o jsonpath='{.status.message}' | tee "$T/msg-$1" | grep -Eq "$2"
}
cc no-pod nosuchpod counter
check "an unknown pod: Failed, says so" failed no-pod "pod 'nosuchpod' not found in namespace '$NS'"
cc no-ctr counter nosuch
check "a container the kubelet does not know: its 404, translated" failed no-ctr "^404: the kubelet does not know pod '$NS/counter' container 'nosuch'"
k run done --image=docker.io/library/counter:latest --image-pull-policy=Never --restart=Never --command -- /bin/true > /dev/null
k wait --for=jsonpath='{.status.phase}'=Succeeded pod/done --timeout=60s > /dev/null
cc exited done done
check "a container that has exited: the runtime's error (HTTP 500) reported" failed exited "^HTTP 500 from the kubelet: .*"
kill -TERM "$CTL"; wait "$CTL"; rc=$?; CTL=
check "controller: SIGTERM ends it with 0" test "$rc" = 0

# certificates: one from another CA, one from the cluster CA
# for a user the kubelet's authorizer (the API server) does not allow
. tests/helpers/pki.sh
make_pki "$T/pki"
openssl req -newkey rsa:2048 -nodes -subj /CN=crh-nobody -keyout "$T/nobody.key" -out "$T/nobody.csr" 2>/dev/null
openssl x509 -req -in "$T/nobody.csr" -CA $PKI/ca.crt -CAkey $PKI/ca.key -CAcreateserial -CAserial "$T/ca.srl" -days 1 -out "$T/nobody.crt" 2>/dev/null
kb() { $CRH run --kubeconfig "$T/kc" --backend kubelet --work-dir "$T/w-$1" --report json:"$T/$1.json" "${@:2}" kubelet-checkpoint; }
# (the kubelet's TLS asks for a client certificate without requiring one, so
# an unknown CA fails authentication: 401, not a handshake error as in 90)
check_exit "a client certificate from another CA: the scenario fails" 1 kb rogue --kubelet-cert "$T/pki/rogue.crt" --kubelet-key "$T/pki/rogue.key"
check_grep "and it says the kubelet refused the certificate (401)" "401: the kubelet refused the client certificate" "$T/rogue.json"
check_exit "a certificate the kubelet's authorizer refuses: the scenario fails" 1 kb nobody --kubelet-cert "$T/nobody.crt" --kubelet-key "$T/nobody.key"
check_grep "and it says the kubelet refused the certificate (403)" "403: the kubelet refused the client certificate" "$T/nobody.json"

# gate off: the kubelet restarted with ContainerCheckpoint false (a yaml_set
# and a service restart), then recipes/kubelet-checkpoint.yaml puts it back
cat > "$T/gate-off.yaml" <<'EOF'
recipe: test-gate-off
steps:
  - name: gate off
    yaml_set: { path: /var/lib/kubelet/config.yaml, set: { featureGates.ContainerCheckpoint: false } }
    notify: restart kubelet
handlers:
  restart kubelet:
    service: { name: kubelet, state: restarted }
EOF
kubelet_ready() { for _ in $(seq 120); do curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:10248/healthz && return 0; sleep 0.5; done; return 1; }
gate() { # off|on: the kubelet restarted with the gate so
    if [ "$1" = off ]; then $NP apply --state-dir "$T/np" "$T/gate-off.yaml"
    else $NP apply --state-dir "$T/np" -e check_endpoint=false recipes/kubelet-checkpoint.yaml; fi && kubelet_ready
}
check "kubelet restarted with the ContainerCheckpoint gate off" gate off
check_exit "gate off: the scenario fails" 1 kb gateoff
check_grep "gate off: says the feature gate is off" "ContainerCheckpoint feature gate is off" "$T/gateoff.json"
check "kubelet back with the gate on (recipes/kubelet-checkpoint.yaml)" gate on
check "and it checkpoints again" kb gateon
