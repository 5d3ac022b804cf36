# fuzz/fuzz.mk - fuzzing of the dataset and checkpoint readers (issue 4).
# Included from the Makefile; also works alone: make -f fuzz/fuzz.mk fuzz
#
#   make fuzz           install clang if missing, build both libFuzzer targets
#                       (ASan+UBSan), make the seed corpus, fuzz each target
#                       FUZZ_SECONDS (300), then replay FUZZ_MUTANTS (1000)
#                       mutated files through rnn_dist train and inspect
#   make fuzz-build     just the two fuzzers: $(FUZZ_DIR)/fuzz_dataset, fuzz_checkpoint
#   make fuzz-replay    tests/fuzz-corpus/{dataset,checkpoint}/* through the
#                       replay drivers built with the normal compiler and CFLAGS
#                       ($(BUILD)/fuzz_replay_dataset, fuzz_replay_checkpoint)
#   make fuzz-mutants   the mutant replay alone (RNN_DIST_MUTANTS files)
#
# Findings of make fuzz land in $(FUZZ_DIR)/findings/<target>/ (crash-*,
# timeout-*, oom-*; every report in full in findings/<target>/log); reproduce
# one with $(FUZZ_DIR)/fuzz_dataset FILE. make clean leaves $(FUZZ_DIR).

BUILD        ?= build
PKGS         ?= hdf5-openmpi openblas
PKGCFG       ?= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKGLIBS      ?= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PY           ?= /usr/bin/python3
FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_MUTANTS ?= 1000
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -MMD -MP -Wall -Wextra \
                -Wno-unused-result -Isrc $(PKGCFG) $(shell mpicc -showme:compile 2>/dev/null)
FUZZ_LIBS    := $(PKGLIBS) $(shell mpicc -showme:link 2>/dev/null) -lm
# every module but main and dist, as an archive: a fuzzer links only the
# members its readers need, and one that needed dist (MPI) would break the
# link. No fuzzer starts MPI; they link HDF5 (hdf5-openmpi loads libmpi).
FUZZ_SRC     := $(filter-out src/main.c src/dist.c,$(wildcard src/*.c))
FUZZ_OBJ     := $(patsubst src/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRC))
# libFuzzer options of make fuzz (fuzz/run_fuzzer.sh restarts libFuzzer after
# each finding, so one process runs at a time and every report is kept whole)
FUZZ_OPTS    ?= -timeout=10 -rss_limit_mb=2048 -max_len=65536

# alone (make -f fuzz/fuzz.mk): what the Makefile would define
ifndef LIBOBJ
CC      := mpicc
CFLAGS  := -O2 -g -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-unused-result -D_GNU_SOURCE $(PKGCFG)
LDLIBS  := $(PKGLIBS) -lm
LIBOBJ  := $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out src/main.c,$(wildcard src/*.c)))
$(BUILD)/%.o: src/%.c
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/rnn_dist: $(BUILD)/main.o $(LIBOBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
endif

.PHONY: fuzz fuzz-build fuzz-deps fuzz-seeds fuzz-run fuzz-replay fuzz-mutants

fuzz-deps:
	@scripts/install-deps.sh --with-fuzz

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) \
	  $(FUZZ_DIR)/fuzz_dataset $(FUZZ_DIR)/fuzz_checkpoint

$(FUZZ_DIR)/obj/%.o: src/%.c | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

# vecmath.c's target_clones (AVX-512 vector arguments) are GCC-only: compiled
# with mpicc, uninstrumented (arithmetic only, no file input reaches it)
$(FUZZ_DIR)/obj/vecmath.o: src/vecmath.c | $(FUZZ_DIR)/obj
	mpicc -O2 -g -std=c11 -D_GNU_SOURCE $(PKGCFG) -c -o $@ $<

$(FUZZ_DIR)/obj/fuzz_%.o: fuzz/fuzz_%.c fuzz/fuzz_common.h | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/librnn.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz_%.o $(FUZZ_DIR)/obj/librnn.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

$(FUZZ_DIR)/obj:
	@mkdir -p $@

# valid files of every schema variant, made with the rnn_dist of $(BUILD)
fuzz-seeds: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist fuzz/make_seeds.sh $(FUZZ_DIR)/seeds

fuzz-run:
	@for t in dataset checkpoint; do \
	  FUZZ_OPTS="$(FUZZ_OPTS)" fuzz/run_fuzzer.sh $(FUZZ_DIR)/fuzz_$$t $(FUZZ_SECONDS) \
	    $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/findings/$$t $(FUZZ_DIR)/seeds/$$t \
	    tests/fuzz-corpus/$$t || exit 1; \
	done

fuzz: fuzz-build
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) fuzz-seeds
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) fuzz-run
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) fuzz-mutants \
	  RNN_DIST_MUTANTS=$(FUZZ_MUTANTS)

# the mutant replay: RNN_DIST_MUTANTS files (default 100, the make test sample)
fuzz-mutants: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_mutants.sh

# the regression corpus through the replay drivers (normal compiler and CFLAGS)
$(BUILD)/fuzz/%.o: fuzz/%.c fuzz/fuzz_common.h $(FLAGSTAMP) | $(BUILD)/fuzz
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

# the modules but dist (and main), an archive as $(FUZZ_DIR)/obj/librnn.a
$(BUILD)/fuzz/librnn.a: $(filter-out $(BUILD)/dist.o,$(LIBOBJ)) | $(BUILD)/fuzz
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz_replay_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/replay.o $(BUILD)/fuzz/librnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/fuzz:
	@mkdir -p $@

fuzz-replay: $(BUILD)/fuzz_replay_dataset $(BUILD)/fuzz_replay_checkpoint
	@ASAN_OPTIONS=detect_leaks=0 $(BUILD)/fuzz_replay_dataset tests/fuzz-corpus/dataset/*
	@ASAN_OPTIONS=detect_leaks=0 $(BUILD)/fuzz_replay_checkpoint tests/fuzz-corpus/checkpoint/*

-include $(wildcard $(FUZZ_DIR)/obj/*.d $(BUILD)/fuzz/*.d)
