/* inspect.c - describe datasets and checkpoints (see inspect.h). */
#include "inspect.h"

#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "dataset.h"
#include "h5io.h"
#include "model.h"

/* Does the file carry format_version, as every checkpoint of train does? */
static int written_by_train(const H5Input *in)
{
    return h5io_attr_exists(in->file, "/", "format_version");
}

/* Every field of the training state as stored (trainstate.h's table), as
 * name=value words wrapped under a "fields" heading. */
static void print_state_fields(FILE *out, const TrainState *st)
{
    int n, col = 0;
    const StateField *f = trainstate_fields(&n);
    for (int i = 0; i < n; i++) {
        char value[600], word[700];
        trainstate_field_text(value, sizeof value, st, &f[i]);
        snprintf(word, sizeof word, "%s=%s%s", f[i].name, value[0] ? value : "\"\"",
                 i + 1 < n ? "," : "");
        int w = (int)strlen(word);
        if (col == 0 || col + 1 + w > 96) {
            fputs(col ? "\n           " : "  fields   ", out);
            col = 11;
        } else {
            fputc(' ', out);
            col++;
        }
        fputs(word, out);
        col += w;
    }
    fputc('\n', out);
}

/* Describe the checkpoint (or parameter file) open in `in`. */
static int inspect_checkpoint(FILE *out, const H5Input *in, Error *e)
{
    const char *path = in->path;
    ModelSpec s;
    if (checkpoint_read_spec_in(&s, in, e)) return EXIT_USAGE;
    /* a damaged checkpoint of rnn_dist train is reported as such first */
    int by_train = written_by_train(in);
    if (by_train && checkpoint_verify_in(in, e)) return EXIT_USAGE;
    if (checkpoint_check_params_in(&s, in, e)) return EXIT_USAGE;
    Model m;
    model_create(&m, &s);
    TrainState st;
    /* a params-only (init) file has no format_version and no state */
    int rc = by_train ? checkpoint_load_in(&m, NULL, &st, in, e)
                      : checkpoint_load_params_in(&m, in, e);
    int has_state = by_train && rc == 0;
    if (rc) {
        model_free(&m);
        return rc;
    }
    fprintf(out, "%s: rnn_dist checkpoint\n", path);
    fprintf(out, "  model    %s", cell_name(s.cell));
    if (s.cell == CELL_RNN) fprintf(out, " (%s)", types_enum_name(&NONLIN_NAMES, s.act));
    fprintf(out, ", hidden %d, layers %d%s, %s input", s.hidden, s.layers,
            s.bidirectional ? " x 2 directions" : "",
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
    if (has_state) print_state_fields(out, &st);
    fprintf(out, "  parameters (%zu):\n", model_param_count(&m.table));
    for (int i = 0; i < m.table.count; i++) {
        const ParamInfo *p = &m.table.p[i];
        size_t n = (size_t)p->rows * (p->cols ? p->cols : 1);
        double ss = 0;
        for (size_t k = 0; k < n; k++)
            ss += (double)m.params[p->offset + k] * m.params[p->offset + k];
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

/* Describe every dataset group of the file open in `in`. */
static int inspect_dataset(FILE *out, const H5Input *in, Error *e)
{
    static const char *const groups[] = {"/", "/train", "/val", "/test"};
    int found = 0;
    for (int i = 0; i < 4; i++) {
        if (!dataset_has_group_in(in, groups[i])) continue;
        if (!found) fprintf(out, "%s: dataset\n", in->path);
        found++;
        Dataset ds;
        if (dataset_open_in(&ds, in, groups[i], 0, 0, 1, e)) return EXIT_USAGE;
        describe(out, &ds);
        dataset_close(&ds);
    }
    if (!found)
        return error_set(e, EXIT_USAGE,
                         "%s: no dataset found: neither a checkpoint (/params) nor a dataset "
                         "(inputs at the root, /train, /val or /test)",
                         in->path);
    return 0;
}

int inspect_file(FILE *out, const char *path, Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, path, e)) return EXIT_USAGE;
    int rc = h5io_exists(in.file, "/params") ? inspect_checkpoint(out, &in, e)
                                             : inspect_dataset(out, &in, e);
    h5io_input_close(&in);
    return rc;
}
