# fetch, extract, build and git step kinds against real things: an HTTP(S)
# server on loopback (tests/helpers/httpd.py: ranges, a connection dropped
# half-way, 404, a redirect to file://), archives and hostile archives made
# here, git repositories made here with the git CLI (tags, a branch, a
# submodule) cloned over file://.
. tests/integration/lib.sh
S=$T/state; W=$T/www; R=$T/root
mkdir -p "$W" "$R"
head -c 300000 /dev/urandom > "$W/blob.bin"
sum=$(sha256sum "$W/blob.bin" | cut -d' ' -f1)
python3 tests/helpers/httpd.py "$W" "$T/port" & srv=$!
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
python3 tests/helpers/httpd.py "$W" "$T/tlsport" "$T/cert.pem" "$T/key.pem" & tls=$!
trap 'kill $srv $tls 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 50); do [ -s "$T/port" ] && [ -s "$T/tlsport" ] && break; sleep 0.1; done
P=$(cat "$T/port"); TP=$(cat "$T/tlsport")

fetch_recipe() { # NAME URL SHA; callers append more fields
    printf 'recipe: %s\nsteps:\n  - name: get\n    fetch:\n      url: "%s"\n      dest: /opt/%s\n      sha256: "%s"\n' \
        "$1" "$2" "$1" "$3" > "$T/$1.yaml"; }
np() { $NP "$@" --root "$R" --state-dir "$S"; }

fetch_recipe good "http://127.0.0.1:$P/blob.bin" "$sum"
check "fetch: good download" np apply "$T/good.yaml"
check "fetch: file is the served one" cmp "$W/blob.bin" "$R/opt/good"
check "fetch: cached by content" test -f "$S/cache/sha256/$sum"
check "fetch: re-apply changes nothing" np apply "$T/good.yaml"
check_grep "fetch: converged" '1 ok, 0 changed, 0 failed' "$T/.out"

fetch_recipe bad "http://127.0.0.1:$P/blob.bin" "$(printf '0%.0s' $(seq 64))"
check_exit "fetch: wrong sha256 fails the step" 1 np apply "$T/bad.yaml"
check_grep "fetch: says mismatch" 'sha256 mismatch .* the download was discarded' "$T/.out"
check "fetch: nothing installed, nothing cached" bash -c "[ ! -e $R/opt/bad ] && [ -z \"\$(ls $S/cache/sha256 | grep -v $sum)\" ]"

rm -f "$S/cache/sha256/"*  # a cached copy would (rightly) satisfy any URL
fetch_recipe missing "http://127.0.0.1:$P/nope.bin" "$sum"
check_exit "fetch: 404 fails" 1 np apply "$T/missing.yaml"
check_grep "fetch: 404 is named" "nope.bin.*404" "$T/.out"

cp "$W/blob.bin" "$W/flake.bin"; fsum=$(sha256sum "$W/flake.bin" | cut -d' ' -f1)
rm -f "$S/cache/sha256/$fsum"
fetch_recipe flaky "http://127.0.0.1:$P/flaky/flake.bin" "$fsum"
printf '      retries: 3\n' >> "$T/flaky.yaml"
check "fetch: interrupted download is resumed" np apply "$T/flaky.yaml"
check "fetch: resumed file is whole" cmp "$W/flake.bin" "$R/opt/flaky"
curl -s "http://127.0.0.1:$P/hits" > "$T/hits"
check_grep "fetch: the retry asked for the rest (Range)" "^/flaky/flake.bin bytes=150000-" "$T/hits"

# the proxy environment is honoured: a host that does not resolve is
# reached through http_proxy (the test server acting as a forward proxy)
rm -f "$S/cache/sha256/$sum"
fetch_recipe proxied "http://mirror.invalid/blob.bin" "$sum"
check "fetch: through http_proxy" env -u no_proxy -u NO_PROXY http_proxy="http://127.0.0.1:$P" $NP apply --root "$R" --state-dir "$S" "$T/proxied.yaml"
check "fetch: the proxied file is the served one" cmp "$W/blob.bin" "$R/opt/proxied"
curl -s "http://127.0.0.1:$P/hits" > "$T/hits"
check_grep "fetch: the proxy saw the absolute URL" "^PROXY http://mirror.invalid/blob.bin" "$T/hits"

