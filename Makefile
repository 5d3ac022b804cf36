# rnn_dist - data-parallel RNN/LSTM/GRU trainer (C11, Open MPI, HDF5, OpenBLAS).
#
#   make                the rnn_dist binary
#   make run            install missing packages, build, make the default data (when missing),
#                       train under mpirun
#   make test           install missing packages, unit + integration + fuzz regression +
#                       mutant sample + distributed tests, and beside them make asan
#   make asan           the test suite built with AddressSanitizer + UBSan
#   make tsan           the batch helper's unit test built with ThreadSanitizer
#   make bench          speed figures (not a test)
#   make fuzz           fuzz the dataset and checkpoint readers (clang, libFuzzer)
#   make fixtures       regenerate tests/fixtures with PyTorch (needs python3-torch)
#   make install PREFIX=/usr/local

CC      := mpicc
PKGS    := hdf5-openmpi openblas
PKGCFG  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKGLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA  = $(shell pkg-config --libs cmocka 2>/dev/null)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-result
OPT     ?= -O2 -g -fvect-cost-model=cheap
SAN     ?=
# -fno-math-errno: sqrtf may then be a vector instruction, so the optimizers'
# loops vectorise (the same results: both round correctly); nothing reads
# errno after a math function
MATH    := -fno-math-errno
CFLAGS  := $(OPT) $(SAN) -std=c11 $(WARN) $(MATH) -D_GNU_SOURCE -MMD -MP $(PKGCFG)
LDFLAGS := $(SAN)
LDLIBS  := $(PKGLIBS) -lm -pthread
PREFIX  ?= /usr/local
NP      ?= 2
PY      := /usr/bin/python3

