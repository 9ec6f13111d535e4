/*
 * mux.h: nodeprep's ControlPersist. With --persist SECONDS a run does not
 * open its own SSH connection: a background `nodeprep ssh-master serve`
 * holds one (host_ssh.c) and answers the host ops (host.h) over a unix
 * socket, and later runs with the same connection parameters reuse it: no
 * TCP connect, no key exchange, no new session channel. The client side is
 * the host backend in host_mux.c; the master is ssh_master.c.
 *
 * The wire (mux_wire.c): a message is a 4-byte big-endian length, that
 * many bytes of a JSON header, then the raw blobs whose lengths the header
 * lists in "blobs" (file contents, command input and output; never
 * base64). Up to two descriptors ride with a message's first byte
 * (SCM_RIGHTS): a command that streams its output to a file writes into
 * the client's own descriptor, from the master.
 *
 * Where (mux_path.c): one socket per set of connection parameters in a
 * private directory, $XDG_RUNTIME_DIR/nodeprep-ssh or
 * /tmp/nodeprep-ssh-UID, checked as OpenSSH checks its ControlPath: a real
 * directory (no link), owned by us, no access for group or others.
 */
#ifndef NP_MUX_H
#define NP_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <jansson.h>

#include "buf.h"

struct host;
struct ssh_opts;

/* bumped when a message changes meaning; a master of another version is refused */
#define MUX_VERSION 1
#define MUX_MAX_BLOBS 4
#define MUX_MAX_FDS 2

/** One blob to send (borrowed). */
struct mux_blob {
	const void *ptr;
	size_t len;
};

/** A received message: the header, its blobs and the descriptors it carried (owned). */
struct mux_msg {
	json_t *hdr;
	struct buf blob[MUX_MAX_BLOBS];
	size_t nblobs;
	int fd[MUX_MAX_FDS];
	size_t nfds;
};

/**
 * Send hdr (its "blobs" member is set here) and blobs; fds (may be NULL)
 * go with the first byte. 0, or NP_ERROR with the reason (the peer went
 * away: EPIPE, never SIGPIPE).
 */
int mux_send(int sock, json_t *hdr, const struct mux_blob *blobs, size_t nblobs, const int *fds,
	     size_t nfds);
/**
 * Receive one message into *m (release with mux_msg_release). 0; NP_ENOTFOUND
 * when the peer closed before a message began; NP_ERROR otherwise. Waits as
 * long as it takes (signals with SA_RESTART resume it).
 */
int mux_recv(int sock, struct mux_msg *m);
/** Free the header and blobs, close descriptors not taken (set to -1 to take one). */
void mux_msg_release(struct mux_msg *m);

struct host_stat;
/** A host_stat as the wire carries it, and back. */
json_t *mux_stat_json(const struct host_stat *st);
void mux_json_stat(struct host_stat *st, const json_t *j);
/** A NULL-terminated string array as JSON (null for NULL), and back (NULL-terminated, free with mux_strv_free). */
json_t *mux_strv_json(const char *const *v);
char **mux_json_strv(const json_t *j);
void mux_strv_free(char **v);

/**
 * The control directory (made 0700 when missing, checked otherwise), and
 * in it the socket and lock paths for o: a hash of every parameter that
 * decides what a connection is (user, address, port, key, known_hosts,
 * accept-new, become, remote root). Paths appended to sock and lock.
 */
int mux_paths(struct buf *sock, struct buf *lock, const struct ssh_opts *o);

/**
 * Take the lock at path (flock, exclusive, waiting): *fd holds it until
 * closed. A master that exits removes the lock file while it holds it, so
 * a lock taken on a file no longer at path is dropped and taken again on
 * the new one: the file is never left behind, and never held twice.
 */
int mux_lock(const char *path, int *fd);

/** Whether path is (still) the file st was taken of: same device and inode. */
bool mux_path_is(const char *path, const struct stat *st);

/**
 * A remote host reached through the master for o, started (and kept for
 * persist_s seconds after its last client) when none runs. Connection
 * errors of a new master come back with the message a direct connection
 * gives. Errors name the host.
 */
int host_mux_open(struct host **out, const struct ssh_opts *o, int persist_s);

/** The master's answer to hello, for `ssh-master check`: pid and idle seconds. */
struct mux_status {
	long pid;
	int persist_s;
	unsigned clients;  /* sessions served so far */
	long age_s;        /* since the connection was made */
};
/**
 * Talk to a running master without starting one: query (exit false) or
 * stop it (exit true). NP_ENOTFOUND when none runs for o.
 */
int mux_control(struct mux_status *out, const struct ssh_opts *o, bool exit_it);

/**
 * Serve as the master for o (`nodeprep ssh-master serve`): connect, then
 * report on status_fd ("ok" or "error CODE MESSAGE") and close it, and
 * answer clients until persist_s seconds pass with none, the connection
 * dies, an exit request or SIGTERM/SIGINT/SIGHUP. Returns the exit code.
 */
int ssh_master_serve(const struct ssh_opts *o, int persist_s, int status_fd);

#endif
