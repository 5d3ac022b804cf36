#!/bin/sh
# End-to-end checks of where training rows come from (datahold.h): held in
# memory when they fit half the room under the memory limit, else read ahead
# a window at a time in sorted reads; results must not depend on it.
#   - by default a small file is held whole (and its validation rows): the
#     run's "data:" line says so (and, run alone on 2 CPUs or more, that a
#     helper thread gathers the batches), and the closing "data: N% of
#     training time" line is there;
#   - with --max-memory just above the run's estimate the same run reads
#     8 MiB windows (12 MB of rows: two a pass), validation rows as needed,
#     and ends with exactly the weights and losses of the held run, whether
#     a helper thread reads the windows (run alone on 2 CPUs or more) or
#     the trainer does (one rank bound to a core); on 2
#     ranks each epoch's share is read in one sorted pass, again exactly as
#     held on 2 ranks; 2 unbound ranks (helpers only with 2 CPUs a rank) and
#     a bound rank gathering its own batches end exactly as the others;
#   - a windowed run stopped mid-epoch (--max-steps) and resumed held ends
#     bit for bit as the straight run, and a held one resumed windowed;
#   - token inputs with padded rows (lookahead): held and windowed agree.
# Usage: RNN_DIST=build/rnn_dist tests/run_datapath.sh
set -u
# shellcheck shell=sh source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
params() { h5dump -g /params "$1" | grep -v '^HDF5'; }
# same_run A B WHAT: the two run dirs have the same weights and the same
# per-epoch losses (metrics.csv without its timing columns)
same_run() {
  if [ "$(params "$1/last.h5")" = "$(params "$2/last.h5")" ] \
    && [ "$(cut -d, -f1-8 "$1/metrics.csv")" = "$(cut -d, -f1-8 "$2/metrics.csv")" ]; then
    ok
  else
    bad "$3: weights or losses differ"
  fi
}
# estimate NP ARGS...: the run's memory estimate in bytes on NP ranks (from
# the refusal of --max-memory 1)
estimate() {
  np=$1
  shift
  mpirun --oversubscribe -np "$np" "$BIN" train "$@" --run-dir "$W/never" --max-memory 1 \
    2>&1 >/dev/null | sed -n 's/.*needs about \([0-9.]*\) \([KMG]*i*B\) per rank.*/\1 \2/p' \
    | head -1 | awk '{ m = $2 == "KiB" ? 1024 : $2 == "MiB" ? 1048576 : $2 == "GiB" ? 1073741824 : 1
                       printf "%.0f\n", $1 * m }'
}

"$BIN" datagen adding --out "$W/add.h5" --n 30000 >/dev/null 2>&1 || bad "datagen adding failed"
A="--data $W/add.h5 --cell gru --hidden 6 --epochs 2 --batch-size 64 --seed 5"

# held (the default on any machine with 100 MB free)
# shellcheck disable=SC2086
if expect_exit "held" 0 "$BIN" train $A --run-dir "$W/held"; then
  grep -q '^data: training rows held in memory (11.6 MiB a rank); validation rows held' "$W/out" && ok \
    || bad "held: no 'data: training rows held in memory' line: $(grep '^data' "$W/out")"
  grep -Eq '^data: [0-9.]+% of training time reading and batching rows' "$W/out" && ok \
    || bad "held: no closing data share line"
  # run alone, the process is bound to no core: a helper thread gathers the batches
  if [ "$(nproc)" -ge 2 ]; then
    grep -q '^data: training rows held .*; batches gathered ahead by a helper thread$' "$W/out" \
      && ok || bad "held, alone on $(nproc) CPUs: no helper thread: $(grep '^data' "$W/out")"
  fi
fi

# windows: the limit 2 MiB above the estimate leaves a 1 MiB budget
# shellcheck disable=SC2086
est=$(estimate 1 $A)
[ -n "$est" ] && ok || bad "no memory estimate in the refusal of --max-memory 1"
# shellcheck disable=SC2086
if expect_exit "windows" 0 "$BIN" train $A --run-dir "$W/win" --max-memory $((est + 2097152)); then
  grep -q '^data: training rows read 8 MiB at a time, each read sorted (of 11.6 MiB' "$W/out" \
    && grep -q 'validation rows read as needed' "$W/out" && ok \
    || bad "windows: not read 8 MiB at a time: $(grep '^data' "$W/out")"
  if [ "$(nproc)" -ge 2 ]; then
    grep -q '^data: training rows read .*; rows read and batches gathered ahead by a helper thread$' \
      "$W/out" && ok || bad "windows, alone on $(nproc) CPUs: no helper: $(grep '^data' "$W/out")"
  fi
  same_run "$W/held" "$W/win" "held vs windows"
fi
# shellcheck disable=SC2086
if expect_exit "windows, bound rank" 0 mpirun -np 1 "$BIN" train $A --run-dir "$W/winb" \
    --max-memory $((est + 2097152)); then
  grep -q '^data: training rows read 8 MiB at a time' "$W/out" && ! grep -q 'helper' "$W/out" \
    && ok || bad "windows, bound rank: $(grep '^data' "$W/out")"
  same_run "$W/held" "$W/winb" "held vs windows read by a bound rank"