BUILD   ?= build
SRC     := $(wildcard src/*.c)
LIBOBJ  := $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC)))
TESTS   := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
TESTBIN := $(addprefix $(BUILD)/tests/,$(TESTS))

# The MPI-free core: the numerics (check, rng, vecmath, gemm, cellgemm, cell, layer, model,
# optim, gradcheck, stopping, schedule) and the options optim reads (config, cfgtext,
# cfgfile). Compiled with plain gcc, with OpenBLAS's include path but not
# MPI's or HDF5's; the binary links these same objects. Their unit tests are
# compiled the same way and linked from the core objects alone, without MPI,
# HDF5 or dist.o: an MPI or HDF5 dependency creeping into the core breaks the
# build. (check.c ends the job through an abort hook that dist_init installs.)
CORE      := check types cfgopts rng hash vecmath gemm gemmbf16 gemmbf16fma gemmamx gemmprec gemmchoice cellgemm cell layer model optim gradcheck stopping schedule \
             config cfgtext cfgfile
COREOBJ   := $(patsubst %,$(BUILD)/%.o,$(CORE))
CORE_CC   := gcc
CORE_CFLAGS := $(OPT) $(SAN) -std=c11 $(WARN) $(MATH) -D_GNU_SOURCE -MMD -MP \
               $(shell pkg-config --cflags openblas 2>/dev/null)
CORE_LIBS := $(shell pkg-config --libs openblas 2>/dev/null) -lm
CORETESTBIN := $(addprefix $(BUILD)/tests/,test_check test_gemm test_vecmath test_gradcheck \
                 test_model test_stopping test_cellstate test_gemmchoice \
                 test_gemmbf16 test_gemmamx test_cellbf16 test_rng)
# test_golden checks the core against PyTorch's numbers stored in .h5 files:
# reading them takes HDF5, and hdf5-openmpi's hdf5.h includes mpi.h, so the
# fixture reading (test_golden.c itself, testutil, h5io, checkpoint) is
# compiled with mpicc and linked with HDF5 (which loads libmpi; MPI is never
# started); the code under test is the gcc-built core, and dist.o is absent.
GOLDENOBJ := $(BUILD)/tests/testutil.o $(COREOBJ) \
             $(patsubst %,$(BUILD)/%.o,h5io h5io_probe h5io_rows h5image fault checkpoint checkpoint_attrs trainstate)

# Objects rebuild when the flags change (make OPT=-O3 after a plain make): $(BUILD)/flags
# holds the last build's flags and is rewritten, newer than every object, when they differ.
FLAGSTAMP := $(BUILD)/flags
FLAGS     := $(strip $(CC) $(CFLAGS) $(CORE_CC) $(CORE_CFLAGS) $(LDFLAGS))
ifneq ($(FLAGS),$(strip $(shell cat $(FLAGSTAMP) 2>/dev/null)))
$(shell mkdir -p $(BUILD) && printf '%s\n' '$(FLAGS)' > $(FLAGSTAMP))
endif

export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_mpi_yield_when_idle := 1
export OPENBLAS_NUM_THREADS := 1

.SECONDARY:
.PHONY: all run test test-main binaries unit integration plots mistakes integration-asan dist \
        asan tsan bench fixtures install deps clean
all: rnn_dist

deps:
	@scripts/install-deps.sh

rnn_dist: $(BUILD)/rnn_dist
	@ln -sf $(BUILD)/rnn_dist $@

$(BUILD)/rnn_dist: $(BUILD)/main.o $(LIBOBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(FLAGSTAMP): ;

$(BUILD)/%.o: src/%.c $(FLAGSTAMP) | $(BUILD)
	$(CC) $(CFLAGS) -c -o $@ $<

$(COREOBJ): $(BUILD)/%.o: src/%.c $(FLAGSTAMP) | $(BUILD)
	$(CORE_CC) $(CORE_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c $(FLAGSTAMP) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/tests/testutil.o $(LIBOBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) $(CMOCKA)

$(CORETESTBIN:=.o): $(BUILD)/tests/%.o: tests/%.c $(FLAGSTAMP) | $(BUILD)/tests
	$(CORE_CC) $(CORE_CFLAGS) -Isrc -c -o $@ $<

$(CORETESTBIN): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(COREOBJ)
	$(CORE_CC) $(CORE_CFLAGS) -o $@ $^ $(LDFLAGS) $(CORE_LIBS) $(CMOCKA)

$(BUILD)/tests/test_golden: $(BUILD)/tests/test_golden.o $(GOLDENOBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) $(CMOCKA)

$(BUILD) $(BUILD)/tests:
	@mkdir -p $@

run: deps
	@$(MAKE) --no-print-directory rnn_dist datasets/counting.h5
	mpirun --oversubscribe -np $(NP) ./rnn_dist train --config configs/counting.ini \
	  --run-dir runs/counting-$$(date +%Y%m%d-%H%M%S)

# the default data, made when missing (datagen never replaces an existing
# file without --force; delete it to regenerate)
datasets/counting.h5: | $(BUILD)/rnn_dist
	@mkdir -p datasets
	$(BUILD)/rnn_dist datagen counting --out $@

# every binary the tests run, built before them (in parallel: make -j2 binaries)
BINARIES := $(BUILD)/rnn_dist $(TESTBIN) $(BUILD)/fuzz_replay_dataset \
            $(BUILD)/fuzz_replay_checkpoint
binaries: $(BINARIES)

# the structure rules of src/ (tests/check_structure.sh), the binaries, then two lanes
# at once (tests/run_lanes.sh; the second's output is printed when both have ended): unit
# tests (cmocka), the binary end to end, the fuzz regression corpus, then under mpirun and
# clusters; beside them make asan, make tsan, then the scripts' pictures (plots) and a
# sample of mutated files (fuzz-mutants), so that the lanes take about as long
test: deps
	@tests/check_structure.sh
	@$(MAKE) --no-print-directory -j2 binaries $(BUILD)/bench_model
	@tests/run_lanes.sh build-asan/lane.log "$(MAKE) --no-print-directory test-main" \
	  "$(MAKE) --no-print-directory asan && $(MAKE) --no-print-directory tsan plots fuzz-mutants"

test-main:
	@$(MAKE) --no-print-directory -j2 binaries $(BUILD)/bench_model
	@$(MAKE) --no-print-directory unit integration mistakes fuzz-replay dist

unit: $(TESTBIN)
	@tests/run_unit.sh $(TESTBIN)
	@OPENBLAS_CORETYPE=Prescott tests/run_unit.sh $(BUILD)/tests/test_model
	@RNN_DIST_GEMM=avx2 tests/run_unit.sh $(BUILD)/tests/test_gradcheck $(BUILD)/tests/test_golden \
	  $(BUILD)/tests/test_cellstate
	@RNN_DIST_GEMM=blas tests/run_unit.sh $(BUILD)/tests/test_gradcheck $(BUILD)/tests/test_golden \
	  $(BUILD)/tests/test_cellstate

integration: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_integration.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_csv.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_answers.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_text.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_optim13.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_schedules.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_class_weights.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_bidir.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_stateful.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_datapath.sh

# plot_run.py's pictures and choices, progress lines, from_pytorch.py
plots: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_plots.sh

# a user's habits: reruns into a run directory, resume with changed options,
# an output over an input, Ctrl-C, a closed pipe, data that changes mid-run
mistakes: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_mistakes.sh

# distributed semantics: rank-count invariance (also with precision bf16), resume across rank counts,
# signals, kill -9, drifted replicas; the selftest alone and on 4 ranks;
# 2 hosts x 2 ranks on the namespace cluster and a lost host; the sbatch
# script on a local SLURM: resume, and a time-limit signal with requeue; a
# disk that fills up mid-run (root)
dist: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_dist.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_precision.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_selftest.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_cluster.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_slurm.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_faults.sh

ASAN := BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
asan:
	@$(MAKE) --no-print-directory $(ASAN) -j2 binaries
	@$(MAKE) --no-print-directory $(ASAN) unit integration-asan fuzz-replay

# ThreadSanitizer on the batch helper's hand-overs (test_batchfeed: held and
# streamed views, the next pass's window, a failed read, a stop mid-pass): a
# race it sees fails the test (exit 66). vecmath.h compiles no clones under it.
TSAN := BUILD=build-tsan OPT="-O1 -g" SAN="-fsanitize=thread"
tsan:
	@$(MAKE) --no-print-directory $(TSAN) -j2 build-tsan/tests/test_batchfeed
	@tests/run_unit.sh build-tsan/tests/test_batchfeed

integration-asan: $(BUILD)/rnn_dist
	@RNN_DIST=$(BUILD)/rnn_dist RNN_DIST_QUICK=1 tests/run_integration.sh
	@RNN_DIST=$(BUILD)/rnn_dist RNN_DIST_QUICK=1 tests/run_dist.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_precision.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_selftest.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_answers.sh
	@RNN_DIST=$(BUILD)/rnn_dist tests/run_text.sh

# oneDNN (libdnnl-dev, scripts/install-deps.sh --with-bench): the reference of the shape table
DNNL := $(wildcard /usr/include/dnnl.h)

bench: rnn_dist $(BUILD)/bench_model $(if $(DNNL),$(BUILD)/bench_onednn)
	@scripts/bench.sh $(BUILD)/bench_model
	@echo
	@$(PY) scripts/bench_train.py $(BUILD)/rnn_dist
	@echo
	@if [ -n "$(DNNL)" ]; then scripts/bench_onednn.sh $(BUILD)/bench_model $(BUILD)/bench_onednn; \
	else echo "oneDNN comparison skipped: libdnnl-dev is not installed (scripts/install-deps.sh --with-bench)"; fi
	@scripts/bench_dist.sh $(BUILD)/rnn_dist
	@scripts/bench_cluster.sh $(BUILD)/rnn_dist

$(BUILD)/bench_onednn: bench/bench_onednn.c | $(BUILD)
	gcc $(OPT) -std=c11 $(WARN) -D_GNU_SOURCE -o $@ $< -ldnnl

$(BUILD)/bench_model: $(BUILD)/bench_model.o $(LIBOBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench_model.o: bench/bench_model.c $(FLAGSTAMP) | $(BUILD)
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

fixtures:
	$(PY) scripts/make_fixtures.py tests/fixtures

install: rnn_dist
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/rnn_dist
	install -m 755 $(BUILD)/rnn_dist $(DESTDIR)$(PREFIX)/bin/rnn_dist
	cp -r configs scripts docs $(DESTDIR)$(PREFIX)/share/rnn_dist/
	install -D -m 644 datasets/README.md $(DESTDIR)$(PREFIX)/share/rnn_dist/datasets/README.md

clean:
	rm -rf build build-asan build-tsan rnn_dist

# make fuzz, fuzz-build, fuzz-replay, fuzz-mutants (fuzz/README.md)
include fuzz/fuzz.mk

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
