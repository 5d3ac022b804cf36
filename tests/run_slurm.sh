#!/bin/sh
# rnn_dist under a real SLURM (slurmctld + slurmd + munged on this machine,
# scripts/slurm/local-cluster.sh) through scripts/slurm/rnn_dist.sbatch:
#   - a 2-task batch job trains 2 epochs (JobState COMPLETED, ExitCode 0:0);
#   - the same job name submitted again with --epochs 4 resumes from last.h5
#     (epochs 3-4 appended) to the result of a straight 4-epoch mpirun run;
#   - scancel --signal=USR1 --batch (what --signal=B:USR1@120 does before the
#     time limit): the script forwards it, rnn_dist writes last.h5 and exits 4,
#     the script requeues the job, and the requeued job finishes the run to the
#     result of an uninterrupted one;
#   - no daemon, job or rank is left afterwards.
# Needs root (slurmd, munged): skipped otherwise. As root, a cluster that does
# not come up is a failure. Takes about 30 s.
# Usage: RNN_DIST=build/rnn_dist tests/run_slurm.sh    (exits non-zero on failure)
set -u
if [ "$(id -u)" -ne 0 ]; then
  echo "slurm: skipped: needs root (slurmd and munged)"
  exit 0
fi
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
LC=$TOP/scripts/slurm/local-cluster.sh
SB=$TOP/scripts/slurm/rnn_dist.sbatch
# munged runs as the munge user and must reach $W/slurm/munge
chmod 711 "$W"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  "$LC" down "$W/slurm" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# the batch script finds the binary through RNN_DIST (sbatch passes our environment)
export RNN_DIST="$BIN"
finish() {
  summary slurm
  exit
}
same() { $PY "$HERE/compare_runs.py" "$@" >"$W/cmp" 2>&1; }
# straight NAME ARGS...: the same training under plain mpirun, for reference
straight() {
  d=$1
  shift
  timeout 60 mpirun -np 2 "$BIN" train --run-dir "$W/$d" "$@" >"$W/$d.log" 2>&1
}
# submit NAME ARGS...: sbatch the script in $W as job NAME; prints the job id
submit() {
  name=$1
  shift
  sbatch --parsable --chdir "$W" --job-name "$name" "$SB" "$@" 2>"$W/sbatch.err"
}
# job_field ID FIELD: FIELD's value in `scontrol show job ID` (no sacct here)
job_field() {
  scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}
# wait_job ID SECONDS: until the job has ended; prints "STATE EXITCODE"
wait_job() {
  n=0
  st=
  while [ $n -lt $(($2 * 5)) ]; do
    st=$(job_field "$1" JobState)
    case $st in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        echo "$st $(job_field "$1" ExitCode)"
        return 0
        ;;
    esac
    sleep 0.2
    n=$((n + 1))
  done
  echo "${st:-unknown} (still after $2 s)"
  return 1
}
rows() { echo $(($({ wc -l <"$1"; } 2>/dev/null || echo 1) - 1)); }
epochs() { cut -d, -f1 "$1" 2>/dev/null | tail -n +2 | tr '\n' ' ' | sed 's/ $//'; }

t0=$(date +%s)
# ---- the cluster ------------------------------------------------------------------
if ! "$LC" up "$W/slurm" >"$W/up.log" 2>&1; then
  bad "local SLURM cluster did not start: $(tail -5 "$W/up.log")"
  finish
fi
conf=$(sed -n 's/^export SLURM_CONF=//p' "$W/up.log")
if [ "$conf" != "$W/slurm/slurm.conf" ]; then
  bad "local-cluster.sh up printed no 'export SLURM_CONF=' line: $(cat "$W/up.log")"
  finish
fi
export SLURM_CONF="$conf"
daemons=$(cat "$W/slurm/munge/munged.pid" "$W/slurm/slurmctld.pid" "$W/slurm/slurmd.pid" | tr '\n' ' ')
ok "slurm cluster up ($(sinfo -h -N -o '%N %c CPUs %t'); pids $daemons)"

"$BIN" datagen counting --out "$W/ct.h5" >/dev/null || bad "datagen counting"
"$BIN" datagen adding --n 1000 --out "$W/ad.h5" >/dev/null || bad "datagen adding"

# ---- a batch job, then the same job name again: resume ---------------------------------
CT="--data $W/ct.h5 --cell gru --hidden 16 --batch-size 32 --seed 3"
# shellcheck disable=SC2086
id=$(submit resume1 $CT --epochs 2) || bad "sbatch: $(cat "$W/sbatch.err")"
res=$(wait_job "$id" 60)
out="$W/resume1-$id.out"
m="$W/runs/resume1/metrics.csv"
if [ "$res" = "COMPLETED 0:0" ] && [ "$(epochs "$m")" = "1 2" ]; then
  ok "job $id (2 tasks, --epochs 2): $res, metrics.csv has epochs 1-2"
else
  bad "job $id: $res, epochs '$(epochs "$m")'; $(tail -3 "$out" 2>/dev/null)"
fi
# shellcheck disable=SC2086
id=$(submit resume1 $CT --epochs 4) || bad "sbatch: $(cat "$W/sbatch.err")"
res=$(wait_job "$id" 60)
out="$W/resume1-$id.out"
if [ "$res" = "COMPLETED 0:0" ] && grep -q "^resuming from runs/resume1/last.h5: epoch 2" "$out" &&
  [ "$(epochs "$m")" = "1 2 3 4" ] && grep -q "^epoch 3/4" "$out" && ! grep -q "^epoch [12]/" "$out"; then
  ok "job $id, same name, --epochs 4: resumed after epoch 2, epochs 3-4 appended ($res)"
