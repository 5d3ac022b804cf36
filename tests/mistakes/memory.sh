# shellcheck shell=sh
# tests/mistakes/memory.sh - memory that cannot suffice (sourced by
# tests/run_mistakes.sh; its helpers run, one_line, ok, bad, $BIN, $W, $FAST).
# A run whose head, model or batch needs more memory than a rank may use is
# refused before anything is allocated: exit 2 within seconds, one line with
# the estimate and its largest part, on every rank, no MPI_ABORT; eval and
# predict stream their rows, so a large file does not make them large.

# a valid 20 KB dataset with ten million classes: logits [64 steps x 32 rows,
# 10 M classes] and their gradient are 160 GiB
$PY - "$W/manycls.h5" <<'PYEOF'
import sys
import h5py
import numpy as np
rng = np.random.default_rng(5)
with h5py.File(sys.argv[1], "w") as f:
    f["inputs"] = rng.integers(0, 8, (40, 64)).astype(np.int32)
    f["targets"] = rng.integers(0, 10000000, (40, 64)).astype(np.int32)
    f.attrs["vocab_size"] = 8
    f.attrs["num_classes"] = 10000000
PYEOF
t0=$(date +%s)
if run "ten million classes" 2 "$BIN" train --data "$W/manycls.h5" --run-dir "$W/mc"; then
  took=$(($(date +%s) - t0))
  one_line "ten million classes" 'this run needs about [0-9.]+ GiB per rank, over the [0-9.]+ [KMGT]iB allowed \(--max-memory; (MemAvailable|cgroup) [^)]*\); largest part: logits \[2048 x 10000000\], 76\.3 GiB; use fewer classes or a smaller --batch-size, or raise --max-memory$'
  [ "$took" -le 10 ] && ok || bad "ten million classes: refused after $took s"
  [ -z "$(ls -A "$W/mc" 2>/dev/null)" ] && ok || bad "ten million classes: left $(ls -A "$W/mc")"
fi
# hidden 23170 passes the option check; 4 LSTM layers of it need ~190 GiB
if run "lstm hidden 23170 x 4" 2 "$BIN" train $FAST --cell lstm --hidden 23170 --layers 4 \
  --run-dir "$W/hid"; then
  one_line "lstm hidden 23170 x 4" 'largest part: lstm weights \(4 layers, hidden 23170\) with gradients and Adam state, [0-9.]+ GiB; use a smaller --hidden or fewer --layers, or raise --max-memory$'
fi
if run "hidden 23170, 8G" 2 "$BIN" train $FAST --hidden 23170 --max-memory 8G --run-dir "$W/hid8"; then
  one_line "hidden 23170, 8G" 'this run needs about 12\.[0-9] GiB per rank, over the 8 GiB allowed \(--max-memory\); largest part: rnn weights \(1 layer, hidden 23170\) with gradients and Adam state, 8 GiB'
fi
# a normal run under a limit it cannot meet, alone and on 2 ranks
if run "max-memory 1M" 2 "$BIN" train $FAST --max-memory 1M --run-dir "$W/m1"; then
  one_line "max-memory 1M" 'this run needs about [0-9.]+ MiB per rank, over the 1 MiB allowed \(--max-memory\); largest part: MPI, HDF5 and OpenBLAS themselves, [0-9.]+ MiB; nothing runs in less: raise --max-memory$'
fi
if run "max-memory 1M, 2 ranks" 2 mpirun -np 2 "$BIN" train $FAST --max-memory 1M --run-dir "$W/m2"; then
  n=$(grep -c '^rnn_dist: ' "$W/err")
  if [ "$n" -eq 1 ] && grep -q 'over the 1 MiB allowed' "$W/err" &&
    ! grep -q -e 'MPI_ABORT' -e 'internal error' "$W/err"; then
    ok
  else
    bad "max-memory 1M on 2 ranks: $n rnn_dist lines: $(head -c 600 "$W/err")"
  fi
fi
run "max-memory 8Q" 2 "$BIN" train $FAST --max-memory 8Q --run-dir "$W/m8q" &&
  one_line "max-memory 8Q" "'max-memory' must be a size such as 512M, 1.5G or 0 \(bytes; suffixes K, M, G, T\), got '8Q'"
run "a run within --max-memory 1G" 0 "$BIN" train $FAST --max-memory 1G --run-dir "$W/memok" && ok

# eval and predict: the same check, the same line
CK="$W/memok/best.h5"
if run "eval max-memory 1M" 2 "$BIN" eval --checkpoint "$CK" --data "$W/ct.h5" --max-memory 1M; then
  one_line "eval max-memory 1M" 'this evaluation needs about [0-9.]+ MiB per rank, over the 1 MiB allowed \(--max-memory\)'
fi
if run "predict max-memory 1M" 2 "$BIN" predict --checkpoint "$CK" --data "$W/ct.h5" \
  --max-memory 1M --out "$W/pm.h5"; then
  one_line "predict max-memory 1M" 'this prediction needs about [0-9.]+ MiB per rank, over the 1 MiB allowed'
  [ ! -e "$W/pm.h5" ] && ok || bad "predict max-memory 1M: wrote $W/pm.h5"
fi
if run "eval max-memory 1M, 2 ranks" 2 mpirun -np 2 "$BIN" eval --checkpoint "$CK" \
  --data "$W/ct.h5" --max-memory 1M; then
  [ "$(grep -c '^rnn_dist: ' "$W/err")" -eq 1 ] && ! grep -q MPI_ABORT "$W/err" && ok ||
    bad "eval max-memory 1M on 2 ranks: $(head -c 600 "$W/err")"
fi
run "eval max-memory 0x10" 2 "$BIN" eval --checkpoint "$CK" --data "$W/ct.h5" --max-memory 0x10 &&
  one_line "eval max-memory 0x10" "--max-memory must be a size such as 512M, 1.5G or 0 \(auto\), got '0x10'"

# eval streams: on a 48 MB group its resident set grows by its read window,
# not by the file (the whole group was 49 MB more before)
"$BIN" datagen counting --n 150000 --seq-len 50 --out "$W/big.h5" >/dev/null 2>&1 || bad "datagen big"
group=$((120000 * 50 * 8))
if [ -x /usr/bin/time ]; then
  /usr/bin/time -o "$W/rss0" -f %M "$BIN" eval --checkpoint "$CK" --data "$W/ct.h5" >/dev/null 2>&1
  /usr/bin/time -o "$W/rss1" -f %M "$BIN" eval --checkpoint "$CK" --data "$W/big.h5:/train" \
    >/dev/null 2>&1 || bad "eval of the 48 MB group failed"
  r0=$(tail -1 "$W/rss0") r1=$(tail -1 "$W/rss1")
  grow=$(((r1 - r0) * 1024))
  [ "$grow" -lt $((group / 2)) ] && ok "eval of a 48 MB group: resident set +$((grow >> 20)) MB" ||
    bad "eval of a 48 MB group: resident set +$((grow >> 20)) MB (limit $((group >> 21)) MB)"
else
  # without GNU time: the estimate alone must fit far below the group
  run "eval of a 48 MB group in 48M" 0 "$BIN" eval --checkpoint "$CK" --data "$W/big.h5:/train" \
    --max-memory 48M && ok
fi
rm -f "$W/big.h5"
