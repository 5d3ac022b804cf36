# Shell functions shared by the data-parallel benches (bench_dist.sh,
# bench_cluster.sh); sourced, not run.

# bench_lstm_data FILE ROWS: a classification file of the LSTM bench shape
# (ROWS sequences of 50 steps x 64 features, standard normal, 10 classes),
# the same bits for the same ROWS
bench_lstm_data() {
  /usr/bin/python3 - "$1" "$2" <<'PYEOF'
import sys
import h5py
import numpy as np
rng = np.random.default_rng(0)
n, t, f = int(sys.argv[2]), 50, 64
with h5py.File(sys.argv[1], "w") as h:
    h["inputs"] = rng.standard_normal((n, t, f), dtype=np.float32)
    h["targets"] = rng.integers(0, 10, n, dtype=np.int32)
    h.attrs["num_classes"] = 10
PYEOF
}

# bench_ratio A B: per-round A/B over the rounds (files of "round value"
# lines, joined on the round) as "median (min-max)"
bench_ratio() {
  join "$1" "$2" | awk '{ print $2 / $3 }' | sort -g |
    awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                              printf "%.2fx (%.2f-%.2fx)", m, v[1], v[NR] }'
}

# bench_span FILE [DIGITS]: the values of FILE's rounds as "median (min-max)"
bench_span() {
  awk '{ print $2 }' "$1" | sort -g |
    awk -v d="${2:-0}" '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                                           f = "%." d "f"; printf f " (" f "-" f ")", m, v[1], v[NR] }'
}

# bench_seqs_append RUN_DIR ROUND OUT: the better seq/s of epochs 2 and 3 of
# RUN_DIR/metrics.csv appended to OUT as "ROUND value"
bench_seqs_append() {
  awk -F, -v round="$2" 'NR > 2 && $9 > best { best = $9 } END { printf "%s %.1f\n", round, best }' \
    "$1/metrics.csv" >>"$3"
}
