# Source me: start_sshd DIR starts a real OpenSSH server on 127.0.0.1 with
# its own host key, config and authorized key under DIR, as root, on a free
# port. Sets SSHD_PORT, SSHD_PID, SSH_KEY (client private key) and
# KNOWN_HOSTS (a known_hosts file with the server's key). stop_sshd ends it.
# SSHD_WRAP, when set, is a command prefix sshd is started through (e.g.
# unshare, to give the "node" its own mount namespace). SSHD_PASSWORD_AUTH=yes
# turns password authentication on.
start_sshd() {
    local d=$1
    mkdir -p "$d" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" <<< y >/dev/null
    ssh-keygen -q -t ed25519 -N '' -f "$d/client_key" <<< y >/dev/null
    cp "$d/client_key.pub" "$d/authorized_keys"
    SSHD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat > "$d/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication ${SSHD_PASSWORD_AUTH:-no}
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CFG
    ${SSHD_WRAP:-} /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
    for _ in $(seq 50); do [ -s "$d/sshd.pid" ] && break; sleep 0.1; done
    SSHD_PID=$(cat "$d/sshd.pid")
    SSH_KEY=$d/client_key
    KNOWN_HOSTS=$d/known_hosts
    echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$d/host_key.pub")" > "$KNOWN_HOSTS"
}
stop_sshd() { [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null; SSHD_PID=; }
