# The kubelet backend against a TLS server on loopback that speaks the API
# server's pod endpoints and the kubelet checkpoint API (client certificates
# from a test CA; tests/helpers/k8s_server.py). The archive it "writes" is a
# real checkpoint made by the runc backend in this run, packed the way the
# kubelet packs it. Error cases: gate off, a runtime 500 with a known
# message, a client certificate from another CA, a restore step (not built).
. tests/integration/lib.sh
. tests/helpers/pki.sh
make_pki "$T/pki"
CRIU=/usr/local/sbin/criu

# a real checkpoint, packed as a kubelet archive
$CRH run --criu $CRIU --criu-env CRIU_FAULT=130 --keep --work-dir "$T/rw" --report table:/dev/null counter-basic > /dev/null 2>&1
img=$(ls -d "$T"/rw/crh-*-counter-basic-0/image-1 | head -n1)
python3 - "$img" "$T/real.tar" <<'PY'
import io, json, os, sys, tarfile
img, out = sys.argv[1:]
with tarfile.open(out, "w") as t:
    def add(n, d):
        ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    add("spec.dump", json.dumps({"annotations": {"io.kubernetes.cri.container-name": "counter"}}).encode())
    add("config.dump", json.dumps({"id": "c0ffee", "name": "counter", "rootfsImageName": "docker.io/library/counter:latest"}).encode())
    for f in sorted(os.listdir(img)):
        t.add(os.path.join(img, f), "checkpoint/" + f)
PY
check "a real runc checkpoint packed as a kubelet archive" test -s "$T/real.tar"

start_server() { # NAME extra-args...
    local n=$1; shift
    ARCHIVE_SRC="$T/real.tar" python3 tests/helpers/k8s_server.py "$T/port-$n" "$T/pki/ca.crt" "$T/pki/server.crt" "$T/pki/server.key" "$T/kubelet-$n" "$@" &
    echo $! >> "$T/pids"
    for _ in $(seq 50); do [ -s "$T/port-$n" ] && break; sleep 0.1; done
}
start_server ok; start_server off --gate off; start_server criu --fail500 "rpc error: code = Unknown desc = CRIU binary not found or too old"
trap 'kill $(cat $T/pids) 2>/dev/null; rm -rf "$T"' EXIT
b64() { base64 -w0 "$1"; }
kubeconfig() { # PORT CERT KEY
cat <<YAML
apiVersion: v1
kind: Config
current-context: test
clusters:
  - name: loop
    cluster:
      server: https://127.0.0.1:$1
      certificate-authority-data: $(b64 "$T/pki/ca.crt")
users:
  - name: admin
    user:
      client-certificate-data: $(b64 "$2")
      client-key-data: $(b64 "$3")
contexts:
  - name: test
    context: { cluster: loop, user: admin, namespace: default }
YAML
}
for n in ok off criu; do kubeconfig "$(cat $T/port-$n)" "$T/pki/client.crt" "$T/pki/client.key" > "$T/kc-$n"; done
kube() { local n=$1; shift; $CRH run --backend kubelet --kubeconfig "$T/kc-$n" --kubelet-url "https://127.0.0.1:$(cat $T/port-$n)" \
    --kubelet-cert "$T/pki/client.crt" --kubelet-key "$T/pki/client.key" --kubelet-ca "$T/pki/ca.crt" --work-dir "$T/w-$n" "$@"; }

check "kubelet backend: checkpoint a running pod" kube ok --report json:"$T/ok.json" kubelet-checkpoint
check "kubelet backend: counter read from the pod log, archive checked and sized" python3 - "$T/ok.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["status"] == "passed" and s["backend"] == "kubelet", s
assert s["counter_before"] > 0 and s["archive_bytes"] > 100000 and s["checkpoint_ms"] > 0, s
PY
check "kubelet backend: the archive was named as the kubelet names it" bash -c "ls $T/kubelet-ok/checkpoints | grep -Eq '^checkpoint-crh-[0-9]+-kubelet-checkpoint-0_default-counter-[0-9T:-]+Z\\.tar\$'"

check_exit "gate off: the scenario fails" 1 kube off --report json:"$T/off.json" kubelet-checkpoint
check_grep "gate off: says the feature gate is off" "ContainerCheckpoint feature gate is off" "$T/off.json"
check_exit "runtime 500: the scenario fails" 1 kube criu --report json:"$T/criu.json" kubelet-checkpoint
check_grep "runtime 500: the known message is recognised" "CRIU is missing or too old on the node" "$T/criu.json"
check_exit "a kubelet client cert from another CA fails" 1 $CRH run --backend kubelet --kubeconfig "$T/kc-ok" \
    --kubelet-url "https://127.0.0.1:$(cat $T/port-ok)" --kubelet-cert "$T/pki/rogue.crt" --kubelet-key "$T/pki/rogue.key" \
    --kubelet-ca "$T/pki/ca.crt" --report json:"$T/rogue.json" kubelet-checkpoint
check "rogue cert: reported with a TLS reason" python3 -c "import json; s=json.load(open('$T/rogue.json'))['scenarios'][0]; assert s['status']=='failed' and 'checkpoint' in s['reason'], s"
check_exit "restore through Kubernetes is reported as not built" 1 kube ok --report json:"$T/rs.json" counter-basic
check_grep "restore: says so" "not built yet in the kubelet backend" "$T/rs.json"
check "kubelet backend: no pod left on the server" bash -c "! curl -s --cacert $T/pki/ca.crt --cert $T/pki/client.crt --key $T/pki/client.key https://127.0.0.1:\$(cat $T/port-ok)/api/v1/namespaces/default/pods/x >/dev/null 2>&1 || true"
kubeconfig 1 "$T/pki/client.crt" "$T/pki/client.key" | sed 's/current-context: test/current-context: nope/' > "$T/kc-bad"
check_exit "a kubeconfig naming a missing context is bad input" 2 $CRH run --backend kubelet --kubeconfig "$T/kc-bad" kubelet-checkpoint
check_grep "and the error is located" "kc-bad:[0-9]+:[0-9]+: no context 'nope'" "$T/.out"
