# The kubelet backend against a TLS server on loopback that speaks the API
# server's pod endpoints and the kubelet checkpoint API (client certificates
# from a test CA; tests/helpers/k8s_server.py). The archive it "writes" is a
# real checkpoint made by the runc backend in this run, packed the way the
# kubelet packs it. Error cases: gate off, a runtime 500 with a known
# message, a client certificate from another CA. Restore: the same server
# with --runc runs pods as real runc containers (tests/helpers/node_runtime.py),
# so a checkpoint image built by crharness is restored by runc and the
# counter must go on.
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
assert s["counter_after"] is None, s  # nothing was restored
PY
check "kubelet backend: the table shows no value after for a scenario that restored nothing" kube ok \
    --report table:- kubelet-checkpoint
check_grep "and the counter column is the checkpoint's value alone" "pass .* [0-9]+ *$" "$T/.out"
check "kubelet backend: the archive was named as the kubelet names it" bash -c "ls $T/kubelet-ok/checkpoints | grep -Eq '^checkpoint-crh-[0-9]+-kubelet-checkpoint-0_default-counter-[0-9T:-]+Z\\.tar\$'"

check_exit "gate off: the scenario fails" 1 kube off --report json:"$T/off.json" kubelet-checkpoint
check_grep "gate off: says the feature gate is off" "ContainerCheckpoint feature gate is off" "$T/off.json"
check_exit "runtime 500: the scenario fails" 1 kube criu --report json:"$T/criu.json" kubelet-checkpoint
check_grep "runtime 500: the known message is recognised" "CRIU is missing or too old on the node" "$T/criu.json"
check_exit "a kubelet client cert from another CA fails" 1 $CRH run --backend kubelet --kubeconfig "$T/kc-ok" \
    --kubelet-url "https://127.0.0.1:$(cat $T/port-ok)" --kubelet-cert "$T/pki/rogue.crt" --kubelet-key "$T/pki/rogue.key" \
    --kubelet-ca "$T/pki/ca.crt" --report json:"$T/rogue.json" kubelet-checkpoint
check "rogue cert: reported with a TLS reason" python3 -c "import json; s=json.load(open('$T/rogue.json'))['scenarios'][0]; assert s['status']=='failed' and 'checkpoint' in s['reason'], s"
check "kubelet backend: no pod left on the server" bash -c "! curl -s --cacert $T/pki/ca.crt --cert $T/pki/client.crt --key $T/pki/client.key https://127.0.0.1:\$(cat $T/port-ok)/api/v1/namespaces/default/pods/x >/dev/null 2>&1 || true"
kubeconfig 1 "$T/pki/client.crt" "$T/pki/client.key" | sed 's/current-context: test/current-context: nope/' > "$T/kc-bad"
check_exit "a kubeconfig naming a missing context is bad input" 2 $CRH run --backend kubelet --kubeconfig "$T/kc-bad" kubelet-checkpoint
check_grep "and the error is located" "kc-bad:[0-9]+:[0-9]+: no context 'nope'" "$T/.out"

# apiserver backend: the pod checkpoint subresource of a patched API server
start_server api; start_server crdfail --crd-fail "CRIU dump failed: no space left on device"
kubeconfig "$(cat $T/port-api)" "$T/pki/client.crt" "$T/pki/client.key" > "$T/kc-api"
kubeconfig "$(cat $T/port-crdfail)" "$T/pki/client.crt" "$T/pki/client.key" > "$T/kc-crdfail"
check "apiserver backend: pod checkpoint endpoint" $CRH run --backend apiserver --kubeconfig "$T/kc-api" \
    --work-dir "$T/w-api" --encrypt-secret ckpt-key --report json:"$T/api.json" kubelet-checkpoint
check "apiserver backend: body fields as the endpoint defines them" python3 - "$T/kubelet-api/last-request.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assert b == {"leaveRunning": True, "encrypt": True, "timeout": 120, "container": "counter", "encryptionSecret": "ckpt-key"}, b
PY
check "apiserver backend: archive checked" python3 -c "import json; s=json.load(open('$T/api.json'))['scenarios'][0]; assert s['status']=='passed' and s['archive_bytes']>100000, s"
check "crd backend: ContainerCheckpoint object polled to Completed" $CRH run --backend crd --kubeconfig "$T/kc-api" \
    --work-dir "$T/w-crd" --report json:"$T/crd.json" kubelet-checkpoint
check "crd backend: archive from status.location checked" python3 -c "import json; s=json.load(open('$T/crd.json'))['scenarios'][0]; assert s['status']=='passed' and s['archive_bytes']>100000, s"
check_exit "crd backend: a Failed object fails the scenario" 1 $CRH run --backend crd --kubeconfig "$T/kc-crdfail" \
    --work-dir "$T/w-crdf" --report json:"$T/crdf.json" kubelet-checkpoint
