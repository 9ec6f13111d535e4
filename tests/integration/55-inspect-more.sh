# crharness inspect --all, list, diff and memsearch on real checkpoints
# made here (runc image dirs and containerd `ctr` exports of the counter,
# CRIU 4.1.1), on kubelet/CRI-O/Podman/Docker layouts the test builds around
# those real CRIU images, and the scenarios' memory check (the counter read
# out of the checkpoint's memory against the value logged before it).
. tests/integration/lib.sh
CRIU=/usr/local/sbin/criu
if [ ! -x $CRIU ]; then notok "CRIU 4.1.1 installed (30-harness-runc.sh builds it)" "$CRIU missing"; exit 0; fi

# Two checkpoints of one container; between them a file is written, one is
# deleted and a syslogd (a real unix socket, /dev/log) starts.
cat > "$T/two.yaml" <<'Y'
scenario: two
description: two checkpoints of one container with changes between them
steps:
  - start
  - exec: "touch /tmp/first"
  - wait: 500
  - checkpoint
  - check: memory
  - restore
  - check: resumed
  - exec: "echo hello > /tmp/second && rm /etc/delete-me && syslogd -n -O /tmp/syslog </dev/null >/dev/null 2>&1 &"
  - wait: 300
  - checkpoint: { leave_running: true }
  - check: memory
Y
# containerd: Debian's 1.6 (exports of the 2.x a machine may also have in
# /usr/local/bin were seen truncated now and then, a matter for that backend's tests)
for b in runc containerd; do
    opt=; [ $b = containerd ] && opt="--containerd-bin /usr/bin/containerd"
    check "$b: two checkpoints with memory checks pass" $CRH run --backend $b $opt --criu $CRIU --criu-env CRIU_FAULT=130 \
        --work-dir "$T/$b" --report json:"$T/$b.json" "$T/two.yaml"
    check "$b: the JSON report carries the counter logged and the one in memory" python3 - "$T/$b.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["status"] == "passed", s
# the last checkpoint left the container running: memory may be ahead by what the dump took
assert s["counter_before"] > 0 and s["counter_before"] <= s["counter_memory"] <= s["counter_before"] + 20, s
PY
done
R1=$(ls -d "$T"/runc/crh-*/image-1) R2=$(ls -d "$T"/runc/crh-*/image-2)
C1=$(ls "$T"/containerd/crh-*/checkpoint-1.tar) C2=$(ls "$T"/containerd/crh-*/checkpoint-2.tar)

# containerd 2.x (32-built-runtimes.sh builds 2.2.9 into /opt/containerd-2): one
# leave-running checkpoint with a socket in it, inspected and searched like the others
C2X=${CTRD_PREFIX:-/opt/containerd-2}/bin/containerd
cat > "$T/one.yaml" <<'Y'
scenario: one
steps:
  - start
  - exec: "syslogd -n -O /tmp/syslog </dev/null >/dev/null 2>&1 &"
  - wait: 500
  - checkpoint: { leave_running: true }
  - check: memory
Y
if [ -x "$C2X" ]; then
    check "containerd 2.x: a checkpoint with a memory check" $CRH run --backend containerd --containerd-bin "$C2X" \
        --criu $CRIU --criu-env CRIU_FAULT=130 --work-dir "$T/ctrd2" --report json:"$T/ctrd2.json" "$T/one.yaml"
    check "containerd 2.x export: inspect --all and memsearch" python3 - "$T/ctrd2.json" "$CRH" "$T/ctrd2" <<'PY'
import glob, json, subprocess, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
assert s["runtime"].startswith("containerd v2"), s["runtime"]
tar = glob.glob(sys.argv[3] + "/crh-*/checkpoint-1.tar")[0]
c = json.loads(subprocess.run([sys.argv[2], "inspect", "--all", "--json", tar], capture_output=True, text=True,
                              check=True).stdout)["checkpoints"][0]
assert c["engine"] == "containerd (ctr checkpoint)", c["engine"]
p = {x["comm"]: x for x in c["processes"]}
assert p["sh"]["cmdline"].startswith("/bin/sh -c trap") and p["syslogd"]["cmdline"] == "syslogd -n -O /tmp/syslog", p
assert any(x["name"] == "/dev/log" for x in c["sockets"]), c["sockets"]
out = subprocess.run([sys.argv[2], "memsearch", tar, "--pid", "1", "--regex", "i=[0-9]+", "--json"],
                     capture_output=True, text=True, check=True).stdout
