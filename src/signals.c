/* signals.c - stop requests from SIGTERM and SIGUSR1 (see signals.h). */
#include "signals.h"

#include <signal.h>
#include <string.h>

/* Written only by the handler, read by signals_pending(). */
static volatile sig_atomic_t received;

static void on_signal(int sig)
{
    if (!received) received = sig;
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int signals_pending(void)
{
    return (int)received;
}

const char *signals_name(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return "a signal";
    }
}
