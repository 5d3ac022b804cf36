/* signals.h - stop requests from the outside: SIGINT (Ctrl-C), SIGHUP (the
 * terminal closed), SIGTERM and SIGUSR1 (a batch system: SLURM's --signal,
 * scancel, mpirun forwarding a kill or a Ctrl-C).
 *
 * The handler only records the signal; the training loop polls
 * signals_pending() at step boundaries, the ranks agree on it, rank 0 writes
 * last.h5 and every rank exits with EXIT_SIGNAL, so `--resume auto`
 * continues exactly. A second SIGINT while the first is pending ends the
 * process at once (the checkpoints already written stay intact). SIGPIPE is
 * ignored: a closed stdout stops the output, never the run.
 *
 * The recorded signal is the one piece of process-wide mutable state in
 * rnn_dist: a signal handler can reach nothing else.
 */
#ifndef RNN_SIGNALS_H
#define RNN_SIGNALS_H

/* Install the handlers for SIGINT, SIGHUP, SIGTERM and SIGUSR1 and ignore
 * SIGPIPE (idempotent). */
void signals_install(void);

/* The number of the first stop signal received since signals_install, or 0. */
int signals_pending(void);

/* "SIGINT (Ctrl-C)", "SIGTERM", ... for a signal number ("SIGTERM (from
 * mpirun: ...)" under mpirun, which passes a Ctrl-C on as SIGTERM); "a
 * signal" for others. */
const char *signals_name(int sig);

#endif