check_grep "crd backend: its message is reported" "failed: CRIU dump failed: no space left on device" "$T/crdf.json"
check "crd group/version/kind are configurable" bash -c "$CRH run --help | grep -q -- '--crd-kind KIND'"

# restore through Kubernetes, on a "node" whose pods are real runc containers
bundle=$(ls -d "$T"/rw/crh-*-counter-basic-0/bundle-0 | head -n1)
mkdir -p "$T/node-images"
CRIU_FAULT=130 start_server node --runc "$bundle" --images "$T/node-images"
kubeconfig "$(cat $T/port-node)" "$T/pki/client.crt" "$T/pki/client.key" > "$T/kc-node"
knode() { $CRH run --backend kubelet --kubeconfig "$T/kc-node" --kubelet-url "https://127.0.0.1:$(cat $T/port-node)" \
    --kubelet-cert "$T/pki/client.crt" --kubelet-key "$T/pki/client.key" --kubelet-ca "$T/pki/ca.crt" "$@"; }
check "kubelet restore via a checkpoint image: counter went on" knode --work-dir "$T/w-ri" \
    --load-image "cp {archive} '$T/node-images/'" --unload-image "rm \"$T/node-images/\$(basename {archive})\"" \
    --runtime-class runc-cr --report json:"$T/ri.json" kubelet-restore
check "restore via image: --unload-image took the image off the node at the end" test -z "$(ls -A "$T/node-images")"
check "restore via image: checkpoint, restore and the restored pod's checkpoint measured" python3 - "$T/ri.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
# counter_before/after: the value the restored checkpoint held and the one seen after the restore
assert s["status"] == "passed" and s["cycles"] == 2 and s["counter_before"] > 0, s
# an empty tar is 10 KiB; this busybox dump with its pages has measured 86 to 130 KiB
assert s["restore_ms"] > 0 and s["archive_bytes"] > 40000, s
assert s["counter_after"] > s["counter_before"], s
PY
check "restore via image: pod spec as a restore needs it" python3 - "$T/kubelet-node/last-pod.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
c = p["spec"]["containers"][0]
assert p["spec"]["runtimeClassName"] == "runc-cr", p
assert c["image"].startswith("localhost/crharness/") and c["imagePullPolicy"] == "Never" and "command" not in c, c
PY
check "kill: an ephemeral container in the restored pod's pid namespace signalled the counter" python3 - "$T/kubelet-node/last-ephemeral.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
assert e["pod"].endswith("-r1") and e["targetContainerName"] == "counter" and e["command"] == ["/bin/kill", "-USR1", "1"], e
PY
check "restore via env: RESTORE_FROM names the archive" knode --work-dir "$T/w-re" --restore-via env \
    --report json:"$T/re.json" kubelet-restore
check_exit "restore via image without --load-image fails, saying what is missing" 1 knode --work-dir "$T/w-rn" --report json:"$T/rn.json" kubelet-restore
check_grep "and says how to load the image" "needs --load-image CMD" "$T/rn.json"
check_exit "an image that never reaches the node fails the scenario" 1 knode --work-dir "$T/w-rl" --load-image true \
    --report json:"$T/rl.json" kubelet-restore
check_grep "with the kubelet's reason, at once" "cannot start: ErrImageNeverPull" "$T/rl.json"
check_exit "a failing --load-image fails the scenario" 1 knode --work-dir "$T/w-rf" --load-image "echo no such cluster >&2; exit 3" \
    --report json:"$T/rf.json" kubelet-restore
check_grep "with its exit code and output" "exited 3: no such cluster" "$T/rf.json"
check "no runc container left on the node" bash -c "[ -z \"\$(runc --root $T/kubelet-node/runc list -q)\" ]"

