"""The node side of tests/helpers/k8s_server.py when it is given a runc
bundle: pods are real runc containers (the counter bundle crharness's runc
backend made in the same test), checkpoints are real `runc checkpoint`s
packed as the kubelet packs them, and a pod whose image is a checkpoint
image (loaded into IMAGES by the harness's --load-image command) or whose
container env has RESTORE_FROM=ARCHIVE is restored from it with `runc
restore`, as CRI-O and containerd >= 2.1 do. What the runtime sees of the
checkpoint image is exactly what a node's runtime sees: the index
annotations and the layer's contents.
"""
import io, json, os, shutil, subprocess, tarfile, tempfile, time


class Node:
    def __init__(self, root, bundle, images):
        self.root, self.bundle, self.images = root, bundle, images
        self.runc = ["runc", "--root", os.path.join(root, "runc")]

    def _bundle(self, pod):
        dst = os.path.join(self.root, "bundles", pod)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(self.bundle, dst, symlinks=True)
        return dst

    def _runc(self, *args, check=True):
        # a detached container inherits runc's stdio: never a pipe we wait on
        detached = "-d" in args
        log = os.path.join(self.root, f"runc-{args[0]}.log")
        out = subprocess.DEVNULL if detached else subprocess.PIPE
        p = subprocess.run(self.runc + ["--log", log] + list(args), stdin=subprocess.DEVNULL,
                           stdout=out, stderr=out, text=True, timeout=120)
        if check and p.returncode:
            err = p.stderr.strip() if p.stderr else open(log).read().strip().splitlines()[-1:]
            raise RuntimeError(f"runc {args[0]}: {err}")
        return p.stdout

    def run(self, pod):
        self._runc("run", "-d", "--bundle", self._bundle(pod), pod)

    def restore(self, pod, ckpt):
        work = tempfile.mkdtemp(dir=self.root)
        try:
            self._runc("restore", "-d", "--image-path", ckpt, "--work-path", work,
                       "--bundle", self._bundle(pod), pod)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def exec(self, pod, argv):
        self._runc("exec", pod, *argv)

    def count(self, pod):
        return int(self._runc("exec", pod, "cat", "/tmp/count").strip() or 0)

    def running(self, pod):
        out = self._runc("state", pod, check=False)
        return bool(out) and json.loads(out)["status"] == "running"

    def delete(self, pod):
        self._runc("delete", "-f", pod, check=False)
        shutil.rmtree(os.path.join(self.root, "bundles", pod), ignore_errors=True)

    def checkpoint(self, pod, ns, ctr, leave_running, path):
        """A real dump, packed as checkpoint-POD_NS-CTR-TS.tar is."""
        tmp = tempfile.mkdtemp(dir=self.root)
        try:
            args = ["checkpoint", "--image-path", tmp + "/img", "--work-path", tmp]
            self._runc(*(args + (["--leave-running"] if leave_running else []) + [pod]))
            with tarfile.open(path + ".tmp", "w") as t:
                def add(n, d):
                    ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
                add("spec.dump", json.dumps({"annotations": {"io.kubernetes.cri.container-name": ctr,
                                                             "io.kubernetes.pod.name": pod,
                                                             "io.kubernetes.pod.namespace": ns}}).encode())
                add("config.dump", json.dumps({"id": pod, "name": ctr,
                                               "rootfsImageName": "docker.io/library/counter:latest",
                                               "createdTime": time.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode())
                for f in sorted(os.listdir(tmp + "/img")):
                    t.add(os.path.join(tmp, "img", f), "checkpoint/" + f)
            os.rename(path + ".tmp", path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def checkpoint_image(self, name, ctr):
        """The checkpoint dir of the loaded image called name, if it restores ctr."""
        for f in sorted(os.listdir(self.images)) if self.images and os.path.isdir(self.images) else []:
            with tarfile.open(os.path.join(self.images, f)) as t:
                index = json.load(t.extractfile("index.json"))
                desc = index["manifests"][0]
                ann = desc.get("annotations", {})
                if ann.get("io.containerd.image.name") != name:
                    continue
                if ann.get("org.criu.checkpoint.container.name") != ctr or \
                        index.get("annotations", {}).get("io.kubernetes.cri-o.annotations.checkpoint.name") != ctr:
                    raise RuntimeError(f"image {name} is not a checkpoint of container {ctr}")
                man = json.load(t.extractfile("blobs/sha256/" + desc["digest"].split(":")[1]))
                layer = t.extractfile("blobs/sha256/" + man["layers"][0]["digest"].split(":")[1])
                return self._unpack(layer)
        return None

    def archive_dir(self, archive):
        with open(archive, "rb") as f:
            return self._unpack(f)

    def _unpack(self, fileobj):
        dst = tempfile.mkdtemp(dir=self.root)
        with tarfile.open(fileobj=fileobj) as lt:
            if hasattr(tarfile, "data_filter"):
                lt.extractall(dst, filter="data")
            else:  # older 3.11: refuse what the data filter would
                for m in lt.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                        raise RuntimeError(f"layer entry {m.name} refused")
                lt.extractall(dst)
        return os.path.join(dst, "checkpoint")
