/* signals.h - stop requests from the outside: SIGTERM and SIGUSR1.
 *
 * A batch system (SLURM's --signal, scancel, mpirun forwarding a TERM) asks
 * the job to end. The handler only records the signal; the training loop
 * polls signals_pending() at step boundaries, the ranks agree on it, rank 0
 * writes last.h5 and every rank exits with EXIT_SIGNAL, so `--resume auto`
 * continues exactly.
 *
 * The recorded signal is the one piece of process-wide mutable state in
 * rnn_dist: a signal handler can reach nothing else.
 */
#ifndef RNN_SIGNALS_H
#define RNN_SIGNALS_H

/* Install the handlers for SIGTERM and SIGUSR1 (idempotent). */
void signals_install(void);

/* The number of the first stop signal received since signals_install, or 0. */
int signals_pending(void);

/* "SIGTERM", "SIGUSR1" or "signal N" for a signal number. */
const char *signals_name(int sig);

#endif
