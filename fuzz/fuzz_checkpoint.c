/* fuzz_checkpoint.c - libFuzzer target: the checkpoint reader
 * (checkpoint.c) and inspect on an arbitrary file. See fuzz_common.h. */
#include "fuzz_common.h"

#include "check.h"
#include "checkpoint.h"
#include "config.h"
#include "inspect.h"
#include "model.h"
#include "optim.h"

/* Models larger than this are not created: checkpoint_read_spec accepts
 * hidden up to 65536 and vocab_size up to 1e8, whose models do not fit in
 * memory (a known limit reported separately, not what this target looks for).
 * (rnn_dist eval / predict create it the same way; inspect checks /params first). */
#define FUZZ_MAX_PARAMS ((size_t)1 << 24)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("checkpoint", data, size);
    Error e = {0, ""};
    checkpoint_verify(path, &e);
    ModelSpec spec;
    int small = 1;
    if (checkpoint_read_spec(&spec, path, &e) == 0) {
        ParamTable t;
        model_param_table(&t, &spec);
        small = t.total <= FUZZ_MAX_PARAMS;
        if (small) {
            Model m;
            model_create(&m, &spec);
            checkpoint_load_params(&m, path, &e);
            TrainState st;
            checkpoint_load(&m, NULL, &st, path, &e);
            /* with each optimizer's state: adam (two moments), sgd+momentum (one) */
            for (int k = 0; k < 2; k++) {
                Config c;
                config_defaults(&c);
                if (k == 1) {
                    c.optimizer = OPTIM_SGD;
                    c.momentum = 0.9;
                }
                OptimSpec os = optim_spec_from_config(&c);
                Optim o;
                optim_create(&o, &os, m.table.total);
                checkpoint_load(&m, &o, &st, path, &e);
                optim_free(&o);
            }
            model_free(&m);
        }
    }
    inspect_file(fuzz_devnull(), path, &e);
    fuzz_cleanup(path);
    return 0;
}
