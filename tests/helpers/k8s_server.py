#!/usr/bin/env python3
"""A TLS server on loopback speaking the kubelet's checkpoint API exactly as
KEP-2008 / pkg/kubelet/server/server.go do, and the few API server pod
endpoints crharness's kubelet backend uses (for tests; no kubelet or API
server can run here). Pods are records: "Running" at once, their log is the
counter's output as it would be by now (one line per 100 ms).

  POST   /api/v1/namespaces/{ns}/pods                    -> 201, pod JSON
  GET    /api/v1/namespaces/{ns}/pods/{pod}              -> status.phase Running, hostIP
  GET    /api/v1/namespaces/{ns}/pods/{pod}/log          -> "1\n2\n..." (tailLines honoured)
  DELETE /api/v1/namespaces/{ns}/pods/{pod}              -> 200
  PATCH  /api/v1/namespaces/{ns}/pods/{pod}/ephemeralcontainers (--runc) -> its command runs in the
         counter's pid namespace; a dead container of a restartPolicy Always pod is started again
         (restored again when its image is a checkpoint) and restartCount goes up
  POST   /api/v1/namespaces/{ns}/pods/{pod}/checkpoint   -> a patched API server's pod checkpoint:
         body {leaveRunning, encrypt, encryptionSecret, timeout, container}; 400 on bad fields
  POST   /apis/{group}/{version}/namespaces/{ns}/{plural} -> a ContainerCheckpoint object;
  GET    .../{plural}/{name}  -> status.phase Running, then Completed (status.location) or Failed

  POST /checkpoint/{namespace}/{pod}/{container}[?timeout=N]
    - client certificate signed by the test CA required (TLS handshake)
    - gate off: 404 "404 page not found" (the route does not exist)
    - unparsable timeout: 404 "cannot parse value of timeout parameter"
    - unknown pod/container: 404 from the handler
    - known: 200 {"items": ["<root>/checkpoints/checkpoint-<pod>_<ns>-<container>-<ts>.tar"]}

With --crd-store, custom objects are stored as an API server stores them
(no built-in controller; `crharness controller` serves them):
  POST   /apis/{g}/{v}/namespaces/{ns}/{plural}             -> 201, resourceVersion set
  GET    /apis/{g}/{v}[/namespaces/{ns}]/{plural}           -> list with metadata.resourceVersion
  GET    ...?watch=true&resourceVersion=RV[&timeoutSeconds=N] -> chunked JSON lines: events after RV
         (ERROR 410 when RV is older than the last POST /test/compact)
  GET/DELETE .../{plural}/{name}
  PATCH  .../{plural}/{name}/status  (application/merge-patch+json only; 409 when a
         metadata.resourceVersion in the patch is not the object's)
  POST   /test/compact -> open watches and later ones from older versions get ERROR 410

Usage: k8s_server.py PORTFILE CA CERT KEY ROOT [--gate on|off] [--pods ns/pod/container,...]
                     [--fail500 MESSAGE] [--crd-fail MESSAGE] [--crd-store]
                     [--runc BUNDLE [--images DIR]]
With --runc, pods are real runc containers from BUNDLE (see node_runtime.py):
logs carry the counter's real value, checkpoints are real dumps, and pods
are restored from checkpoint images found in DIR or from RESTORE_FROM.
Without it, pods are records and the archive written for a known container
is ARCHIVE_SRC if that env var names a file, else an empty tar.
"""
import http.server, json, os, shutil, ssl, sys, tarfile, threading, time, urllib.parse
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_runtime import Node

portfile, ca, cert, key, root = sys.argv[1:6]
gate = "on"
fail500 = None
crd_fail = None
node = None
lock = threading.Lock()  # one runtime operation at a time, as a kubelet's sync loop does
runc_bundle = images = None
crds = {}  # path -> (object, created)
pods = set()
live = {}  # "ns/pod" -> creation time
waiting = {}  # "ns/pod" -> the waiting state of a container that could not start
specs = {}  # "ns/pod" -> pod spec, for restarts
restarts = {}  # "ns/pod" -> restartCount
args = sys.argv[6:]
crd_store = "--crd-store" in args
store = {}  # "ns/plural/name" -> object
events = []  # (rv, type, object) in order
rv_now = 0
compacted = 0
changed = threading.Condition()
for i, a in enumerate(args):
    if a == "--gate":
        gate = args[i + 1]
    if a == "--pods":
        pods = set(args[i + 1].split(","))
    if a == "--fail500":
        fail500 = args[i + 1]
    if a == "--crd-fail":
        crd_fail = args[i + 1]
    if a == "--runc":
        runc_bundle = args[i + 1]
    if a == "--images":
        images = args[i + 1]