else
  bad "resubmitted job $id: $res, epochs '$(epochs "$m")'; $(grep -E '^(resuming|epoch|rnn_dist:)' "$out" 2>/dev/null | head -4)"
fi
# shellcheck disable=SC2086
straight straight4 $CT --epochs 4 || bad "straight 4-epoch mpirun run: $(tail -1 "$W/straight4.log")"
if same "$W/straight4" "$W/runs/resume1"; then
  ok "2 + 2 epochs in two SLURM jobs = 4 epochs under mpirun ($(cat "$W/cmp"))"
else
  bad "resumed SLURM run differs from the straight one: $(cat "$W/cmp")"
fi

# ---- SIGUSR1 before the time limit: checkpoint, exit 4, requeue, finish ----------------
# about 0.3 s per epoch on 2 ranks: the signal after epoch 2 lands mid-run
LONG="--data $W/ad.h5 --cell lstm --hidden 64 --batch-size 20 --epochs 12 --seed 6"
# shellcheck disable=SC2086
id=$(submit sig $LONG) || bad "sbatch: $(cat "$W/sbatch.err")"
out="$W/sig-$id.out"
m="$W/runs/sig/metrics.csv"
n=0
while [ "$(rows "$m")" -lt 2 ] && [ $n -lt 300 ]; do
  case $(job_field "$id" JobState) in PENDING | RUNNING) ;; *) break ;; esac
  sleep 0.1
  n=$((n + 1))
done
state=$(job_field "$id" JobState)
if [ "$state" != RUNNING ] || [ "$(rows "$m")" -lt 2 ]; then
  bad "job $id: not training after 30 s ($state, $(rows "$m") epochs)"
fi
scancel --signal=USR1 --batch "$id" || bad "scancel --signal=USR1 --batch $id failed"
# requeued: pending again, Restarts=1 (SLURM delays a requeued job ~2 min)
n=0
while [ $n -lt 150 ]; do
  state=$(job_field "$id" JobState)
  [ "$state" = PENDING ] && [ "$(job_field "$id" Restarts)" = 1 ] && break
  case $state in COMPLETED | FAILED | CANCELLED | TIMEOUT) break ;; esac
  sleep 0.2
  n=$((n + 1))
done
done_at=$(rows "$m")
if [ "$state" = PENDING ] && grep -q "^rnn_dist: stopped by SIGUSR1 at step" "$out" &&
  grep -q "^rnn_dist.sbatch: mpirun exited with 4" "$out" && grep -q "requeueing job $id" "$out"; then
  ok "USR1 to the batch script: rnn_dist stopped with $done_at epochs done (exit 4), job $id requeued"
else
  bad "job $id after USR1: $state, restarts $(job_field "$id" Restarts); $(grep -E '^(rnn_dist|mpirun)' "$out" | tail -3)"
fi
if "$BIN" inspect "$W/runs/sig/last.h5" >"$W/insp" 2>&1; then
  ok "last.h5 written at the signal loads ($(grep state "$W/insp" | sed 's/^ *//'))"
else
  bad "last.h5 after USR1 does not load: $(head -3 "$W/insp")"
fi
# the reference run while the requeued job waits, then let it start now
# shellcheck disable=SC2086
straight straight-long $LONG || bad "straight long mpirun run: $(tail -1 "$W/straight-long.log")"
scontrol update JobId="$id" StartTime=now || bad "scontrol update JobId=$id StartTime=now failed"
res=$(wait_job "$id" 60)
if [ "$res" = "COMPLETED 0:0" ] && grep -q "^rnn_dist.sbatch: job $id (restart 1)" "$out" &&
  grep -q "^resuming from runs/sig/last.h5" "$out" && [ "$(rows "$m")" = 12 ] &&
  same "$W/straight-long" "$W/runs/sig"; then
  ok "requeued job $id resumed and completed: 12 epochs = uninterrupted mpirun run ($(cat "$W/cmp"))"
else
  bad "requeued job $id: $res, $(rows "$m") epochs; $(cat "$W/cmp" 2>/dev/null); $(tail -2 "$out")"
fi

# ---- nothing left behind ---------------------------------------------------------------
"$LC" down "$W/slurm" >"$W/down.log" 2>&1 || bad "local-cluster.sh down: $(cat "$W/down.log")"
left=
# shellcheck disable=SC2086
for p in $daemons; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
# job processes (slurmstepd, mpirun, orted, ranks) ran in $W
for c in /proc/[0-9]*/cwd; do
  case $(readlink "$c" 2>/dev/null) in
    "$W" | "$W"/*) p=${c#/proc/}; left="$left ${p%/cwd}" ;;
  esac
done
if [ -z "$left" ] && [ ! -d "$W/slurm" ]; then
  ok "cluster down: no daemon, job or rank left, $W/slurm removed"
else
  # shellcheck disable=SC2086 # word splitting wanted
  bad "left behind:$left $(ps -o pid,args -p "$(echo $left | tr ' ' ,)" 2>/dev/null | tail -n +2)"
fi
echo "slurm: took $(($(date +%s) - t0)) s"
finish
