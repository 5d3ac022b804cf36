# shellcheck shell=sh disable=SC2086,SC2015  # $FAST is a list of options; ok never fails
# tests/mistakes/config.sh - sloppy config files and numbers, typed as a user
# types them. Sourced by tests/run_mistakes.sh (run, one_line, ok, bad, $BIN,
# $W, $FAST).

# a directory or a FIFO given as --config: refused at once, one line, nothing created
run "config: a directory" 2 "$BIN" train --config "$W" $FAST --run-dir "$W/cfg_dir" &&
  one_line "config: a directory" ": cannot read config file: it is a directory"
mkfifo "$W/cfg.fifo"
run "config: a FIFO" 2 timeout 30 "$BIN" train --config "$W/cfg.fifo" $FAST --run-dir "$W/cfg_dir" &&
  one_line "config: a FIFO" "cfg.fifo: cannot read config file: it is a FIFO"
[ ! -e "$W/cfg_dir" ] && ok || bad "config: a refused config file created the run dir"

# a key set twice in one file: both lines named
printf 'hidden = 8\nlr = 0.01\n# a note\nepochs = 2\nlr = 0.02\n' >"$W/dup.ini"
run "config: duplicate key" 2 "$BIN" train --config "$W/dup.ini" $FAST --run-dir "$W/cfg_dup" &&
  one_line "config: duplicate key" "dup\\.ini:5: 'lr' is already set at line 2$"
printf 'batch_size = 8\nbatch-size = 16\n' >"$W/dup2.ini"
run "config: duplicate key, two spellings" 2 "$BIN" train --config "$W/dup2.ini" $FAST &&
  one_line "config: duplicate key, two spellings" "dup2\\.ini:2: 'batch-size' is already set at line 1$"
# ... while the command line may override the file
printf 'epochs = 1\nmax-steps = 2\n' >"$W/override.ini"
if run "config: command line over the file" 0 "$BIN" train --config "$W/override.ini" $FAST \
  --max-steps 1 --run-dir "$W/cfg_over"; then
  grep -qx 'max-steps = 1' "$W/cfg_over/config.ini" && ok || bad "config: the command line did not win"
fi

# numbers are decimal: no hex, inf, nan, '+' or blanks
for args in "--lr 0x10" "--lr inf" "--dropout nan" "--hidden +5" "--epochs 1e3" "--hidden 0x10"; do
  run "config: $args" 2 "$BIN" train $FAST $args --run-dir "$W/cfg_num" &&
    one_line "config: $args" "must be (a decimal number|an integer), got '"
done
run "config: hidden ' 5'" 2 "$BIN" train $FAST --hidden " 5" --run-dir "$W/cfg_num" &&
  one_line "config: hidden ' 5'" "'hidden' must be an integer, got ' 5'$"
printf 'lr = 0x10\n' >"$W/hex.ini"
run "config: hex in a file" 2 "$BIN" train --config "$W/hex.ini" $FAST --run-dir "$W/cfg_num" &&
  one_line "config: hex in a file" "hex\\.ini:1: 'lr' must be a decimal number, got '0x10'$"
[ ! -e "$W/cfg_num" ] && ok || bad "config: a refused number created the run dir"

# sizes
for size in 8Q -1G 1e400 1.5; do
  run "config: --max-memory $size" 2 "$BIN" train $FAST --max-memory "$size" &&
    one_line "config: --max-memory $size" "'max-memory' must be a size such as 512M.*got '$size'$"
done

# a flag takes no value: '--fresh 1' does not swallow the 1
run "config: --fresh 1" 2 "$BIN" train $FAST --fresh 1 --run-dir "$W/cfg_fresh" &&
  one_line "config: --fresh 1" "unexpected argument '1' \\(--fresh is a flag and takes no value"
printf 'fresh = 1\n' >"$W/fresh.ini"
run "config: fresh in a file" 2 "$BIN" train --config "$W/fresh.ini" $FAST \
  --run-dir "$W/cfg_fresh" &&
  one_line "config: fresh in a file" \
    "fresh\\.ini:1: fresh is a property of one launch: give --fresh on the command line$"
run "config: --resume with --fresh" 2 "$BIN" train $FAST --resume auto --fresh \
  --run-dir "$W/cfg_fresh" &&
  one_line "config: --resume with --fresh" "give either --resume or --fresh$"
[ ! -e "$W/cfg_fresh" ] && ok || bad "config: a refused flag created the run dir"

# quoting: a missing closing quote names file:line
printf 'epochs = 1\nrun-dir = "%s/cfg_q\n' "$W" >"$W/quote.ini"
run "config: unclosed quote" 2 "$BIN" train --config "$W/quote.ini" $FAST &&
  one_line "config: unclosed quote" "quote\\.ini:2: the value of 'run-dir' has no closing quote$"

# config.ini reads back as it was written: a run with awkward paths and an odd
# double, then a run from its config.ini (the data path travels through the
# file) writes the same config.ini but for its run-dir line
cp "$W/ct.h5" "$W/d #1;x.h5"
rt1="$W/a b #c"
if run "config: run with awkward paths" 0 "$BIN" train $FAST --data "$W/d #1;x.h5" --dropout 0.3 \
  --layers 2 --max-steps 3 --run-dir "$rt1"; then
  for line in 'dropout = 0.3' "run-dir = \"$rt1\"" "data = \"$W/d #1;x.h5\""; do
    grep -qxF "$line" "$rt1/config.ini" && ok || bad "config: no line '$line' in $rt1/config.ini"
  done
  if run "config: run from a written config.ini" 0 "$BIN" train --config "$rt1/config.ini" \
    --run-dir "$W/r2"; then
    grep -v '^run-dir = ' "$rt1/config.ini" >"$W/rt1.ini"
    grep -v '^run-dir = ' "$W/r2/config.ini" >"$W/rt2.ini"
    same_bytes "config: config.ini read back and written again" "$W/rt1.ini" "$W/rt2.ini"
  fi
fi
# a quoted run-dir in a hand-written file is the directory the run writes
printf 'run-dir = "%s/q #1; x"  # where it goes\nepochs = 1\nmax-steps = 2\n' "$W" >"$W/qdir.ini"
if run "config: quoted run-dir" 0 "$BIN" train --config "$W/qdir.ini" $FAST; then
  [ -f "$W/q #1; x/config.ini" ] && ok || bad "config: quoted run-dir not used: $(ls "$W")"
fi
