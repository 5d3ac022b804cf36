/* evalreport.c - eval's report (see evalreport.h). */
#include "evalreport.h"

#include <math.h>

/* One field: `"name": value` (JSON, after a comma unless first) or
 * `name value`. */
static void field(FILE *f, int json, int *first, const char *name, double v)
{
    if (json && isnan(v))
        fprintf(f, "%s\"%s\": null", *first ? "" : ", ", name);
    else if (json)
        fprintf(f, "%s\"%s\": %.9g", *first ? "" : ", ", name, v);
    else
        fprintf(f, "%s %.9g\n", name, v);
    *first = 0;
}

/* The confusion matrix: "confusion": [[...], ...] or lines confusion[i] ... */
static void confusion(FILE *f, int json, const Scores *sc)
{
    if (json) fprintf(f, ", \"confusion\": [");
    for (int i = 0; i < sc->C; i++) {
        if (json)
            fprintf(f, "%s[", i ? ", " : "");
        else
            fprintf(f, "confusion[%d]", i);
        for (int j = 0; j < sc->C; j++)
            fprintf(f, "%s%.0f", json ? (j ? ", " : "") : " ", scores_confusion(sc, i, j));
        fprintf(f, json ? "]" : "\n");
    }
    if (json) fprintf(f, "]");
}

void evalreport_print(FILE *f, const ModelSpec *s, const EvalResult *r, const Scores *sc,
                      int json, int scores)
{
    int first = 1, ce = s->loss == LOSS_CE;
    if (json) fprintf(f, "{");
    field(f, json, &first, "loss", r->loss);
    if (ce) {
        field(f, json, &first, "acc", r->acc);
    } else {
        field(f, json, &first, "rmse", r->rmse);
        field(f, json, &first, "mae", r->mae);
        if (sc->tg_std) {
            field(f, json, &first, "rmse_normalized", r->rmse_norm);
            field(f, json, &first, "mae_normalized", r->mae_norm);
        }
    }
    if (ce) {
        field(f, json, &first, "f1_macro", r->f1_macro);
        if (s->input == INPUT_TOKENS && s->target == TARGET_STEP) {
            field(f, json, &first, "bpc", r->bpc);
            field(f, json, &first, "perplexity", r->perplexity);
        }
        if (sc->confusion && (json || scores)) confusion(f, json, sc);
    }
    if (json)
        fprintf(f, ", \"n\": %.0f}\n", r->n);
    else
        fprintf(f, "n %.0f\n", r->n);
}
