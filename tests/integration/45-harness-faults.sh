# Harness faults, for real: the checkpoint dir fills up (a 64 KiB tmpfs),
# criu is killed mid-dump, the container dies during the checkpoint, and
# containerd is killed mid-scenario. Each must be reported as a failed
# scenario with a reason (exit 1), and nothing the harness created may be
# left running or mounted.
. tests/integration/lib.sh
CRIU=/usr/local/sbin/criu
# Debian's runtimes by path: a built containerd 2.x may be first in PATH
run() { $CRH run --containerd-bin /usr/bin/containerd --runtime /usr/sbin/runc \
        --criu $CRIU --criu-env CRIU_FAULT=130 --work-dir "$T/work" "$@"; }
reason() { python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['scenarios'][0]; assert s['status']=='failed' and s['reason'], s; print(s['reason'])" "$1"; }
nothing_left() { ! pgrep -af "$T/work/containerd" && [ -z "$(our_counters "$T/work")" ] && ! grep -q "$T/work" /proc/mounts; }

mkdir -p "$T/small" && mount -t tmpfs -o size=64k tmpfs "$T/small"
printf 'scenario: full-disk\nsteps:\n  - start\n  - wait: 300\n  - checkpoint: { image_dir: %s/img }\n' "$T/small" > "$T/full.yaml"
check_exit "checkpoint into a full tmpfs fails the scenario" 1 run --report json:"$T/full.json" "$T/full.yaml"
check "full tmpfs: reported with a reason" reason "$T/full.json"
umount "$T/small"
check "full tmpfs: nothing left" nothing_left

# only this test's criu and counters: other runs on the machine are not ours to kill
killer() { while :; do for p in $(our_criu "$T/work"); do kill -9 "$p"; done; sleep 0.005; done; }
killer & K=$!
check_exit "criu killed mid-dump fails the scenario" 1 run --report json:"$T/kc.json" counter-basic
kill $K; wait $K 2>/dev/null
check "criu killed: reported with a reason" reason "$T/kc.json"
check "criu killed: nothing left" nothing_left

victim() { while :; do [ -n "$(our_criu "$T/work")" ] && for p in $(our_counters "$T/work"); do kill -9 "$p"; done; sleep 0.005; done; }
victim & V=$!
check_exit "the container dying during checkpoint fails the scenario" 1 run --report json:"$T/cd.json" counter-basic
kill $V; wait $V 2>/dev/null
check "container died: reported with a reason" reason "$T/cd.json"
check "container died: nothing left" nothing_left

printf 'scenario: containerd-dies\nsteps:\n  - start\n  - wait: 3000\n  - checkpoint\n  - restore\n  - check: resumed\n' > "$T/cdies.yaml"
( sleep 2; pkill -9 -f "containerd --config $T/work/containerd/config.toml" ) &
check_exit "containerd killed mid-scenario fails the scenario" 1 run --backend containerd --report json:"$T/ck.json" "$T/cdies.yaml"
check "containerd killed: reported with a reason" reason "$T/ck.json"
check "containerd killed: no shim, container or mount left" nothing_left