printf 'recipe: x\nsteps:\n  - fetch: { url: "http://h/x", dest: /x }\n' > "$T/nosum.yaml"
check_exit "fetch: sha256 required" 2 np validate "$T/nosum.yaml"
check_grep "fetch: located error" "nosum.yaml:3:.*sha256. is required" "$T/.out"
printf 'recipe: x\nsteps:\n  - fetch: { url: "http://127.0.0.1:%s/blob.bin", dest: /opt/ins, insecure: true }\n' "$P" > "$T/ins.yaml"
check "fetch: insecure: true allows no checksum" np apply "$T/ins.yaml"

fetch_recipe tls "https://127.0.0.1:$TP/blob.bin" "$sum"
rm -f "$S/cache/sha256/$sum"
check_exit "fetch: TLS with an untrusted CA is refused" 1 np apply "$T/tls.yaml"
check_grep "fetch: says why (certificate)" "certificate|SSL" "$T/.out"
fetch_recipe tlsca "https://127.0.0.1:$TP/blob.bin" "$sum"
printf '      ca_file: %s\n' "$T/cert.pem" >> "$T/tlsca.yaml"
check "fetch: TLS with the recipe's CA works" np apply "$T/tlsca.yaml"

rm -f "$S/cache/sha256/"*
fetch_recipe redir "http://127.0.0.1:$P/redirect-file" "$sum"
check_exit "fetch: redirect http -> file:// refused" 1 np apply "$T/redir.yaml"
check_grep "fetch: redirect refusal named" "redirect-file" "$T/.out"

fetch_recipe mirror "http://unreachable.invalid/blob.bin" "$sum"
printf '      name: blob\n' >> "$T/mirror.yaml"
check "fetch: --source NAME=PATH redirects to a local file" np apply --source blob="$W/blob.bin" "$T/mirror.yaml"
printf 'sources:\n  blob: "http://127.0.0.1:%s/blob.bin"\n' "$P" > "$T/site.yaml"
rm -f "$S/cache/sha256/"* "$R/opt/mirror"
check "fetch: --sources site file redirects to a mirror" np apply --sources "$T/site.yaml" "$T/mirror.yaml"
head -c 1000 /dev/urandom > "$T/other.bin"
rm -f "$S/cache/sha256/"* "$R/opt/mirror"
check_exit "fetch: a redirected source still needs the recipe's sha256" 1 np apply --source blob="$T/other.bin" "$T/mirror.yaml"

# extract
mkdir -p "$T/src/pkg-1.0/sub" && echo hello > "$T/src/pkg-1.0/sub/a.txt" && ln -s sub/a.txt "$T/src/pkg-1.0/link"
tar -C "$T/src" -czf "$R/opt/pkg.tar.gz" pkg-1.0
printf 'recipe: x\nsteps:\n  - extract: { src: /opt/pkg.tar.gz, dest: /opt/pkg, strip_components: 1 }\n' > "$T/ex.yaml"
check "extract: tar.gz with strip_components" np apply "$T/ex.yaml"
check "extract: files and links in place" bash -c "[ \"\$(cat $R/opt/pkg/link)\" = hello ]"
check "extract: re-apply changes nothing" np apply "$T/ex.yaml"
check_grep "extract: converged" '1 ok, 0 changed' "$T/.out"
python3 - "$T" <<'PY'
import io, sys, tarfile
t = sys.argv[1]
def mk(name, add):
    with tarfile.open(f"{t}/{name}.tar", "w") as tf:
        add(tf)
def reg(tf, n, data=b"x"):
    ti = tarfile.TarInfo(n); ti.size = len(data); tf.addfile(ti, io.BytesIO(data))
def link(tf, n, target, kind):
    ti = tarfile.TarInfo(n); ti.type = kind; ti.linkname = target; tf.addfile(ti)
mk("abs", lambda tf: (reg(tf, "ok.txt"), reg(tf, "/tmp/np-evil-abs")))
mk("dotdot", lambda tf: (reg(tf, "ok.txt"), reg(tf, "a/../../np-evil-dotdot")))
mk("symlink", lambda tf: (link(tf, "esc", "../../../../tmp", tarfile.SYMTYPE), reg(tf, "esc/np-evil-sym")))
mk("hardlink", lambda tf: (reg(tf, "ok.txt"), link(tf, "hl", "../../etc/passwd", tarfile.LNKTYPE)))
def dev(tf):
    ti = tarfile.TarInfo("null"); ti.type = tarfile.CHRTYPE; ti.devmajor, ti.devminor = 1, 3; tf.addfile(ti)