assert s["counter_memory"] in [int(m["match"][2:]) for m in json.loads(out)["matches"]], (s, out)
PY
else
    notok "containerd 2.x present for the inspect checks" "$C2X missing (tests/integration/32-built-runtimes.sh installs it)"
fi

# --- inspect --all ---------------------------------------------------------
for x in "$R2" "$C2"; do
    check "inspect --all --json: $(basename "$x")" bash -c "$CRH inspect --all --json '$x' > $T/all.json"
    check "process tree with command lines, environment, fds; sockets, mounts ($(basename "$x"))" python3 - "$T/all.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["checkpoints"][0]
p = {x["comm"]: x for x in c["processes"]}
sh = c["processes"][0]
assert sh["pid"] == 1 and sh["comm"] == "sh", sh
assert sh["cmdline"].startswith("/bin/sh -c trap 'exit 137' USR1; i=0;"), sh["cmdline"]
assert "PATH=/bin" in sh["env"], sh["env"]
assert sh["memory_pages"] > 0 and c["memory_pages"] >= sh["memory_pages"]
assert {"fd": 0, "type": "REG", "what": "/dev/null"} in sh["fds"], sh["fds"]
sl = p["syslogd"]
assert sl["cmdline"] == "syslogd -n -O /tmp/syslog", sl
assert any(f["type"] == "UNIXSK" and f["what"] == "UNIX dgram /dev/log" for f in sl["fds"]), sl["fds"]
assert {"fd": 3, "type": "REG", "what": "/tmp/syslog"} in sl["fds"], sl["fds"]
socks = c["sockets"]
assert any(s["protocol"] == "UNIX dgram" and s["name"] == "/dev/log" and s["holders"] == "%d:0" % sl["pid"]
           for s in socks), socks
m = {x["mountpoint"]: x for x in c["mounts"]}
assert m["/proc"]["type"] == "proc" and m["/dev"]["type"] == "tmpfs" and "/" in m, m
assert c["network"] == {"ips": []}
PY
done
check "inspect --ps-tree-cmd --ps-tree-env text" bash -c "$CRH inspect --ps-tree-cmd --ps-tree-env '$C1' > $T/t.txt"
check_grep "text shows the command line in brackets" '^  1 sh  \[/bin/sh -c trap' "$T/t.txt"
check_grep "and the environment" '^     env PATH=/bin' "$T/t.txt"
check "inspect --files --sockets --mounts --stats text" bash -c "$CRH inspect --files --sockets --mounts --stats '$R2' > $T/t.txt"
check_grep "open files table" 'UNIXSK +UNIX dgram /dev/log' "$T/t.txt"
check_grep "sockets with holders" '^    UNIX dgram /dev/log  \(pid:fd [0-9]+:0\)' "$T/t.txt"
check_grep "mounts" '^    /proc +proc' "$T/t.txt"
check_exit "inspect: unknown flag is bad usage" 2 $CRH inspect --bogus "$R1"

# An inet socket: CRIU 4.1.1 cannot dump one on this kernel (6.18 refuses
# SO_PASSCRED on inet sockets: "sockets: Can't get 1:16 opt: Operation not
# supported"), so a listening TCP socket's FileEntry is appended by hand
# to a copy of the real files.img, encoded as CRIU encodes it.
cp -r "$R2" "$T/inet"
python3 - "$T/inet/files.img" <<'PY'
import socket, struct, sys
def varint(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n: return out
def field(num, v):  # varint field
    return varint(num << 3) + varint(v)
def msg(num, body):
    return varint(num << 3 | 2) + varint(len(body)) + body
addr = struct.unpack("<I", socket.inet_aton("10.0.0.5"))[0]
isk = b"".join(field(n, v) for n, v in [(1, 99), (2, 4242), (3, 2), (4, 1), (5, 6), (6, 10), (7, 8080), (8, 0),
                                         (9, 0), (10, 128), (11, addr)])
fe = field(1, 4) + field(2, 99) + msg(4, isk)
open(sys.argv[1], "ab").write(struct.pack("<I", len(fe)) + fe)
PY
check "inspect --sockets reads a TCP listener" bash -c "$CRH inspect --sockets --json '$T/inet' > $T/inet.json"
check "TCP socket: addresses, port, state" python3 - "$T/inet.json" <<'PY'
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["checkpoints"][0]["sockets"] if x["protocol"] == "TCP"]
assert s == [{"protocol": "TCP", "state": "LISTEN", "holders": "", "src": "10.0.0.5", "src_port": 8080,
              "dst": "0.0.0.0", "dst_port": 0}], s
PY

