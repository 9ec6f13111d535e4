# The recipe catalogue: every recipe validates; each is planned, applied and
# re-applied (0 changed) under --root against fixture files shaped like the
# real ones (crio.conf, containerd config.toml and MicroK8s template, kubelet
# config, RKE2's bin dir and config). Downloads and clones are redirected
# with --source to local tarballs and git repositories made here whose
# Makefiles produce stand-in binaries, so the recipes' fetch -> extract ->
# git -> build -> install -> verify flow runs for real without the network.
# local-cr is applied for real on this host in 30-harness-runc.sh.
. tests/integration/lib.sh
R=$T/root; S=$T/state; F=$T/fake
cp -a tests/data/fixture-root "$R"; mkdir -p "$F"
np() { $NP "$@" --root "$R" --state-dir "$S"; }

check "every recipe validates" $NP validate recipes/*.yaml rke2/*.yaml kind/kind-*.yaml
check "the vagrant roles validate" $NP validate --recipe-path vagrant vagrant/master.yaml vagrant/common.yaml

# crio-criu
check "crio-criu: apply" np apply recipes/crio-criu.yaml
check "crio-criu: drop-in holds the C/R settings" python3 - "$R/etc/crio/crio.conf.d/10-criu.conf" <<'PY'
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))["crio"]["runtime"]
assert d["enable_criu_support"] is True and d["default_runtime"] == "runc", d
assert d["runtimes"]["runc"]["runtime_path"] == "/usr/sbin/runc", d
PY
check "crio-criu: crio.conf left as shipped" cmp tests/data/fixture-root/etc/crio/crio.conf "$R/etc/crio/crio.conf"
check "crio-criu: re-apply" np apply recipes/crio-criu.yaml
check_grep "crio-criu: converged" " 0 changed, 0 failed" "$T/.out"

# kubelet-checkpoint (the endpoint check is the kubelet backend's business; off here)
check "kubelet-checkpoint: apply" np apply -e check_endpoint=false recipes/kubelet-checkpoint.yaml
check "kubelet-checkpoint: gate on, rest of the config kept" python3 - "$R/var/lib/kubelet/config.yaml" tests/data/fixture-root/var/lib/kubelet/config.yaml <<'PY'
import sys
new, old = open(sys.argv[1]).read(), open(sys.argv[2]).read()
assert "ContainerCheckpoint: true" in new, new
for line in old.splitlines():
    if line.strip() and not line.lstrip().startswith("featureGates"):
        assert line in new, line
PY
check "kubelet-checkpoint: re-apply" np apply -e check_endpoint=false recipes/kubelet-checkpoint.yaml
check_grep "kubelet-checkpoint: converged" " 0 changed, 0 failed" "$T/.out"

# containerd-cr, with every optional runtime, on config.toml and the MicroK8s template
for cfg in /etc/containerd/config.toml /var/snap/microk8s/current/args/containerd-template.toml; do
    check "containerd-cr: apply to $cfg" np apply -e containerd_config=$cfg -e kybernate=true -e kata=true -e cedana=true recipes/containerd-cr.yaml
    check "containerd-cr: runtimes in $cfg" python3 - "$R$cfg" <<'PY'
import sys, tomllib
text = open(sys.argv[1]).read().replace("${SNAPSHOTTER}", "x").replace("${RUNTIME}", "runc")
c = tomllib.loads(text)["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
assert c["runc"]["runtime_type"] == "io.containerd.runc.v2" and c["runc"]["options"]["CriuPath"] == "/usr/local/sbin/criu", c
assert c["kybernate"]["runtime_type"] == "io.containerd.kybernate.v1" and c["kata"]["runtime_type"] == "io.containerd.kata.v2"
assert c["cedana"]["options"]["ConfigPath"] == "/etc/cedana/config.toml"
PY
    check "containerd-cr: re-apply $cfg" np apply -e containerd_config=$cfg -e kybernate=true -e kata=true -e cedana=true recipes/containerd-cr.yaml
    check_grep "containerd-cr: converged" " 0 changed, 0 failed" "$T/.out"
done
check_grep "containerd-cr: comments kept" "# snapshotter used for images" "$R/etc/containerd/config.toml"
check_grep "containerd-cr: RuntimeClass for kata" "^handler: kata" "$R/etc/nodeprep/runtimeclasses/kata.yaml"

# go-toolchain from a stand-in tarball with the recipe's layout (go/bin/go)
mkdir -p "$F/go/bin"; printf '#!/bin/sh\necho "go version go1.22.2 linux/%s"\n' "$(dpkg --print-architecture)" > "$F/go/bin/go"; chmod 755 "$F/go/bin/go"
tar -C "$F" -czf "$F/go.tar.gz" go; gosum=$(sha256sum "$F/go.tar.gz" | cut -d' ' -f1)
GO="--source go=$F/go.tar.gz -e go_sha256_amd64=$gosum -e go_sha256_arm64=$gosum"
check "go-toolchain: the real checksum refuses a stand-in tarball" bash -c "! $NP apply --root $R --state-dir $S --source go=$F/go.tar.gz recipes/go-toolchain.yaml"
check "go-toolchain: apply" np apply $GO recipes/go-toolchain.yaml
check "go-toolchain: go in /usr/local/go" test -x "$R/usr/local/go/bin/go"
check "go-toolchain: re-apply" np apply $GO recipes/go-toolchain.yaml
check_grep "go-toolchain: converged" " 0 changed, 0 failed" "$T/.out"
# a Go already there and new enough is used: nothing fetched (no --source: a fetch would fail)
R2=$T/root-go; mkdir -p "$R2/usr/local/go/bin"; echo go1.26.8 > "$R2/usr/local/go/VERSION"
printf '#!/bin/sh\necho "go version go1.26.8 linux/amd64"\n' > "$R2/usr/local/go/bin/go"; chmod 755 "$R2/usr/local/go/bin/go"
check "go-toolchain: an installed Go 1.26.8 is used" $NP apply --root "$R2" --state-dir "$T/s-go" recipes/go-toolchain.yaml
check_grep "go-toolchain: and it says so" "ok +use the installed Go" "$T/.out"
check_grep "go-toolchain: no tarball fetched" "skipped +go tarball \(amd64\)" "$T/.out"
echo go1.9 > "$R2/usr/local/go/VERSION"
check "go-toolchain: plan with a Go older than go_min" $NP plan --root "$R2" --state-dir "$T/s-go" recipes/go-toolchain.yaml
check_grep "go-toolchain: an older Go is replaced by the tarball" "(change|fetch).*go tarball \(amd64\)|go tarball \(amd64\).*(download|fetch)" "$T/.out"

# runc-criu, containerd-fork, kubelet-fork from git repositories made here
git() { command git -c user.name=t -c user.email=t@t -c init.defaultBranch=main "$@"; }
mkrepo() { # DIR TAG MAKEFILE
    mkdir -p "$1"; printf '%b' "$3" > "$1/Makefile"
    (cd "$1" && git init -q && git add . && git commit -qm init && git tag "$2" && git branch -q "$2-branch") >/dev/null 2>&1; }
mkrepo "$F/runc" v1.2.5 'runc:\n\tprintf '"'"'#!/bin/sh\\ncase "$$1" in checkpoint) echo "--image-path value";; features) echo "{\\"ociVersionMax\\": \\"1.2.0\\"}";; --version) echo "runc version 1.2.5";; esac\\n'"'"' > runc; chmod 755 runc; echo "tags=$(BUILDTAGS)" > buildtags\n'
check "runc-criu: apply (git -> make BUILDTAGS -> install -> verify)" np apply $GO -e install_build_deps=false -e runc_trial=false --source runc="$F/runc" recipes/runc-criu.yaml
check_grep "runc-criu: built with the criu tag" "tags=seccomp apparmor selinux criu" "$R/var/lib/nodeprep/cache/src/runc/buildtags"
check "runc-criu: installed as /usr/sbin/runc" test -x "$R/usr/sbin/runc"
check "runc-criu: re-apply" np apply $GO -e install_build_deps=false -e runc_trial=false --source runc="$F/runc" recipes/runc-criu.yaml
check_grep "runc-criu: converged" " 0 changed, 0 failed" "$T/.out"

mkrepo "$F/containerd" release/2.0 'bin/containerd bin/containerd-shim-runc-v2 bin/ctr:\n\tmkdir -p bin; for b in containerd containerd-shim-runc-v2 ctr; do printf "#!/bin/sh\\necho containerd github.com/containerd/containerd/v2 $(VERSION)\\n" > bin/$$b; chmod 755 bin/$$b; done\n'
(cd "$F/containerd" && git checkout -q -b release/2.0) 2>/dev/null
check "containerd-fork: apply from a branch" np apply $GO -e install_build_deps=false -e containerd_ref=release/2.0 --source containerd="$F/containerd" recipes/containerd-fork.yaml
check "containerd-fork: three binaries installed" bash -c "test -x $R/usr/local/bin/containerd && test -x $R/usr/local/bin/containerd-shim-runc-v2 && test -x $R/usr/local/bin/ctr"
check "containerd-fork: re-apply" np apply $GO -e install_build_deps=false -e containerd_ref=release/2.0 --source containerd="$F/containerd" recipes/containerd-fork.yaml
check_grep "containerd-fork: converged" " 0 changed, 0 failed" "$T/.out"

# kubelet-fork from a fork's tree: the real go command builds the five
# commands of a small stand-in k8s.io/kubernetes module through the
# generated wrapper (the real module build runs in 92-k8s-node.sh)
mkdir -p "$F/kubernetes"
printf 'module k8s.io/kubernetes\n\ngo 1.26.0\n' > "$F/kubernetes/go.mod"
for c in kubelet kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    mkdir -p "$F/kubernetes/cmd/$c"
    printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("Kubernetes v1.37.2 (fork stand-in)") }\n' > "$F/kubernetes/cmd/$c/main.go"
done
(cd "$F/kubernetes" && git init -q && git add . && git commit -qm init && git tag v1.37.2) >/dev/null 2>&1
KF="$GO -e kube_from=git --source kubernetes=$F/kubernetes"
check "kubelet-fork: apply (fork tree -> wrapper module -> go build)" np apply $KF recipes/kubelet-fork.yaml
check_grep "kubelet-fork: the wrapper takes Kubernetes from the tree" "k8s.io/kubernetes => ../kubernetes" "$R/var/lib/nodeprep/cache/src/kube-build/go.mod"
check_grep "kubelet-fork: and its staging modules" "k8s.io/client-go => ../kubernetes/staging/src/k8s.io/client-go$" "$R/var/lib/nodeprep/cache/src/kube-build/go.mod"
check "kubelet-fork: five commands installed" bash -c "for c in kubelet kube-apiserver kube-controller-manager kube-scheduler kubectl; do $R/usr/local/bin/\$c | grep -q 'fork stand-in' || exit 1; done"
check "kubelet-fork: re-apply" np apply $KF recipes/kubelet-fork.yaml
check_grep "kubelet-fork: converged" " 0 changed, 0 failed" "$T/.out"

# rke2-cr: the built binaries replace RKE2's, each original kept as .old
B=/var/lib/nodeprep/cache/src   # the built trees, on the target (inside --root)
RK="-e containerd_bin_src=$B/containerd/bin -e runc_bin_src=$B/runc/runc -e kubelet_bin_src=$B/kube-build/bin/kubelet -e criu_bin_src=/usr/local/go/bin/go"
check "rke2-cr: apply" np apply $RK rke2/rke2-cr.yaml
check "rke2-cr: originals kept as .old" bash -c "for b in containerd containerd-shim-runc-v2 ctr runc kubelet; do cmp tests/data/fixture-root/var/lib/rancher/rke2/bin/\$b $R/var/lib/rancher/rke2/bin/\$b.old || exit 1; done"
check "rke2-cr: binaries replaced" cmp "$R$B/runc/runc" "$R/var/lib/rancher/rke2/bin/runc"
check_grep "rke2-cr: gate for the kubelet" 'kubelet-arg:' "$R/etc/rancher/rke2/config.yaml.d/50-checkpoint.yaml"
check "rke2-cr: the operator's config.yaml untouched" cmp tests/data/fixture-root/etc/rancher/rke2/config.yaml "$R/etc/rancher/rke2/config.yaml"
check "rke2-cr: re-apply" np apply $RK rke2/rke2-cr.yaml
check_grep "rke2-cr: converged" " 0 changed, 0 failed" "$T/.out"
check "rke2-cr: optional apiserver image" np apply $RK -e kube_apiserver_image=registry.example/kube-apiserver:cr rke2/rke2-cr.yaml
check_grep "rke2-cr: image in the drop-in" "kube-apiserver-image: \"?registry.example/kube-apiserver:cr" "$R/etc/rancher/rke2/config.yaml.d/50-checkpoint.yaml"

check "kind cluster config has the gate" grep -q "ContainerCheckpoint: true" kind/cluster.yaml

# doctor: the real checks on this host (CRIU is installed by 30-harness-runc.sh)
check "doctor runs every check" bash -c "$NP doctor > $T/doctor.txt"
check_grep "doctor: trial dump verdict" "^(ok  |warn)  trial dump" "$T/doctor.txt"
check_grep "doctor: criu check" "^ok    criu check +Looks good" "$T/doctor.txt"

# kubelet-checkpoint's endpoint probe against a TLS server speaking the
# kubelet checkpoint API (client certs from a test CA): gate on -> routed,
# gate off -> "404 page not found" -> the step fails and says so
. tests/helpers/pki.sh
make_pki "$T/pki"
for g in on off; do
    python3 tests/helpers/k8s_server.py "$T/port-$g" "$T/pki/ca.crt" "$T/pki/server.crt" "$T/pki/server.key" "$T/kubelet-$g" --gate $g &
    echo $! >> "$T/pids"
done
trap 'kill $(cat $T/pids) 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/port-on" ] && [ -s "$T/port-off" ] && break; sleep 0.1; done
KC="-e kubelet_client_cert=$T/pki/client.crt -e kubelet_client_key=$T/pki/client.key -e kubelet_ca=$T/pki/ca.crt"
check "kubelet-checkpoint: endpoint probe passes with the gate on" np apply $KC -e kubelet_url=https://127.0.0.1:$(cat $T/port-on) recipes/kubelet-checkpoint.yaml
check_exit "kubelet-checkpoint: gate off is a failed verify" 1 np apply $KC -e kubelet_url=https://127.0.0.1:$(cat $T/port-off) recipes/kubelet-checkpoint.yaml
check_grep "kubelet-checkpoint: says the gate is off" "gate off: 404 page not found" "$T/.out"
check_exit "kubelet-checkpoint: a client cert from another CA is refused" 1 np apply -e kubelet_client_cert=$T/pki/rogue.crt -e kubelet_client_key=$T/pki/rogue.key -e kubelet_ca=$T/pki/ca.crt -e kubelet_url=https://127.0.0.1:$(cat $T/port-on) recipes/kubelet-checkpoint.yaml
