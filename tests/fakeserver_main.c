/* fakeserver_main.c - es-fakeserver: serve a folder over loopback HTTP
 *
 * The benchmarks compare earshot with curl and newsboat on the same
 * thousand feeds without touching the internet, so they need a server
 * that every client can hit: this wraps the test server around a folder
 * (ETag, Last-Modified, 304, keep-alive) and prints "port N" once it is
 * listening, so a script can start it with --port 0 and read the port.
 *
 *   es-fakeserver --root DIR [--port N]
 *
 * It runs until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testhttpd.h"

static int usage(void)
{
    fprintf(stderr, "usage: es-fakeserver --root DIR [--port N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *root = NULL;
    int port = 0;
    struct es_testhttpd *srv = NULL;
    struct stat st;
    sigset_t set;
    int sig = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 65535)
                return usage();
            port = (int)v;
        } else {
            return usage();
        }
    }
    if (!root)
        return usage();
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "error: cannot serve '%s': not a directory\n", root);
        return 1;
    }

    /* Block the signals before any thread starts, so that every thread
     * inherits the mask and only sigwait() below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (es_testhttpd_open(&srv, port) != 0)
        return 1;
    es_testhttpd_set_root(srv, root);
    es_testhttpd_set_logging(srv, 0);
    printf("port %d\n", es_testhttpd_port(srv));
    fflush(stdout);

    sigwait(&set, &sig);
    es_testhttpd_free(srv);
    return 0;
}