# --- kubelet / CRI-O / Podman / Docker layouts around the real images ------
mkdir -p "$T/kubelet/checkpoints" "$T/docker/containers"
python3 - "$R1" "$R2" "$T" <<'PY'
import io, json, os, shutil, sys, tarfile
r1, r2, out = sys.argv[1:]
def archive(path, mode, img, ann, net, files, deleted):
    with tarfile.open(path, mode) as t:
        def add(n, data):
            ti = tarfile.TarInfo(n); ti.size = len(data); ti.mtime = 1764500000; t.addfile(ti, io.BytesIO(data))
        add("spec.dump", json.dumps({"annotations": ann}).encode())
        add("config.dump", json.dumps({"id": "c0ffee", "name": "counter",
            "checkpointedTime": "2026-11-30T10:00:00Z"}).encode())
        add("network.status", json.dumps(net).encode())
        diff = io.BytesIO()
        with tarfile.open(fileobj=diff, mode="w") as d:
            for n, data in files.items():
                ti = tarfile.TarInfo(n); ti.size = len(data); ti.mtime = 1764500000; d.addfile(ti, io.BytesIO(data))
        add("rootfs-diff.tar", diff.getvalue())
        add("deleted.files", json.dumps(deleted).encode())
        for f in sorted(os.listdir(img)):
            t.add(os.path.join(img, f), "checkpoint/" + f)
crio = {"io.kubernetes.cri-o.ContainerName": "k8s_counter", "io.kubernetes.container.name": "counter",
        "io.kubernetes.pod.name": "counter-pod", "io.kubernetes.pod.namespace": "default"}
cni = [{"cniVersion": "1.0.0", "ips": [{"address": "10.85.0.12/16", "gateway": "10.85.0.1"},
                                       {"address": "1100:200::c/24"}]}]
k = os.path.join(out, "kubelet/checkpoints")
archive(os.path.join(k, "checkpoint-counter-pod_default-counter-2026-11-30T10:00:00Z.tar"), "w", r1, crio, cni,
        {"tmp/first": b""}, ["/etc/old"])
archive(os.path.join(k, "checkpoint-counter-pod_default-counter-2026-11-30T10:05:00Z.tar"), "w", r2, crio, cni,
        {"tmp/first": b"", "tmp/second": b"hello\n"}, ["/etc/old", "/etc/delete-me"])
archive(os.path.join(out, "podman.tar.gz"), "w:gz", r2, {"io.container.manager": "libpod"},
        {"podman": {"subnets": [{"ipnet": "10.88.0.7/16", "gateway": "10.88.0.1"}],
                    "interfaces": {"eth0": {"subnets": [{"ipnet": "10.88.0.7/16"}]}}}}, {}, [])
cid = "ab" * 32
os.makedirs(os.path.join(out, "docker/containers", cid, "checkpoints"))
shutil.copytree(r1, os.path.join(out, "docker/containers", cid, "checkpoints/ck1"))
json.dump({"ID": cid, "Name": "/web"}, open(os.path.join(out, "docker/containers", cid, "config.v2.json"), "w"))
with tarfile.open(os.path.join(out, "kubelet/checkpoints/junk.tar"), "w") as t:
    ti = tarfile.TarInfo("hello.txt"); ti.size = 2; t.addfile(ti, io.BytesIO(b"hi"))
