# Source me: start_sshd DIR starts a real OpenSSH server on 127.0.0.1 with
# its own host key, config and authorized key under DIR, as root, on a free
# port. Sets SSHD_PORT, SSHD_PID, SSH_KEY (client private key) and
# KNOWN_HOSTS (a known_hosts file with the server's key). stop_sshd ends it.
# SSHD_WRAP, when set, is a command prefix sshd is started through (e.g.
# unshare, to give the "node" its own mount namespace). SSHD_PASSWORD_AUTH=yes
# turns password authentication on. SSHD_LOGLEVEL=VERBOSE logs every session
# channel ("Starting session: ...") so a test can count them. SSHD_ADDRESS
# listens on another loopback address (127.0.0.x) than 127.0.0.1.
start_sshd() {
    local d=$1
    mkdir -p "$d" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" <<< y >/dev/null
    ssh-keygen -q -t ed25519 -N '' -f "$d/client_key" <<< y >/dev/null
    cp "$d/client_key.pub" "$d/authorized_keys"
    local addr=${SSHD_ADDRESS:-127.0.0.1}
    SSHD_PORT=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$addr")
    cat > "$d/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress $addr
LogLevel ${SSHD_LOGLEVEL:-INFO}
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
    echo "[$addr]:$SSHD_PORT $(cut -d' ' -f1,2 "$d/host_key.pub")" > "$KNOWN_HOSTS"
}
stop_sshd() { [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null; SSHD_PID=; }

# two_host_inventory FILE: after start_sshd "$T/s1" (P1, KEY, KH set), a
# second sshd on 127.0.0.2 (SSHD2, P2) taking the same client key, known
# hosts for both in $T/kh2, and FILE an inventory of hosts one
# (127.0.0.1:$P1) and two (127.0.0.2:$P2)
two_host_inventory() {
    SSHD_ADDRESS=127.0.0.2 start_sshd "$T/s2"; SSHD2=$SSHD_PID; P2=$SSHD_PORT
    cp "$T/s1/client_key.pub" "$T/s2/authorized_keys"; cat "$KH" "$KNOWN_HOSTS" > "$T/kh2"
    cat > "$1" <<YAML
hosts:
  - { name: one, address: 127.0.0.1, port: $P1, key: $KEY }
  - { name: two, address: 127.0.0.2, port: $P2, key: $KEY }
YAML
}

# login_user NAME: a throwaway local user who can log in by key only ('*':
# no password, not locked), with /bin/sh; the caller's trap removes it
login_user() { useradd -M -d /tmp -s /bin/sh "$1" && usermod -p '*' "$1"; }
# grant_sudo NAME: NAME may run anything as root without a password (as on
# a Vagrant box); the caller's trap removes /etc/sudoers.d/NAME
grant_sudo() { echo "$1 ALL=(root) NOPASSWD: ALL" > "/etc/sudoers.d/$1" && chmod 0440 "/etc/sudoers.d/$1"; }
