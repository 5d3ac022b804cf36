/* inspect.c - describe datasets and checkpoints (see inspect.h). */
#include "inspect.h"

#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "dataset.h"
#include "h5io.h"
#include "model.h"

/* Does the file carry format_version, as every checkpoint of train does? */
static int written_by_train(const char *path)
{
    hid_t f;
    if (h5io_open_read(&f, path, NULL)) return 0;
    int yes = h5io_attr_exists(f, "/", "format_version");
    H5Fclose(f);
    return yes;
}

static int inspect_checkpoint(FILE *out, const char *path, Error *e)
{
    ModelSpec s;
    if (checkpoint_read_spec(&s, path, e)) return EXIT_USAGE;
    /* a damaged checkpoint of rnn_dist train is reported as such first */
    if (written_by_train(path) && checkpoint_verify(path, e)) return EXIT_USAGE;
    if (checkpoint_check_params(&s, path, e)) return EXIT_USAGE;
    Model m;
    model_create(&m, &s);
    TrainState st;
    int rc = checkpoint_load(&m, NULL, &st, path, e);
    int has_state = rc == 0;
    /* a params-only (init) file has no format_version; a damaged checkpoint
     * of rnn_dist train is reported as such */
    if (rc && !written_by_train(path)) rc = checkpoint_load_params(&m, path, e);
    if (rc) {
        model_free(&m);
        return rc;
    }
    fprintf(out, "%s: rnn_dist checkpoint\n", path);
    fprintf(out, "  model    %s", cell_name(s.cell));
    if (s.cell == CELL_RNN) fprintf(out, " (%s)", types_enum_name(&NONLIN_NAMES, s.act));
    fprintf(out, ", hidden %d, layers %d, %s input", s.hidden, s.layers,
            s.input == INPUT_TOKENS ? "token" : "dense");
    if (s.input == INPUT_TOKENS)
        fprintf(out, " (vocab %d, embed %d)", s.vocab, s.embed);
    else
        fprintf(out, " (%d features)", s.features);
    fprintf(out, ", %d %s %s\n", s.out, s.loss == LOSS_CE ? "classes" : "values",
            s.target == TARGET_STEP ? "per step" : "per sequence");
    fprintf(out, "  dropout  %g between layers, %g before fc\n", s.dropout, s.out_dropout);
    if (has_state)
        fprintf(out, "  state    epoch %lld, step %lld, batch in epoch %lld, best %.6g (epoch "
                "%lld), seed %llu, saved by %lld rank(s)\n",
                (long long)st.epoch, (long long)st.step, (long long)st.batch_in_epoch,
                st.best_metric, (long long)st.best_epoch, (unsigned long long)st.seed,
                (long long)st.world_size);
    else
        fprintf(out, "  state    none (parameters only)\n");
    fprintf(out, "  parameters (%zu):\n", model_param_count(&m.table));
    for (int i = 0; i < m.table.count; i++) {
        const ParamInfo *p = &m.table.p[i];
        size_t n = (size_t)p->rows * (p->cols ? p->cols : 1);
        double ss = 0;
        for (size_t k = 0; k < n; k++) ss += (double)m.params[p->offset + k] * m.params[p->offset + k];
        if (p->cols)
            fprintf(out, "    %-20s [%d, %d]  rms %.4g\n", p->name, p->rows, p->cols,
                    sqrt(ss / (double)n));
        else
            fprintf(out, "    %-20s [%d]  rms %.4g\n", p->name, p->rows, sqrt(ss / (double)n));
    }
    model_free(&m);
    return 0;
}

static void describe(FILE *out, const Dataset *ds)
{
    int lmin = ds->T, lmax = 0;
    double lsum = 0;
    for (size_t i = 0; i < ds->n; i++) {
        int l = ds->lengths[i];
        lmin = l < lmin ? l : lmin;
        lmax = l > lmax ? l : lmax;
        lsum += l;
    }
    fprintf(out, "  %-7s %zu sequences x %d steps, ", ds->group, ds->n, ds->T);
    if (ds->input == INPUT_TOKENS)
        fprintf(out, "token ids (vocab %d)", ds->vocab);
    else
        fprintf(out, "%d features", ds->F);
    fprintf(out, " -> %d %s %s", ds->O, ds->kind == LOSS_CE ? "classes" : "values",
            ds->target == TARGET_STEP ? "per step" : "per sequence");
    if (ds->has_lengths)
        fprintf(out, "; lengths %d..%d (mean %.1f)", lmin, lmax, lsum / (double)ds->n);
    fprintf(out, "; valid\n");
    if (ds->description[0]) fprintf(out, "          %s\n", ds->description);
}

int inspect_file(FILE *out, const char *path, Error *e)
{
    hid_t f;
    if (h5io_open_read(&f, path, e)) return EXIT_USAGE;
    int is_ckpt = h5io_exists(f, "/params");
    H5Fclose(f);
    if (is_ckpt) return inspect_checkpoint(out, path, e);
    static const char *const groups[] = {"/", "/train", "/val", "/test"};
    int found = 0;
    for (int i = 0; i < 4; i++) {
        if (!dataset_has_group(path, groups[i])) continue;
        if (!found) fprintf(out, "%s: dataset\n", path);
        found++;
        Dataset ds;
        if (dataset_open(&ds, path, groups[i], 0, 0, 1, e)) return EXIT_USAGE;
        describe(out, &ds);
        dataset_close(&ds);
    }
    if (!found)
        return error_set(e, EXIT_USAGE,
                         "%s: no dataset found: neither a checkpoint (/params) nor a dataset "
                         "(inputs at the root, /train, /val or /test)",
                         path);
    return 0;
}
