#!/usr/bin/env python3
"""Test HTTP(S) server on loopback for nodeprep's fetch step.

Serves files from a directory with Range support (206), and a few special
paths:  /flaky/NAME  sends only half of NAME on the first request and then
drops the connection (later requests, with or without Range, are served);
/redirect-file  redirects to a file:// URL; /hits  lists the requests seen.
It is also a forward proxy for http: a request for an absolute URL
(GET http://any.host/NAME) is logged as "PROXY URL" and served as /NAME.
Usage: httpd.py DIR PORTFILE [CERT KEY]; writes the bound port to PORTFILE.
"""
import http.server, os, ssl, sys, threading

root, portfile = sys.argv[1], sys.argv[2]
hits, flaky_done = [], set()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.startswith("http://"):
            hits.append("PROXY %s" % self.path)
            self.path = "/" + self.path.split("/", 3)[3]
        hits.append("%s %s" % (self.path, self.headers.get("Range", "-")))
        if self.path == "/hits":
            return self.send(200, ("\n".join(hits) + "\n").encode())
        if self.path == "/redirect-file":
            self.send_response(302); self.send_header("Location", "file:///etc/hostname")
            self.send_header("Content-Length", "0"); self.end_headers(); return
        flaky = self.path.startswith("/flaky/")
        name = self.path[len("/flaky/"):] if flaky else self.path.lstrip("/")
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            return self.send(404, b"not found\n")
        data = open(path, "rb").read()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if flaky and name not in flaky_done:
            flaky_done.add(name)
            self.send_response(200); self.send_header("Content-Length", str(len(data)))
            self.end_headers(); self.wfile.write(data[: len(data) // 2]); self.wfile.flush()
            self.close_connection = True
            return
        if start:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            body = data[start:]
        else:
            self.send_response(200); body = data
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def send(self, code, body):
        self.send_response(code); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
