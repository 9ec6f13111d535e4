/*
 * known_hosts.h: OpenSSH known_hosts checking through libssh2's knownhost
 * API, shared by the git step (libgit2's certificate callback) and the
 * SSH host. A key that is unknown and a key that changed are different
 * answers: the first may be accepted when the user asks, the second never.
 */
#ifndef NP_KNOWN_HOSTS_H
#define NP_KNOWN_HOSTS_H

#include <stddef.h>

enum kh_keytype { KH_RSA, KH_DSS, KH_ECDSA256, KH_ECDSA384, KH_ECDSA521, KH_ED25519, KH_UNKNOWN };

/**
 * Check a raw host key. file NULL: ~/.ssh/known_hosts. Returns 0 when it
 * matches, NP_ENOTFOUND when the host is not listed (or the file is
 * missing), NP_EVERIFY when the host is listed with a different key.
 */
int known_hosts_check(const char *file, const char *host, int port, const void *key,
		      size_t keylen, enum kh_keytype type);
/** Append host's key to file (creating it 0600): --accept-new-host-key. */
int known_hosts_add(const char *file, const char *host, int port, const void *key, size_t keylen,
		    enum kh_keytype type);

#endif