mk("device", dev)
with tarfile.open(f"{t}/good.tar", "w") as tf:
    reg(tf, "big.bin", b"y" * 200000)
data = open(f"{t}/good.tar", "rb").read()
open(f"{t}/truncated.tar", "wb").write(data[:100000])
PY
for kind in abs dotdot symlink hardlink device truncated; do
    cp "$T/$kind.tar" "$R/opt/$kind.tar"
    printf 'recipe: x\nsteps:\n  - extract: { src: /opt/%s.tar, dest: /opt/out-%s }\n' $kind $kind > "$T/h.yaml"
    check_exit "extract: hostile archive ($kind) refused" 1 np apply "$T/h.yaml"
    check "extract: ($kind) nothing half-done" bash -c "[ ! -e $R/opt/out-$kind ] && ! ls -a $R/opt | grep -q np-extract"
done
check_exit "extract: truncated archive" 1 np apply "$T/h.yaml"
check_grep "extract: refusal says why" "truncated or corrupt" "$T/.out"
printf 'recipe: x\nsteps:\n  - extract: { src: /opt/symlink.tar, dest: /opt/out-s }\n' > "$T/h.yaml"
check_exit "extract: symlink escape" 1 np apply "$T/h.yaml"
check_grep "extract: refusal names the entry" "symlink 'esc' -> '../../../../tmp' points outside" "$T/.out"
printf 'recipe: x\nsteps:\n  - extract: { src: /opt/symlink.tar, dest: /opt/out-s, allow_outside_symlinks: true }\n' > "$T/h.yaml"
check_exit "extract: an allowed outside symlink is never written through" 1 np apply "$T/h.yaml"
check_grep "extract: says so" "symlink" "$T/.out"
check "extract: nothing escaped" bash -c "! ls /tmp/np-evil-* $R/np-evil* 2>/dev/null"

# build
mkdir -p "$R/opt/proj" && echo 1 > "$R/opt/proj/input.txt"
cat > "$T/build.yaml" <<YAML
recipe: b
steps:
  - name: build proj
    build:
      dir: /opt/proj
      commands: ["cat input.txt > out.txt", "echo built >> $T/builds.log"]
      outputs: [out.txt]
YAML
check "build: first apply builds" np apply "$T/build.yaml"
check "build: second apply skips" np apply "$T/build.yaml"
check_grep "build: converged" '1 ok, 0 changed' "$T/.out"
check "build: ran exactly once" test "$(wc -l < "$T/builds.log")" = 1
sleep 0.01; echo 2 > "$R/opt/proj/input.txt"
check "build: a changed input rebuilds" np apply "$T/build.yaml"
check "build: ran twice now" test "$(wc -l < "$T/builds.log")" = 2
printf 'recipe: b\nsteps:\n  - name: bad build\n    build:\n      dir: /opt/proj\n      commands: ["for i in $(seq 100); do echo line$i; done; exit 3"]\n      outputs: [nothing]\n' > "$T/badbuild.yaml"
check_exit "build: failure fails the step" 1 np apply "$T/badbuild.yaml"
check_grep "build: shows the last lines" "line100" "$T/.out"
check "build: ...but not the first ones" bash -c "! grep -q 'line50$' $T/.out"

# git
G=$T/git; mkdir -p "$G"
git() { command git -c user.name=t -c user.email=t@t -c protocol.file.allow=always -c init.defaultBranch=main "$@"; }
(cd "$G" && git init -q sub && cd sub && echo sub > s.txt && git add . && git commit -qm s) >/dev/null
(cd "$G" && git init -q work && cd work && echo one > f.txt && git add . && git commit -qm one && git tag v1 \
    && git submodule add -q "file://$G/sub" sub && git commit -qm sub && git tag v2 \
    && git checkout -qb dev && echo dev > f.txt && git commit -qam dev && git checkout -q main) >/dev/null 2>&1