PY
K1=$(ls "$T"/kubelet/checkpoints/*10:00:00Z.tar) K2=$(ls "$T"/kubelet/checkpoints/*10:05:00Z.tar)
check "inspect --network on CRI-O (CNI) and Podman network.status" bash -c "$CRH inspect --network --json '$K1' '$T/podman.tar.gz' > $T/net.json"
check "IPs from network.status" python3 - "$T/net.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["checkpoints"]
assert c[0]["engine"] == "CRI-O" and c[0]["network"]["ips"] == ["10.85.0.12/16", "1100:200::c/24"], c[0]
assert c[1]["engine"] == "Podman" and c[1]["network"]["ips"] == ["10.88.0.7/16"], c[1]
PY
check "inspect --ps-tree-cmd reads memory from a compressed archive" bash -c "$CRH inspect --ps-tree-cmd '$T/podman.tar.gz' > $T/t.txt"
check_grep "command line from the archive's pages" 'syslogd  \[syslogd -n -O /tmp/syslog\]' "$T/t.txt"

# --- list --------------------------------------------------------------------
check "list finds checkpoints of every kind" bash -c "$CRH list --json '$T/runc' '$T/containerd' '$T/kubelet' '$T/docker' '$T/podman.tar.gz' > $T/list.json 2> $T/list.err"
check "list: engines, containers, times, sizes" python3 - "$T/list.json" "$T" <<'PY'
import json, os, sys
cs = json.load(open(sys.argv[1]))["checkpoints"]
by = {os.path.relpath(c["path"], sys.argv[2]): c for c in cs}
kinds = sorted(c["engine"] for c in cs)
# runc's two + containerd's two unpacked dirs, and containerd 1.6's shim may
# leave its own copy of a dump in its TMPDIR (inside the work dir): a CRIU
# image dir too
assert sum(e == "runc/CRIU image directory" for e in kinds) >= 2 + 2, kinds
assert kinds.count("containerd (ctr checkpoint)") == 2, kinds
assert kinds.count("CRI-O (kubelet)") == 2 and kinds.count("Docker") == 1 and kinds.count("Podman") == 1, kinds
d = [c for c in cs if c["engine"] == "Docker"][0]
assert d["container"] == "web" and d["bytes"] > 50000, d
k = [c for c in cs if c["engine"] == "CRI-O (kubelet)"][0]
assert k["container"] == "counter" and k["pod"] == "counter-pod" and k["time"] == "2026-11-30T10:00:00Z", k
for c in cs:
    assert c["bytes"] > 0 and c["time"], c
assert not any("junk" in p for p in by), by.keys()
PY
# junk.tar, and the counter image archive the containerd backend left in its work dir
check_grep "list says what it skipped" 'skipped 2 archives' "$T/list.err"
check "list text" bash -c "$CRH list '$T/docker' > $T/t.txt"
check_grep "list text row" '^Docker +web +[0-9T:-]+Z +[0-9]+  .*/checkpoints/ck1$' "$T/t.txt"
check_exit "list of a missing dir fails" 1 $CRH list "$T/nope"
check "list with no dir looks in the usual places" $CRH list
check_exit "list: unknown flag" 2 $CRH list --bogus

# --- diff --------------------------------------------------------------------
check "diff two runc checkpoints" bash -c "$CRH diff --json '$R1' '$R2' > $T/d1.json"
check "diff: processes, files, memory (runc)" python3 - "$T/d1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(p["comm"] == "syslogd" for p in d["processes"]["added"]), d["processes"]
assert any(f["what"] == "UNIX dgram /dev/log" for f in d["files"]["added"]), d["files"]
m = d["memory"]
assert m["pages_b"] > m["pages_a"] > 0 and m["bytes_b"] == m["pages_b"] * 4096, m
assert sum(p["pages_b"] for p in m["per_process"]) == m["pages_b"], m
assert d["rootfs"]["listed_a"] is False and d["rootfs"]["added"] == [], d["rootfs"]
PY
check "diff two containerd exports" bash -c "$CRH diff --json '$C1' '$C2' > $T/d2.json"
check "diff: root fs changes from the rw layers (containerd)" python3 - "$T/d2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["rootfs"]
added = {x["path"] for x in r["added"]}
assert r["listed_a"] and r["listed_b"], r
assert {"tmp/second", "etc/.wh.delete-me"} <= added, r
assert "tmp/first" not in added and not r["removed"], r
PY
check "diff two kubelet (CRI-O) archives" bash -c "$CRH diff '$K1' '$K2' > $T/d3.txt"
check_grep "diff text: file added to the root fs" '^  \+ path tmp/second size 6$' "$T/d3.txt"
check_grep "diff text: deleted.files grew" '^  x /etc/delete-me$' "$T/d3.txt"
check_grep "diff text: memory line" '^  [0-9]+ -> [0-9]+ pages \(\+[0-9]+\)' "$T/d3.txt"
check_exit "diff needs two checkpoints" 2 $CRH diff "$R1"
check_exit "diff of a non-checkpoint" 2 $CRH diff "$R1" "$T/kubelet/checkpoints/junk.tar"
check_exit "diff of a missing path" 1 $CRH diff "$R1" "$T/nope.tar"

# --- memsearch ---------------------------------------------------------------
for x in "$R2" "$C2" "$K2"; do
    check "memsearch --search in $(basename "$x")" bash -c "$CRH memsearch '$x' --search 'i=\$((i+1))' > $T/m.txt"
    check_grep "match with pid, address and context ($(basename "$x"))" '^pid 1  0x[0-9a-f]+ +.*i=\$\(\(i\+1\)\)' "$T/m.txt"
done
check "memsearch --regex --pid --json" bash -c "$CRH memsearch '$R2' --pid 1 --regex 'PATH=/[a-z]+' --context 4 --json > $T/m.json"
check "memsearch JSON: pid, address, match, context" python3 - "$T/m.json" <<'PY'
import json, sys
ms = json.load(open(sys.argv[1]))["matches"]
assert ms and all(m["pid"] == 1 and m["match"].startswith("PATH=/") and m["address"].startswith("0x") for m in ms), ms
assert "PATH=/bin" in [m["match"] for m in ms], ms
assert all(m["context"][m["match_offset"]:].startswith(m["match"]) for m in ms), ms
PY
# the counter the memory check read is the one memsearch finds there
check "memsearch finds the counter value the memory check reported" python3 - "$T/runc.json" "$CRH" "$R2" <<'PY'
import json, re, subprocess, sys
want = json.load(open(sys.argv[1]))["scenarios"][0]["counter_memory"]
out = subprocess.run([sys.argv[2], "memsearch", sys.argv[3], "--pid", "1", "--regex", "i=[0-9]+", "--json"],
                     capture_output=True, text=True, check=True).stdout
vals = [int(m["match"][2:]) for m in json.loads(out)["matches"]]
assert want in vals and want == max(vals), (want, vals)
PY
check_exit "memsearch: no match exits 1" 1 $CRH memsearch "$R2" --search "no-such-string-in-memory"
check_exit "memsearch: --search and --regex together" 2 $CRH memsearch "$R2" --search a --regex b
check_exit "memsearch: neither" 2 $CRH memsearch "$R2"
check_exit "memsearch: bad regex" 2 $CRH memsearch "$R2" --regex "a("
check_grep "says the regex is bad" "bad regular expression 'a\('" "$T/.out"
check_exit "memsearch: no such pid" 2 $CRH memsearch "$R2" --pid 4242 --search x
check_exit "memsearch: not a checkpoint" 2 $CRH memsearch "$T/kubelet/checkpoints/junk.tar" --search x
check_exit "memsearch: bad --context" 2 $CRH memsearch "$R2" --search x --context -1
cp -r "$R2" "$T/short" && head -c 5000 "$R2/pages-1.img" > "$T/short/pages-1.img"
check_exit "memsearch: a pages image shorter than its pagemap" 1 $CRH memsearch "$T/short" --search "not-there"
check_grep "says so" "shorter than its pagemap" "$T/.out"

# --- the memory check fails when it must ------------------------------------
cat > "$T/bad-mem.yaml" <<'Y'
scenario: bad-mem
steps:
  - start
  - wait: 300
  - checkpoint
  - corrupt: pages-1.img
  - check: memory
Y
printf 'scenario: early\nsteps:\n  - start\n  - check: memory\n' > "$T/early.yaml"
check_exit "memory check on damaged pages fails the scenario" 1 $CRH run --criu $CRIU --criu-env CRIU_FAULT=130 \
    --work-dir "$T/bad" --report json:"$T/bad.json" "$T/bad-mem.yaml" "$T/early.yaml"
check "with the reasons" python3 - "$T/bad.json" <<'PY'
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["scenarios"]}
assert "check: " in s["bad-mem"]["reason"] and "pages image is shorter" in s["bad-mem"]["reason"], s["bad-mem"]
assert "no checkpoint taken yet" in s["early"]["reason"], s["early"]
assert s["early"]["counter_memory"] is None
PY
check "nothing left running" bash -c "[ -z \"\$(runc --root $T/bad/runc-state list -q 2>/dev/null)\" ] && [ -z \"\$(runc --root $T/runc/runc-state list -q 2>/dev/null)\" ]"

# --- doctor: CRIU's kernel-feature cache (why concurrent dumps serialise) --
mkdir -p "$T/root/run"
check "doctor with a /run that is not a tmpfs" bash -c "$NP doctor --root '$T/root' > $T/doc.txt 2>&1"
check_grep "warns that CRIU re-probes the kernel every time" '^warn  criu kernel cache +/run is not a tmpfs' "$T/doc.txt"
check "doctor: tmpfs /run with a stale criu.kdat.tmp, then with a cache (private mount namespace)" \
    unshare -m sh -c "mount -t tmpfs tmpfs '$T/root/run' && touch '$T/root/run/criu.kdat.tmp' &&
        $NP doctor --root '$T/root' > '$T/doc1.txt' 2>&1; rm '$T/root/run/criu.kdat.tmp' && : > '$T/root/run/criu.kdat' &&
        $NP doctor --root '$T/root' > '$T/doc2.txt' 2>&1; true"
check_grep "a stale criu.kdat.tmp is named with its fix" 'stale /run/criu.kdat.tmp' "$T/doc1.txt"
check_grep "a present cache is ok" '^ok    criu kernel cache +/run/criu.kdat present' "$T/doc2.txt"