# crharness image from-checkpoint: the image a kubelet archive restores from
check "image from-checkpoint" $CRH image from-checkpoint "$T/real.tar" -o "$T/ckimg.tar" --name localhost/counter-ckpt:1
check "from-checkpoint: annotations CRI-O and containerd look for, layer holds the archive" python3 - "$T/ckimg.tar" <<'PY'
import io, json, sys, tarfile
t = tarfile.open(sys.argv[1])
idx = json.load(t.extractfile("index.json"))
assert idx["annotations"]["io.kubernetes.cri-o.annotations.checkpoint.name"] == "counter", idx
d = idx["manifests"][0]
assert d["annotations"]["io.containerd.image.name"] == "localhost/counter-ckpt:1", d
assert d["annotations"]["org.criu.checkpoint.container.name"] == "counter", d
m = json.load(t.extractfile("blobs/sha256/" + d["digest"][7:]))
layer = tarfile.open(fileobj=io.BytesIO(t.extractfile("blobs/sha256/" + m["layers"][0]["digest"][7:]).read()))
names = layer.getnames()
assert "spec.dump" in names and "config.dump" in names and "checkpoint/inventory.img" in names, names
PY
printf 'not a checkpoint' > "$T/junk.tar"
check_exit "from-checkpoint: a file that is not a checkpoint is bad input" 2 $CRH image from-checkpoint "$T/junk.tar" -o "$T/junk-img.tar" --name x
check "from-checkpoint: and nothing is written" test ! -e "$T/junk-img.tar"
python3 - "$T/evil.tar" <<'PY'
import io, sys, tarfile
# a checkpoint in every other respect: JSON dumps and an inventory image as
# CRIU writes it (magic, entry size, img_version = 2), so only ".." is wrong
inventory = b"\x16\x31\x31\x58" + b"\x02\x00\x00\x00" + b"\x08\x02"
with tarfile.open(sys.argv[1], "w") as t:
    for n, data in (("spec.dump", b"{}"), ("config.dump", b"{}"), ("checkpoint/inventory.img", inventory),
                    ("../escape", b"{}")):
        ti = tarfile.TarInfo(n); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
check_exit "from-checkpoint: an archive with a .. entry is refused" 2 $CRH image from-checkpoint "$T/evil.tar" -o "$T/evil-img.tar" --name x --container counter
check_grep "and the entry is named" "\.\./escape" "$T/.out"

# crharness controller against the same server storing ContainerCheckpoint
# objects as an API server does (list, watch, status merge patches); the
# kubelet it calls is this server's checkpoint API. tests/integration/93
# runs it against a real kube-apiserver and kubelet.
start_server ctl --crd-store
CP=$(cat "$T/port-ctl")
kubeconfig "$CP" "$T/pki/client.crt" "$T/pki/client.key" > "$T/kc-ctl"
api() { curl -s --cacert "$T/pki/ca.crt" --cert "$T/pki/client.crt" --key "$T/pki/client.key" "$@"; }
CCS=https://127.0.0.1:$CP/apis/lpm.my.domain/v1/namespaces/default/containercheckpoints
cc() { # NAME POD CONTAINER [STATUS-JSON]
    api -X POST -H 'Content-Type: application/json' "$CCS" -d "{\"apiVersion\":\"lpm.my.domain/v1\",\"kind\":\"ContainerCheckpoint\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"podName\":\"$2\",\"containerName\":\"$3\"}}" > /dev/null
    [ -z "${4:-}" ] || api -X PATCH -H 'Content-Type: application/merge-patch+json' "$CCS/$1/status" -d "{\"status\":$4}" > /dev/null
}
status() { api "$CCS/$1" | python3 -c 'import json,sys; s=json.load(sys.stdin).get("status",{}); print(s.get("phase",""), s.get("location", s.get("message","")))'; }
export -f status api; export CCS T
api -X POST -H 'Content-Type: application/json' "https://127.0.0.1:$CP/api/v1/namespaces/default/pods" \
    -d '{"metadata":{"name":"counter"},"spec":{"containers":[{"name":"counter","image":"x"}]}}' > /dev/null