git clone -q --bare "$G/work" "$G/repo.git" 2>/dev/null
v1=$(git -C "$G/repo.git" rev-parse v1)
gitrec() { printf 'recipe: g\nsteps:\n  - git:\n      repo: "file://%s/repo.git"\n      dest: /opt/src\n' "$G" > "$T/g.yaml"; }
gitrec; printf '      ref: v1\n' >> "$T/g.yaml"
check "git: clone at a tag" np apply "$T/g.yaml"
check "git: HEAD is the tag" test "$(git -C "$R/opt/src" rev-parse HEAD)" = "$v1"
check "git: re-apply at the same commit changes nothing" np apply "$T/g.yaml"
check_grep "git: converged" '1 ok, 0 changed' "$T/.out"
gitrec; printf '      ref: dev\n' >> "$T/g.yaml"
check "git: move to a branch" np apply "$T/g.yaml"
check "git: branch content" grep -q dev "$R/opt/src/f.txt"
(cd "$G/work" && git checkout -q dev && echo dev2 > f.txt && git commit -qam dev2 && git push -q "$G/repo.git" dev) >/dev/null 2>&1
check "git: a moved branch is followed" np apply "$T/g.yaml"
check "git: new branch tip checked out" grep -q dev2 "$R/opt/src/f.txt"
gitrec; printf '      ref: v2\n      submodules: true\n' >> "$T/g.yaml"
check "git: submodules initialised" bash -c "$NP apply --root $R --state-dir $S $T/g.yaml && grep -q sub $R/opt/src/sub/s.txt"
gitrec; printf '      commit: "%s"\n' "$(printf 'a%.0s' $(seq 40))" >> "$T/g.yaml"
check_exit "git: a pinned commit that is not there fails" 1 np apply "$T/g.yaml"
gitrec; printf '      ref: no-such-ref\n' >> "$T/g.yaml"
sed -i 's|/opt/src|/opt/src2|' "$T/g.yaml"
check_exit "git: unknown ref fails" 1 np apply "$T/g.yaml"
check "git: failed clone leaves nothing" bash -c "[ ! -e $R/opt/src2 ] && [ ! -e $R/opt/src2.np-clone ]"

# git over ssh:// to a real sshd on loopback, with known_hosts checking
. tests/helpers/sshd.sh
start_sshd "$T/sshd"
trap 'stop_sshd; kill $srv $tls 2>/dev/null; rm -rf "$T"' EXIT
sshrec() { printf 'recipe: g\nsteps:\n  - git:\n      repo: "ssh://root@127.0.0.1:%s%s/repo.git"\n      dest: /opt/ssh-src\n      ref: v1\n      ssh_key: %s\n      known_hosts: %s\n' \
    "$SSHD_PORT" "$G" "$SSH_KEY" "$1" > "$T/gs.yaml"; }
sshrec "$KNOWN_HOSTS"
check "git: clone over ssh:// from a real sshd" np apply "$T/gs.yaml"
check "git: ssh clone at the tag" test "$(git -C "$R/opt/ssh-src" rev-parse HEAD)" = "$v1"
check "git: ssh re-apply changes nothing" np apply "$T/gs.yaml"
check_grep "git: ssh converged" '1 ok, 0 changed' "$T/.out"
: > "$T/empty_known_hosts"
sshrec "$T/empty_known_hosts"; sed -i 's|/opt/ssh-src|/opt/ssh-src2|' "$T/gs.yaml"
check_exit "git: an unknown ssh host key is refused" 1 np apply "$T/gs.yaml"
check_grep "git: says the key is not known" "is not in .*empty_known_hosts" "$T/.out"
ssh-keygen -q -t ed25519 -N '' -f "$T/other_key" <<< y >/dev/null
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/other_key.pub")" > "$T/wrong_known_hosts"
sshrec "$T/wrong_known_hosts"; sed -i 's|/opt/ssh-src|/opt/ssh-src3|' "$T/gs.yaml"
check_exit "git: a changed ssh host key is refused" 1 np apply "$T/gs.yaml"
check_grep "git: says the key does not match" "does NOT match" "$T/.out"
check "git: refused clones leave nothing" bash -c "[ ! -e $R/opt/ssh-src2 ] && [ ! -e $R/opt/ssh-src3 ]"
