/* loopsrv.h - a tiny TCP server on 127.0.0.1 for the tests' fake servers
 *
 * The tests' protocol servers (testhttpd.c, smtpd.c) share one skeleton:
 * listen on a loopback port, accept on a thread of its own, give every
 * connection a detached thread, keep the live connections in a list so
 * that stopping can wake them out of recv(), and wait for them all before
 * freeing. This is that skeleton; a server supplies what it does with one
 * connection as a callback and keeps its own state (and lock) beside it.
 */
#ifndef EARSHOT_LOOPSRV_H
#define EARSHOT_LOOPSRV_H

#include <stddef.h>

struct es_loopsrv;
struct es_loopsrv_conn;

/* Serves one connection on its own thread: reads and writes @fd until it
 * is done or a read fails (es_loopsrv_free() shuts the socket down to
 * stop it). The server closes @fd when the callback returns, unless it
 * was reset with es_loopsrv_conn_reset(). */
typedef void (*es_loopsrv_conn_cb)(struct es_loopsrv_conn *conn, int fd,
                                   void *payload);

/* Listens on 127.0.0.1:@port (0 picks a free one) with room for @backlog
 * pending connections and starts accepting, calling @cb with @payload for
 * each connection. Returns 0, or -1 with errno set (the caller says what
 * failed). The caller frees the server with es_loopsrv_free(). */
int es_loopsrv_open(struct es_loopsrv **out, int port, int backlog,
                    es_loopsrv_conn_cb cb, void *payload);
/* Stops accepting, shuts down every live connection and waits until each
 * callback has returned; NULL is a no-op. Free the payload after it. */
void es_loopsrv_free(struct es_loopsrv *srv);

int es_loopsrv_port(const struct es_loopsrv *srv);
/* Number of TCP connections accepted so far. Thread-safe. */
size_t es_loopsrv_accepted(struct es_loopsrv *srv);
/* Sleeps @ms milliseconds, or less when the server is stopping.
 * Thread-safe. */
void es_loopsrv_nap(struct es_loopsrv *srv, unsigned ms);
/* Sends all of @len bytes at @buf on @fd, retrying short writes, without
 * SIGPIPE. Returns 0, or -1 when the peer went away. */
int es_loopsrv_send_all(int fd, const void *buf, size_t len);
/* Aborts the connection now with a TCP reset (SO_LINGER 0, close). Call
 * it only from the connection's own callback, and stop using its fd. */
void es_loopsrv_conn_reset(struct es_loopsrv_conn *conn);

#endif