os.makedirs(root, exist_ok=True)
if runc_bundle:
    node = Node(root, runc_bundle, images)


def write_archive(ns, pod, ctr, leave_running=True):
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = os.path.join(root, "checkpoints", f"checkpoint-{pod}_{ns}-{ctr}-{ts}.tar")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    src = os.environ.get("ARCHIVE_SRC")
    if node:
        with lock:
            node.checkpoint(pod, ns, ctr, leave_running, path)
    elif src and os.path.isfile(src):
        shutil.copyfile(src, path)
    else:
        tarfile.open(path, "w").close()
    return path


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def store_event(self, kind, key, obj):
        global rv_now
        with changed:
            rv_now += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(rv_now)
            events.append((rv_now, kind, key, json.loads(json.dumps(obj))))
            changed.notify_all()

    def watch(self, match, q):
        since = int(q.get("resourceVersion", ["0"])[-1] or 0)
        era = compacted
        until = time.time() + int(q.get("timeoutSeconds", ["1800"])[-1])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        try:
            # as the API server does when its window moved past a watch: an ERROR event
            err = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired",
                   "message": f"too old resource version: {since} ({rv_now})", "code": 410}
            while time.time() < until:
                with changed:
                    if since < compacted or era != compacted:
                        chunk(json.dumps({"type": "ERROR", "object": err}).encode() + b"\n")
                        break
                    todo = [e for e in events if e[0] > since and match(e[2])]
                    if not todo:
                        changed.wait(min(0.5, max(0.0, until - time.time())))
                        continue
                for rv, kind, _, obj in todo:
                    chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
                    since = rv
            chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def crd_stored(self, method, p, q):
        # apis/G/V[/namespaces/NS]/PLURAL[/NAME[/status]]
        ns = p[4] if len(p) >= 6 and p[3] == "namespaces" else None
        rest = p[5:] if ns else p[3:]
        plural = rest[0]
        if method == "GET" and len(rest) == 1:
            def match(key):
                kns, kplural, _ = key.split("/")
                return (ns is None or kns == ns) and kplural == plural
            if q.get("watch", [""])[-1] in ("true", "1"):
                return self.watch(match, q)
            with changed:
                items = [o for k, o in store.items() if match(k)]
                rv = rv_now
            return self.send(200, json.dumps({"kind": "List", "metadata": {"resourceVersion": str(rv)},
                                              "items": items}), "application/json")
        if method == "POST" and len(rest) == 1 and ns:
            obj = self.body()
            obj["metadata"]["namespace"] = ns
            key = f"{ns}/{plural}/{obj['metadata']['name']}"
            if key in store:
                return self.send(409, json.dumps({"kind": "Status", "code": 409, "reason": "AlreadyExists"}), "application/json")
            obj["metadata"]["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.store_event("ADDED", key, obj)
            store[key] = obj
            return self.send(201, json.dumps(obj), "application/json")
        key = f"{ns}/{plural}/{rest[1]}" if ns and len(rest) >= 2 else None
        if key not in store:
            return self.send(404, json.dumps({"kind": "Status", "code": 404, "reason": "NotFound"}), "application/json")
        obj = store[key]
        if method == "GET" and len(rest) == 2:
            return self.send(200, json.dumps(obj), "application/json")
        if method == "DELETE" and len(rest) == 2:
            del store[key]
            self.store_event("DELETED", key, obj)
            return self.send(200, json.dumps(obj), "application/json")
        if method == "PATCH" and rest[2:] == ["status"]:
            if self.headers.get("Content-Type") != "application/merge-patch+json":
                return self.send(415, json.dumps({"kind": "Status", "code": 415, "message": "unsupported patch type"}), "application/json")
            patch = self.body()
            want = patch.get("metadata", {}).get("resourceVersion")
            with changed:
                if want is not None and want != obj["metadata"]["resourceVersion"]:
                    return self.send(409, json.dumps({"kind": "Status", "code": 409, "reason": "Conflict"}), "application/json")
                st = obj.setdefault("status", {})
                for k, v in patch.get("status", {}).items():
                    if v is None:
                        st.pop(k, None)
                    else:
                        st[k] = v
            self.store_event("MODIFIED", key, obj)
            with open(os.path.join(root, "status-patches.jsonl"), "a") as f:
                f.write(json.dumps({"name": rest[1], **patch}) + "\n")
            return self.send(200, json.dumps(obj), "application/json")
        return self.send(405, json.dumps({"kind": "Status", "code": 405}), "application/json")

    def crd(self, method):
        u = urllib.parse.urlsplit(self.path)
        p = u.path.strip("/").split("/")
        if crd_store and len(p) >= 4:
            return self.crd_stored(method, p, urllib.parse.parse_qs(u.query))
        # apis/G/V/namespaces/NS/PLURAL[/NAME]
        if len(p) < 6 or p[3] != "namespaces":
            return self.send(404, "404 page not found\n")
        if method == "POST" and len(p) == 6:
            obj = self.body()
            crds["/".join(p + [obj["metadata"]["name"]])] = (obj, time.time())
            return self.send(201, json.dumps(obj), "application/json")
        key = "/".join(p)
        if key not in crds:
            return self.send(404, json.dumps({"kind": "Status", "code": 404}), "application/json")
        obj, t0 = crds[key]
        if time.time() - t0 < 0.5:
            obj["status"] = {"phase": "Running"}
        elif crd_fail:
            obj["status"] = {"phase": "Failed", "message": crd_fail}
        else:
            if "location" not in obj.get("status", {}):
                obj["status"] = {"phase": "Completed", "message": "checkpointed",
                                 "location": write_archive(p[4], obj["spec"]["podName"], obj["spec"]["containerName"])}
        return self.send(200, json.dumps(obj), "application/json")

    def api(self, method):
        u = urllib.parse.urlsplit(self.path)
        p = u.path.strip("/").split("/")
        if p[:1] == ["apis"]:
            return self.crd(method)
        if p[:3] != ["api", "v1", "namespaces"] or len(p) < 5 or p[4] != "pods":
            return self.send(404, "404 page not found\n")
        ns = p[3]
        if method == "POST" and len(p) == 7 and p[6] == "checkpoint":
            return self.pod_checkpoint(p[3], p[5])
        if method == "POST" and len(p) == 5:
            body = self.body()
            name = body["metadata"]["name"]
            with open(os.path.join(root, "last-pod.json"), "w") as f:
                json.dump(body, f)
            if node:
                specs[f"{ns}/{name}"] = body["spec"]
                self.start_pod(ns, name)
            live[f"{ns}/{name}"] = time.time()
            for c in body["spec"]["containers"]:
                pods.add(f"{ns}/{name}/{c['name']}")
            body["status"] = {"phase": "Pending"}
            return self.send(201, json.dumps(body), "application/json")
        key = f"{ns}/{p[5]}" if len(p) > 5 else None
        if key not in live:
            return self.send(404, json.dumps({"kind": "Status", "code": 404, "reason": "NotFound"}), "application/json")
        if method == "DELETE":
            del live[key]
            waiting.pop(key, None)
            if node:
                with lock:
                    node.delete(p[5])
            return self.send(200, json.dumps({"kind": "Status", "status": "Success"}), "application/json")
        if node and len(p) == 7 and p[6] == "log":
            with lock:
                return self.send(200, f"{node.count(p[5])}\n")
        if node and method == "PATCH" and len(p) == 7 and p[6] == "ephemeralcontainers":
            return self.ephemeral(key, p[5])
        if node and len(p) == 6:
            status = {"phase": "Pending", "hostIP": "127.0.0.1"}
            with lock:
                up = key not in waiting and node.running(p[5])
            if not up and key not in waiting and specs[key].get("restartPolicy") == "Always":
                # the kubelet's sync loop: a dead container is started again
                restarts[key] = restarts.get(key, 0) + 1
                with lock:
                    node.delete(p[5])
                self.start_pod(ns, p[5])
                with lock:
                    up = key not in waiting and node.running(p[5])
            cs = {"name": "counter", "restartCount": restarts.get(key, 0), "state": {}}
            if key in waiting:
                cs["state"]["waiting"] = waiting[key]
            elif up:
                status["phase"] = "Running"
                cs["state"]["running"] = {}
            else:
                status["phase"] = "Failed"
            status["containerStatuses"] = [cs]
            return self.send(200, json.dumps({"metadata": {"name": p[5], "namespace": ns}, "status": status}),
                             "application/json")
        if len(p) == 7 and p[6] == "log":
            n = int((time.time() - live[key]) / 0.1) + 1
            tail = int(urllib.parse.parse_qs(u.query).get("tailLines", ["0"])[-1])
            lines = [str(i) for i in range(max(1, n - tail + 1) if tail else 1, n + 1)]
            return self.send(200, "\n".join(lines) + "\n")
        return self.send(200, json.dumps({"metadata": {"name": p[5], "namespace": ns},
                                          "status": {"phase": "Running", "hostIP": "127.0.0.1"}}), "application/json")

    def start_pod(self, ns, name):
        try:
            self.run_pod(name, specs[f"{ns}/{name}"])
        except Exception as e:  # the kubelet's verdict shows in the pod's status
            reason = "ErrImageNeverPull" if "not present" in str(e) else "CreateContainerError"
            waiting[f"{ns}/{name}"] = {"reason": reason, "message": str(e)}

    def ephemeral(self, key, pod):
        """An ephemeral container targeting the counter shares its pid
        namespace: its command runs there (runc exec is exactly that)."""
        if self.headers.get("Content-Type") != "application/strategic-merge-patch+json":
            return self.send(415, json.dumps({"kind": "Status", "code": 415}), "application/json")
        e = self.body()["spec"]["ephemeralContainers"][0]
        with open(os.path.join(root, "last-ephemeral.json"), "w") as f:
            json.dump({"pod": pod, **e}, f)
        if e.get("targetContainerName") != "counter" or not e.get("command") or not e.get("name"):
            return self.send(422, json.dumps({"kind": "Status", "code": 422, "message": "bad ephemeral container"}),
                             "application/json")
        with lock:
            node.exec(pod, e["command"])
        return self.send(200, json.dumps({"metadata": {"name": pod}, "spec": specs[key]}), "application/json")

    def run_pod(self, name, spec):
        """Start the counter, or restore it as CRI-O/containerd would: from a
        checkpoint image, or (a restoring shim) from RESTORE_FROM."""
        c = spec["containers"][0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        with lock:
            ckpt = node.checkpoint_image(c["image"], c["name"])
            if ckpt is None and env.get("RESTORE_FROM"):
                ckpt = node.archive_dir(env["RESTORE_FROM"])
            if ckpt:
                node.restore(name, ckpt)
                shutil.rmtree(os.path.dirname(ckpt), ignore_errors=True)
            elif c["image"].startswith("localhost/"):
                raise RuntimeError(f'image "{c["image"]}" not present with pull policy of Never')
            else:
                node.run(name)

    def pod_checkpoint(self, ns, pod):
        b = self.body()
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "last-request.json"), "w") as f:
            json.dump(b, f)
        if f"{ns}/{pod}" not in live:
            return self.send(404, json.dumps({"kind": "Status", "code": 404, "message": f'pods "{pod}" not found'}), "application/json")
        if b.get("encrypt") and not b.get("encryptionSecret"):
            return self.send(400, json.dumps({"kind": "Status", "code": 400, "message": "encryptionSecret is required when encrypt is true"}), "application/json")
        if not isinstance(b.get("timeout", 0), int) or not isinstance(b.get("leaveRunning", True), bool):
            return self.send(400, json.dumps({"kind": "Status", "code": 400, "message": "bad field type"}), "application/json")
        path = write_archive(ns, pod, b.get("container") or "counter", b.get("leaveRunning", True))
        if b.get("leaveRunning") is False:
            del live[f"{ns}/{pod}"]
        return self.send(200, json.dumps({"items": [path]}), "application/json")

    def do_GET(self):
        self.api("GET")

    def do_DELETE(self):
        self.api("DELETE")

    def do_PATCH(self):
        self.api("PATCH")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.strip("/").split("/")
        if parts[:1] in (["api"], ["apis"]):
            return self.api("POST")
        if parts == ["test", "compact"]:
            global compacted
            with changed:
                compacted = rv_now
                changed.notify_all()
            return self.send(200, "compacted\n")
        if gate != "on" or len(parts) != 4 or parts[0] != "checkpoint":
            return self.send(404, "404 page not found\n")
        q = urllib.parse.parse_qs(u.query)
        if "timeout" in q:
            try:
                int(q["timeout"][-1])
            except ValueError:
                return self.send(404, "cannot parse value of timeout parameter\n")
        ns, pod, ctr = parts[1:]
        if fail500:
            return self.send(500, f"checkpointing of {ns}/{pod}/{ctr} failed: {fail500}\n")
        if f"{ns}/{pod}/{ctr}" not in pods:
            return self.send(404, f'container "{ctr}" not found in pod "{pod}" in namespace "{ns}"\n')
        self.send(200, json.dumps({"items": [write_archive(ns, pod, ctr)]}), "application/json")


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
