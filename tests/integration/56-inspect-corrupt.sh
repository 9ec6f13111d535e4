# crharness inspect and image from-checkpoint on broken checkpoints: a real
# CRIU dump (of a sleep, by the CRIU 4.1.1 that 30-harness-runc installs)
# packed as a kubelet/CRI-O archive, then every metadata file emptied, cut
# short or replaced by non-JSON, the inventory emptied, truncated or given
# a wrong magic, and the inventory left out. Each must fail (exit 2) with
# the file's name and what is wrong; a missing optional file is a note.
. tests/integration/lib.sh

CRIU=${CRIU:-/usr/local/sbin/criu}
img=$T/img
mkdir -p "$img"
pid=$(python3 -c 'import subprocess; p=subprocess.Popen(["sleep","300"],start_new_session=True,stdin=subprocess.DEVNULL,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); print(p.pid)')
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
if ! CRIU_FAULT=130 "$CRIU" dump -t "$pid" -D "$img" -o dump.log > "$T/criu.out" 2>&1; then
    notok "a real CRIU dump to build the corpus from" "$CRIU dump failed: $(tail -n 3 "$img/dump.log" "$T/criu.out" 2>/dev/null)"
    exit 0
fi
rm -f "$img/dump.log"
ok "a real CRIU dump to build the corpus from"

# mk NAME [FILE=CONTENT-FILE|FILE=-]...: a kubelet-style tar of the dump plus
# good config.dump/spec.dump; FILE=- leaves FILE out, FILE=PATH replaces it
python3 - "$img" "$T" <<'PY'
import io, json, os, sys, tarfile
img, out = sys.argv[1:]
spec = json.dumps({"ociVersion": "1.0.2", "annotations": {"io.kubernetes.cri-o.ContainerName": "k8s_counter",
                   "io.kubernetes.container.name": "counter"}}).encode()
cfg = json.dumps({"id": "4f3c", "name": "counter", "rootfsImageName": "counter:latest"}).encode()
status = json.dumps({"pid": 1, "status": "running"}).encode()
net = json.dumps([{"interfaces": []}]).encode()
inv = open(os.path.join(img, "inventory.img"), "rb").read()
good = {"spec.dump": spec, "config.dump": cfg}
def mk(name, meta, inventory=inv):
    with tarfile.open(os.path.join(out, name + ".tar"), "w") as t:
        def add(n, data):
            ti = tarfile.TarInfo(n); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
        for n, d in meta.items():
            add(n, d)
        for f in sorted(os.listdir(img)):
            if f != "inventory.img":
                t.add(os.path.join(img, f), "checkpoint/" + f)
        if inventory is not None:
            add("checkpoint/inventory.img", inventory)
mk("good", good)
mk("full", dict(good, **{"status.dump": status, "network.status": net}))
full = {"config.dump": cfg, "spec.dump": spec, "status.dump": status, "network.status": net}
for f, data in full.items():
    for kind, bad in (("empty", b""), ("truncated", data[:len(data) // 2]), ("nonjson", b"hello, not json\n")):
        mk(f"{f}-{kind}", dict(full, **{f: bad}))
mk("inventory-empty", good, b"")
mk("inventory-short", good, inv[:3])
mk("inventory-truncated", good, inv[:len(inv) - 10])
mk("inventory-magic", good, b"\x00\x00\x00\x00" + inv[4:])
mk("inventory-garbage", good, inv[:8] + b"\xff" * (len(inv) - 8))
mk("no-inventory", good, None)
PY

check "inspect a good archive" $CRH inspect "$T/good.tar"
check_grep "missing optional files are notes" "note: .*good.tar: no status.dump \(optional\)" "$T/.out"
grep -q "error" "$T/.out" && notok "a note is not an error" "$(cat "$T/.out")" || ok "a note is not an error"
check "inspect an archive with every metadata file" $CRH inspect "$T/full.tar"
grep -q "note:" "$T/.out" && notok "no notes when nothing is missing" "$(cat "$T/.out")" || ok "no notes when nothing is missing"

# broken: exit 2 from both commands, the file named, the defect said, no image written
broken() {
    local name=$1 want=$2
    $CRH inspect "$T/$name.tar" > "$T/i.out" 2>&1; local rc=$?
    if [ $rc = 2 ] && grep -qE -- "$want" "$T/i.out"; then ok "inspect: $name"
    else notok "inspect: $name" "exit $rc, wanted 2 and /$want/: $(cat "$T/i.out")"; fi
    rm -f "$T/img.tar"
    $CRH image from-checkpoint "$T/$name.tar" -o "$T/img.tar" --name ck > "$T/c.out" 2>&1; rc=$?
    if [ $rc != 0 ] && grep -qE -- "$want" "$T/c.out" && [ ! -e "$T/img.tar" ]; then ok "image from-checkpoint: $name"
    else notok "image from-checkpoint: $name" "exit $rc, /$want/, image written: $([ -e "$T/img.tar" ] && echo yes || echo no): $(cat "$T/c.out")"; fi
}
for f in config.dump spec.dump status.dump network.status; do
    broken "$f-empty" "$f-empty.tar: $f: empty file"
    broken "$f-truncated" "$f-truncated.tar: $f: unexpected end of JSON input"
    broken "$f-nonjson" "$f-nonjson.tar: $f: not valid JSON"
done
broken inventory-empty "checkpoint/inventory.img: empty file"
broken inventory-short "checkpoint/inventory.img: 3 bytes, too short"
broken inventory-truncated "checkpoint/inventory.img: truncated"
broken inventory-magic "checkpoint/inventory.img: not a CRIU inventory image \(magic 0x00000000"
broken inventory-garbage "checkpoint/inventory.img: corrupt inventory entry"
broken no-inventory "has a checkpoint/ directory but no checkpoint/inventory.img"

# the same inventory checks on a runc/CRIU image directory
check "inspect the real image directory" $CRH inspect "$img"
grep -q "note:" "$T/.out" && notok "an image directory has no optional files to note" "$(cat "$T/.out")" || ok "an image directory has no optional files to note"
: > "$img/inventory.img"
check_exit "an image directory with an empty inventory" 2 $CRH inspect "$img"
check_grep "says so" "inventory.img: empty file" "$T/.out"
