/* evalreport.h - what eval prints (rank 0): `name value` lines or one JSON
 * object (docs/FORMAT.md, "What eval prints"). */
#ifndef RNN_EVALREPORT_H
#define RNN_EVALREPORT_H

#include <stdio.h>

#include "evaluate.h"

/* Print r (and sc's confusion matrix, when kept) to f: loss, then acc or
 * rmse and mae, the scores that apply (rmse_normalized and mae_normalized
 * with target statistics; f1_macro, bpc, perplexity and the confusion
 * matrix of a class model), n last. json: one object with every score.
 * Text: a line each; the confusion matrix only when `scores` is set (as
 * lines confusion[i]). NaN prints as null in JSON, nan in text. */
void evalreport_print(FILE *f, const ModelSpec *spec, const EvalResult *r, const Scores *sc,
                      int json, int scores);

#endif
