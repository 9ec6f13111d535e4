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

  POST /checkpoint/{namespace}/{pod}/{container}[?timeout=N]
    - client certificate signed by the test CA required (TLS handshake)
    - gate off: 404 "404 page not found" (the route does not exist)
    - unparsable timeout: 404 "cannot parse value of timeout parameter"
    - unknown pod/container: 404 from the handler
    - known: 200 {"items": ["<root>/checkpoints/checkpoint-<pod>_<ns>-<container>-<ts>.tar"]}

Usage: k8s_server.py PORTFILE CA CERT KEY ROOT [--gate on|off] [--pods ns/pod/container,...]
                     [--fail500 MESSAGE]
The archive written for a known container is ARCHIVE_SRC if that env var
names a file (a real checkpoint from the runc backend), else an empty tar.
"""
import http.server, json, os, shutil, ssl, sys, tarfile, time, urllib.parse

portfile, ca, cert, key, root = sys.argv[1:6]
gate = "on"
fail500 = None
pods = set()
live = {}  # "ns/pod" -> creation time
args = sys.argv[6:]
for i, a in enumerate(args):
    if a == "--gate":
        gate = args[i + 1]
    if a == "--pods":
        pods = set(args[i + 1].split(","))
    if a == "--fail500":
        fail500 = args[i + 1]


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

    def api(self, method):
        u = urllib.parse.urlsplit(self.path)
        p = u.path.strip("/").split("/")
        if p[:3] != ["api", "v1", "namespaces"] or len(p) < 5 or p[4] != "pods":
            return self.send(404, "404 page not found\n")
        ns = p[3]
        if method == "POST" and len(p) == 5:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            name = body["metadata"]["name"]
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
            return self.send(200, json.dumps({"kind": "Status", "status": "Success"}), "application/json")
        if len(p) == 7 and p[6] == "log":
            n = int((time.time() - live[key]) / 0.1) + 1
            tail = int(urllib.parse.parse_qs(u.query).get("tailLines", ["0"])[-1])
            lines = [str(i) for i in range(max(1, n - tail + 1) if tail else 1, n + 1)]
            return self.send(200, "\n".join(lines) + "\n")
        return self.send(200, json.dumps({"metadata": {"name": p[5], "namespace": ns},
                                          "status": {"phase": "Running", "hostIP": "127.0.0.1"}}), "application/json")

    def do_GET(self):
        self.api("GET")

    def do_DELETE(self):
        self.api("DELETE")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.strip("/").split("/")
        if parts[:1] == ["api"]:
            return self.api("POST")
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
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        path = os.path.join(root, "checkpoints", f"checkpoint-{pod}_{ns}-{ctr}-{ts}.tar")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        src = os.environ.get("ARCHIVE_SRC")
        if src and os.path.isfile(src):
            shutil.copyfile(src, path)
        else:
            tarfile.open(path, "w").close()
        self.send(200, json.dumps({"items": [path]}), "application/json")


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
