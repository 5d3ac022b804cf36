/* selftest.h - `rnn_dist selftest`: the single-node test mode.
 *
 * Checks this installation on this machine, alone or under mpirun:
 *   - finite-difference gradient checks of every cell (the combinations of
 *     src/gradcheck.h, shared out over the ranks), and a corrupted gradient
 *     that the checker must catch;
 *   - all-reduce (blocking float and double sums, the non-blocking bucketed
 *     sums of training, the integer maximum) against closed-form sums;
 *   - broadcast of a model's parameters from rank 0, bit for bit;
 *   - the parameter checksum: equal on every replica, and a replica nudged by
 *     one step of a float is told apart;
 *   - a tiny training run of the built-in counting task that must converge
 *     (in a temporary run directory, removed when it passes).
 * Rank 0 prints one row per check: name, pass/FAIL, seconds, detail.
 */
#ifndef RNN_SELFTEST_H
#define RNN_SELFTEST_H

#include <stdio.h>

#include "check.h"
#include "dist.h"

/* Run every check on every rank (collective) and print the table to out on
 * rank 0. Returns 0 when all pass, else EXIT_FAIL with e saying how many
 * checks failed. */
int selftest_run(FILE *out, const Dist *d, Error *e);

#endif
