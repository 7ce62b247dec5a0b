/* loopsrv.c - a tiny TCP server on 127.0.0.1 for the tests' fake servers
 *
 * Plain POSIX sockets, one accept thread woken by a pipe, and one
 * detached thread per connection: simple enough to trust in a test, and
 * fast enough for the benchmark's fake server. The connection list exists
 * only so that es_loopsrv_free() can shut every socket down and wait for
 * the threads; the protocol lives in the callback.
 */
#include "loopsrv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "earshot/alloc.h"

/* One open connection, in the server's list while its thread runs. */
struct es_loopsrv_conn {
    struct es_loopsrv *srv;
    int fd; /* -1 once reset */
    struct es_loopsrv_conn *next;
};

struct es_loopsrv {
    int listen_fd;
    int port;
    int wake[2]; /* written to stop the accept thread */
    pthread_t accept_thread;
    es_loopsrv_conn_cb cb;
    void *payload;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* stopping set, or a connection ended */
    int stopping;
    struct es_loopsrv_conn *conns; /* live connections */
    size_t nconns;
    size_t accepted;
};

static void *conn_main(void *arg)
{
    struct es_loopsrv_conn *c = arg;
    struct es_loopsrv *srv = c->srv;

    srv->cb(c, c->fd, srv->payload);

    pthread_mutex_lock(&srv->lock);
    for (struct es_loopsrv_conn **pp = &srv->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    srv->nconns--;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct es_loopsrv *srv = arg;
    pthread_attr_t attr;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = srv->listen_fd, .events = POLLIN },
            { .fd = srv->wake[0], .events = POLLIN },
        };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        if (!(pfd[0].revents & POLLIN))
            continue;
        int fd = accept(srv->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        struct es_loopsrv_conn *c = es_xcalloc(1, sizeof(*c));
        c->srv = srv;
        c->fd = fd;
        pthread_mutex_lock(&srv->lock);
        if (srv->stopping) {
            pthread_mutex_unlock(&srv->lock);
            close(fd);
            free(c);
            break;
        }
        c->next = srv->conns;
        srv->conns = c;
        srv->nconns++;
        srv->accepted++;
        pthread_t tid;
        if (pthread_create(&tid, &attr, conn_main, c) != 0) {
            srv->conns = c->next;
            srv->nconns--;
            close(fd);
            free(c);
        }
        pthread_mutex_unlock(&srv->lock);
    }
    pthread_attr_destroy(&attr);
    return NULL;
}

int es_loopsrv_open(struct es_loopsrv **out, int port, int backlog,
                    es_loopsrv_conn_cb cb, void *payload)
{
    struct es_loopsrv *srv = es_xcalloc(1, sizeof(*srv));
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t salen = sizeof(sa);
    int one = 1;
    int err;

    *out = NULL;
    srv->listen_fd = -1;
    srv->wake[0] = srv->wake[1] = -1;
    srv->cb = cb;
    srv->payload = payload;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->cond, NULL);

    srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv->listen_fd < 0)
        goto fail;
    setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(srv->listen_fd, backlog) != 0 ||
        getsockname(srv->listen_fd, (struct sockaddr *)&sa, &salen) != 0)
        goto fail;
    srv->port = ntohs(sa.sin_port);
    if (pipe(srv->wake) != 0)
        goto fail;
    if (pthread_create(&srv->accept_thread, NULL, accept_main, srv) != 0)
        goto fail;
    *out = srv;
    return 0;

fail:
    /* The caller reports errno: keep it past the clean-up. */
    err = errno;
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->wake[0] >= 0) {
        close(srv->wake[0]);
        close(srv->wake[1]);
    }
    pthread_cond_destroy(&srv->cond);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    errno = err;
    return -1;
}

void es_loopsrv_free(struct es_loopsrv *srv)
{
    if (!srv)
        return;

    pthread_mutex_lock(&srv->lock);
    srv->stopping = 1;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    while (write(srv->wake[1], "x", 1) < 0 && errno == EINTR)
        ;
    pthread_join(srv->accept_thread, NULL);

    /* Wake every connection thread out of recv() and wait for them. */
    pthread_mutex_lock(&srv->lock);
    for (struct es_loopsrv_conn *c = srv->conns; c; c = c->next)
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR);
    while (srv->nconns > 0)
        pthread_cond_wait(&srv->cond, &srv->lock);
    pthread_mutex_unlock(&srv->lock);

    close(srv->listen_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    pthread_cond_destroy(&srv->cond);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

int es_loopsrv_port(const struct es_loopsrv *srv)
{
    return srv->port;
}

size_t es_loopsrv_accepted(struct es_loopsrv *srv)
{
    pthread_mutex_lock(&srv->lock);
    size_t n = srv->accepted;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

void es_loopsrv_nap(struct es_loopsrv *srv, unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping)
        if (pthread_cond_timedwait(&srv->cond, &srv->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&srv->lock);
}

int es_loopsrv_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void es_loopsrv_conn_reset(struct es_loopsrv_conn *conn)
{
    struct es_loopsrv *srv = conn->srv;
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    /* Under the lock: es_loopsrv_free() must not shut down a number the
     * kernel may already have handed to another socket. */
    pthread_mutex_lock(&srv->lock);
    close(conn->fd);
    conn->fd = -1;
    pthread_mutex_unlock(&srv->lock);
}
