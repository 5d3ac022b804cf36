/* fault.h - fault injection for tests, off unless the environment asks.
 *
 * RNN_DIST_FAULT=NAME[@RANK] turns on the fault NAME on rank RANK (every rank
 * when @RANK is absent). Faults exist only to prove that rnn_dist detects
 * what they break; nothing is injected in a normal run.
 *   drift   after the first epoch, nudge one parameter by one ulp on that
 *           rank, so the replicas differ (tests the cross-rank checksum)
 *   nan     that rank's loss is NaN at optimizer steps 3 and 7 (tests that
 *           every rank agrees on a non-finite step: --on-nan)
 *   stall   that rank sleeps for an hour before step 5 (tests the
 *           --comm-timeout watchdog of the other ranks)
 *   probe_crash, probe_hang  the child process that checks an HDF5 file
 *           before it is opened (h5io_probe) crashes / hangs, as HDF5 does
 *           on some hostile files
 */
#ifndef RNN_FAULT_H
#define RNN_FAULT_H

/* 1 when RNN_DIST_FAULT names fault `name` for this rank, else 0. */
int fault_active(const char *name, int rank);

#endif
