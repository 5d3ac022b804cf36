/* signals.c - stop requests from the outside (see signals.h). */
#include "signals.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Written only by the handler, read by signals_pending(). */
static volatile sig_atomic_t received;

static void on_signal(int sig)
{
    if (!received) {
        received = sig;
        return;
    }
    /* a second Ctrl-C: the user will not wait for the step to end */
    if (sig == SIGINT && received == SIGINT) {
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    const int stops[] = {SIGINT, SIGHUP, SIGTERM, SIGUSR1};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) sigaction(stops[i], &sa, NULL);
    /* a closed stdout (`| head`) makes writes fail with EPIPE instead */
    signal(SIGPIPE, SIG_IGN);
}

int signals_pending(void)
{
    return (int)received;
}

const char *signals_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT (Ctrl-C)";
    case SIGHUP: return "SIGHUP (terminal closed)";
    case SIGTERM:
        /* mpirun turns its own SIGINT, SIGHUP and SIGTERM into a SIGTERM to the ranks */
        return getenv("OMPI_COMM_WORLD_SIZE") ? "SIGTERM (from mpirun: Ctrl-C, kill or scancel)"
                                              : "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return "a signal";
    }
}