ctl() { $CRH controller --kubeconfig "$T/kc-ctl" --kubelet-cert "$T/pki/client.crt" --kubelet-key "$T/pki/client.key" --kubelet-ca "$T/pki/ca.crt" "$@"; }
cc cc-ok counter counter; cc cc-nopod nosuchpod counter; cc cc-noctr counter ""
cc cc-done counter counter '{"phase":"Completed","location":"/elsewhere.tar"}'
cc cc-left counter counter '{"phase":"Running"}'
check "controller --once settles what is pending" ctl --kubelet-url "https://127.0.0.1:$CP" --once
cp "$T/.out" "$T/ctl-once.out"
check_grep "controller: Completed, with the archive the kubelet named" '^default/cc-ok Completed .*/checkpoints/checkpoint-counter_default-counter-.*\.tar$' "$T/ctl-once.out"
check "controller: status.phase Completed and status.location written" bash -c "status cc-ok | grep -q '^Completed $T/kubelet-ctl/checkpoints/checkpoint-counter_default-counter-'"
check "controller: an unknown pod ends Failed with the reason" bash -c "status cc-nopod | grep -qx \"Failed pod 'nosuchpod' not found in namespace 'default'\""
check "controller: an object without containerName ends Failed" bash -c "status cc-noctr | grep -qx 'Failed spec.podName and spec.containerName are required'"
check "controller: a Completed object is left alone" bash -c "status cc-done | grep -qx 'Completed /elsewhere.tar'"
check "controller: a Running object left by a dead controller is taken over" bash -c "status cc-left | grep -q '^Completed /'"
check "controller: claimed with the version it read (Running), then settled" python3 - "$T/kubelet-ctl/status-patches.jsonl" <<'PY'
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
ok = [x for x in p if x["name"] == "cc-ok"]
assert ok[0]["status"]["phase"] == "Running" and ok[0]["metadata"]["resourceVersion"], ok
assert ok[-1]["status"]["phase"] == "Completed" and "resourceVersion" not in ok[-1].get("metadata", {}), ok
assert len([x for x in p if x["name"] == "cc-done"]) == 1, p  # the test's own patch only
PY
cc cc-gate counter counter
check "controller --once: the gate-off kubelet" ctl --kubelet-url "https://127.0.0.1:$(cat $T/port-off)" --once
check "controller: gate off reported in status.message" bash -c "status cc-gate | grep -q 'Failed 404: the kubelet has no /checkpoint route: the ContainerCheckpoint feature gate is off'"
cc cc-rogue counter counter
check "controller --once: a client cert the kubelet refuses" $CRH controller --kubeconfig "$T/kc-ctl" --kubelet-url "https://127.0.0.1:$CP" \
    --kubelet-cert "$T/pki/rogue.crt" --kubelet-key "$T/pki/rogue.key" --kubelet-ca "$T/pki/ca.crt" --once
check "controller: the TLS refusal reported in status.message" bash -c "status cc-rogue | grep -q 'Failed POST https://127.0.0.1:$CP/checkpoint/default/counter/counter'"
cc cc-500 counter counter
check "controller --once: a runtime 500" ctl --kubelet-url "https://127.0.0.1:$(cat $T/port-criu)" --once
check "controller: the runtime's error translated in status.message" bash -c "status cc-500 | grep -q 'Failed 500: CRIU is missing or too old on the node'"
check_exit "controller --once: no CRD on the API server fails" 1 $CRH controller --kubeconfig "$T/kc-ok" --kubelet-cert "$T/pki/client.crt" \
    --kubelet-key "$T/pki/client.key" --kubelet-ca "$T/pki/ca.crt" --once
check_grep "and says to install the CRD" "is the ContainerCheckpoint CRD installed" "$T/.out"
check_exit "controller: unknown option is bad usage" 2 ctl --bogus
check_exit "controller: unreadable kubelet key is bad input" 2 ctl --kubelet-key "$T/none.key" --once
check_exit "controller: a --crd without a version is bad usage" 2 ctl --crd lpm.my.domain --once
check "controller --help" bash -c "$CRH controller --help | grep -q -- '--once'"

# watch mode: a new object is served at once; an expired watch (410) is
# followed by a new list; the crd backend runs against it; SIGTERM ends it
$CRH controller --kubeconfig "$T/kc-ctl" --kubelet-cert "$T/pki/client.crt" --kubelet-key "$T/pki/client.key" \
    --kubelet-ca "$T/pki/ca.crt" --kubelet-url "https://127.0.0.1:$CP" --watch-timeout 20 > "$T/ctl-watch.out" 2> "$T/ctl-watch.err" &
CTL=$!; echo $CTL >> "$T/pids"
sleep 0.5
cc cc-w1 counter counter
wait_phase() { for _ in $(seq 50); do status "$1" | grep -q "^$2" && return 0; sleep 0.1; done; return 1; }
check "controller watch: a new object Completed within 5 s" wait_phase cc-w1 Completed
api -X POST "https://127.0.0.1:$CP/test/compact" > /dev/null
sleep 0.3
cc cc-w2 counter counter
check "controller watch: after a 410 it lists again and serves the next object" wait_phase cc-w2 Completed
check "crd backend + controller: kubelet-checkpoint passes" $CRH run --backend crd --kubeconfig "$T/kc-ctl" \
    --work-dir "$T/w-crdc" --report json:"$T/crdc.json" kubelet-checkpoint
check "crd backend + controller: the archive came from status.location" python3 -c "import json; s=json.load(open('$T/crdc.json'))['scenarios'][0]; assert s['status']=='passed' and s['archive_bytes']>100000, s"
t0=$(date +%s%N); kill -TERM $CTL; wait $CTL; rc=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "controller: SIGTERM while watching ends it with 0 within 2 s (${ms} ms)" test "$rc" = 0 -a "$ms" -lt 2000
check_grep "controller: and it says so" "stopped by a signal" "$T/ctl-watch.err"
