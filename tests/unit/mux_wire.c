/* Unit tests for provision/mux_wire.c: the ssh-master's framing over a real socket pair. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "error.h"
#include "host.h"
#include "mux.h"
#include "suites.h"

struct sender {
	int sock, fd;
	json_t *hdr;
	const struct mux_blob *b;
	size_t nb;
	int r;
};

static void *sender__run(void *arg)
{
	struct sender *s = arg;
	s->r = mux_send(s->sock, s->hdr, s->b, s->nb, &s->fd, 1);
	return NULL;
}

START_TEST(test_mux_wire__round_trip)
{
	pthread_t t;
	int sv[2], p[2];
	struct mux_msg m;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(p), 0);
	/* binary blobs (NUL, empty), one bigger than a socket buffer, and a descriptor */
	static char big[300000];
	memset(big, 'x', sizeof(big));
	struct mux_blob b[3] = { { "a\0b", 3 }, { "", 0 }, { big, sizeof(big) } };
	json_t *h = json_pack("{s:s,s:i}", "op", "write", "mode", 0644);
	/* sent from a thread: a message larger than the socket's buffer must not block the test */
	struct sender snd = { sv[0], p[1], h, b, 3, -1 };
	ck_assert_int_eq(pthread_create(&t, NULL, sender__run, &snd), 0);
	ck_assert_int_eq(mux_recv(sv[1], &m), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(snd.r, 0);
	ck_assert_str_eq(json_string_value(json_object_get(m.hdr, "op")), "write");
	ck_assert_int_eq(json_integer_value(json_object_get(m.hdr, "mode")), 0644);
	ck_assert_uint_eq(m.nblobs, 3);
	ck_assert_uint_eq(m.blob[0].len, 3);
	ck_assert_int_eq(memcmp(m.blob[0].ptr, "a\0b", 3), 0);
	ck_assert_uint_eq(m.blob[1].len, 0);
	ck_assert_uint_eq(m.blob[2].len, sizeof(big));
	ck_assert_int_eq(memcmp(m.blob[2].ptr, big, sizeof(big)), 0);
	/* the descriptor that came is the pipe's write end: what goes in comes out of ours */
	ck_assert_uint_eq(m.nfds, 1);
	ck_assert_int_eq(write(m.fd[0], "hi", 2), 2);
	char got[3] = { 0 };
	ck_assert_int_eq(read(p[0], got, 2), 2);
	ck_assert_str_eq(got, "hi");
	mux_msg_release(&m);
	/* the peer closes between messages: NP_ENOTFOUND, not an error */
	close(sv[0]);
	ck_assert_int_eq(mux_recv(sv[1], &m), NP_ENOTFOUND);
	json_decref(h);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_mux_wire__truncated_and_bad)
{
	int sv[2];
	struct mux_msg m;
	/* a message cut in its header: an error, never a message */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], "\0\0\0\x10{\"op\"", 9), 9);
	close(sv[0]);
	ck_assert_int_eq(mux_recv(sv[1], &m), NP_ERROR);
	ck_assert_ptr_null(m.hdr);
	close(sv[1]);
	/* a header that is not ours: refused */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], "\0\0\0\x02{}", 6), 6);
	ck_assert_int_eq(mux_recv(sv[1], &m), NP_ERROR);
	ck_assert_ptr_nonnull(strstr(np_error_last(), "not a nodeprep peer"));
	/* a length no header has */
	ck_assert_int_eq(write(sv[0], "\x7f\0\0\0", 4), 4);
	ck_assert_int_eq(mux_recv(sv[1], &m), NP_ERROR);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_mux_wire__stat_and_strv)
{
	struct host_stat st = { true, false, true, 0640, 12, 34, 5000000000LL, 1700000000123456789LL }, back;
	json_t *j = mux_stat_json(&st);
	mux_json_stat(&back, j);
	ck_assert(back.exists && !back.is_dir && back.is_link);
	ck_assert_int_eq(back.mode, 0640);
	ck_assert_int_eq(back.uid, 12);
	ck_assert_int_eq(back.gid, 34);
	ck_assert_int_eq(back.size, 5000000000LL);
	ck_assert_int_eq(back.mtime_ns, 1700000000123456789LL);
	json_decref(j);
	const char *v[] = { "sh", "-c", "echo 'x y'", NULL };
	j = mux_strv_json(v);
	char **w = mux_json_strv(j);
	ck_assert_str_eq(w[2], "echo 'x y'");
	ck_assert_ptr_null(w[3]);
	mux_strv_free(w);
	json_decref(j);
	/* NULL (no env) stays NULL, not an empty list */
	j = mux_strv_json(NULL);
	ck_assert_ptr_null(mux_json_strv(j));
	json_decref(j);
}
END_TEST

Suite *suite_mux_wire(void)
{
	Suite *s = suite_create("mux_wire");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_mux_wire__round_trip);
	tcase_add_test(tc, test_mux_wire__truncated_and_bad);
	tcase_add_test(tc, test_mux_wire__stat_and_strv);
	suite_add_tcase(s, tc);
	return s;
}