fi

# 2 ranks: the epoch's share (6 MB) in one pass, as held on 2 ranks
# shellcheck disable=SC2086
est2=$(estimate 2 $A)
# shellcheck disable=SC2086
if expect_exit "2 ranks held" 0 mpirun --oversubscribe -np 2 "$BIN" train $A --run-dir "$W/held2"; then
  # each rank bound to a core (mpirun's default for 2): it gathers its own batches
  grep -q 'helper thread' "$W/out" && bad "2 bound ranks used a helper thread" || ok
fi
# shellcheck disable=SC2086
if expect_exit "2 ranks, a pass at a time" 0 mpirun --oversubscribe -np 2 "$BIN" train $A \
    --run-dir "$W/pass2" --max-memory $((est2 + 2097152)); then
  grep -q "^data: each epoch's training rows read in one sorted pass" "$W/out" && ok \
    || bad "2 ranks: not one pass an epoch: $(grep '^data' "$W/out")"
  same_run "$W/held2" "$W/pass2" "2 ranks held vs one pass an epoch"
fi
# a helper only with two CPUs for each rank of the host: 2 unbound ranks
# here, with or without, end exactly as 2 bound ones
# shellcheck disable=SC2086
if expect_exit "2 unbound ranks held" 0 mpirun --oversubscribe --bind-to none -np 2 "$BIN" train \
    $A --run-dir "$W/feed2"; then
  if [ "$(nproc)" -ge 4 ]; then
    grep -q 'batches gathered ahead by a helper thread' "$W/out" && ok \
      || bad "2 unbound ranks on $(nproc) CPUs: no helper thread: $(grep '^data' "$W/out")"
  else
    grep -q 'helper thread' "$W/out" && bad "2 unbound ranks on $(nproc) CPUs used helpers" || ok
  fi
  same_run "$W/held2" "$W/feed2" "2 ranks held, unbound vs bound"
fi
# one rank bound to a core gathers its own batches (prefetching the next
# step's rows): the same run as alone with a helper
# shellcheck disable=SC2086
if expect_exit "1 bound rank held" 0 mpirun -np 1 "$BIN" train $A --run-dir "$W/bound1"; then
  grep -q 'helper thread' "$W/out" && bad "a bound rank used a helper thread" || ok
  same_run "$W/held" "$W/bound1" "held: helper thread (alone) vs none (bound)"
fi
# and reading windows itself (prefetching where the rows of the step after
# next are held, too)
# shellcheck disable=SC2086
if expect_exit "1 bound rank, windows" 0 mpirun -np 1 "$BIN" train $A --run-dir "$W/bound1w" \
    --max-memory $((est + 2097152)); then
  grep -q '^data: training rows read 8 MiB at a time' "$W/out" \
    && ! grep -q 'helper thread' "$W/out" && ok \
    || bad "1 bound rank, windows: $(grep '^data' "$W/out")"
  same_run "$W/held" "$W/bound1w" "held with a helper vs windows read by a bound rank"
fi

# a windowed run stopped mid-epoch, resumed held == straight
# shellcheck disable=SC2086
if expect_exit "windows, max-steps" 0 "$BIN" train $A --run-dir "$W/split" \
    --max-memory $((est + 2097152)) --max-steps 700 \
  && expect_exit "resumed held" 0 "$BIN" train --run-dir "$W/split" --resume auto --max-steps 0 \
    --max-memory 0; then
  same_run "$W/held" "$W/split" "windows stopped at step 700, resumed held"
fi
# and the other way: held, resumed windowed (its first window, read at
# start, is the resumed step's)
# shellcheck disable=SC2086
if expect_exit "held, max-steps" 0 "$BIN" train $A --run-dir "$W/split2" --max-steps 700 \
  && expect_exit "resumed windowed" 0 "$BIN" train --run-dir "$W/split2" --resume auto \
    --max-steps 0 --max-memory $((est + 2097152)); then
  grep -q '^data: training rows read 8 MiB at a time' "$W/out" && ok \
    || bad "resumed windowed: not read 8 MiB at a time: $(grep '^data' "$W/out")"
  same_run "$W/held" "$W/split2" "held stopped at step 700, resumed windowed"
fi

# tokens, padded rows (the padding holds tokens): held vs windows of one step
"$BIN" datagen lookahead --out "$W/la.h5" --n 3000 >/dev/null 2>&1 || bad "datagen lookahead failed"
L="--data $W/la.h5 --cell lstm --hidden 8 --epochs 2 --batch-size 16 --seed 6"
# shellcheck disable=SC2086
estl=$(estimate 1 $L)
# shellcheck disable=SC2086
if expect_exit "tokens held" 0 "$BIN" train $L --run-dir "$W/lh" \
  && expect_exit "tokens windows" 0 "$BIN" train $L --run-dir "$W/lw" --max-memory $((estl + 131072)); then
  grep -q '^data: training rows read 8 MiB at a time' "$W/out" \
    || grep -q "^data: each epoch's training rows read in one sorted pass" "$W/out" && ok \
    || bad "tokens: not streamed: $(grep '^data' "$W/out")"
  same_run "$W/lh" "$W/lw" "tokens held vs streamed"
fi

summary datapath
