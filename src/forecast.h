/* forecast.h - forecasting a series past the end of each window: a value
 * model that predicts the next value of its own inputs (dense inputs, value
 * targets at the last step, out == features) is fed its own prediction as
 * the next input step, K times.
 *
 * Method: for k = 0 .. K-1, the window extended by the k steps predicted so
 * far (T + k steps; each row at its own length) is run through model_forward
 * again, and its output at the last valid step is forecast step k. That is
 * K forward passes over up to T + K steps per batch, O(K * (T + K)) cell
 * steps: simple and exact, fine for small K.
 *
 * Units: the model works in the units of the stored data; with statistics
 * (scale.h) each prediction is taken to the original units (target_std,
 * target_mean), reported so, and fed back in the units of the stored inputs
 * (input_mean, input_std).
 */
#ifndef RNN_FORECAST_H
#define RNN_FORECAST_H

#include "check.h"
#include "dataset.h"
#include "model.h"
#include "scale.h"

/* Can a model of spec forecast (dense inputs, value targets, target last,
 * out == features)? EXIT_USAGE with one line naming ckpt and what it
 * predicts otherwise. */
int forecast_check_model(const ModelSpec *spec, const char *ckpt, Error *e);

/* Forecast `steps` steps past the end of every row of ds, `batch` rows a
 * forward pass, on the calling rank. last [steps, O] (caller's) receives
 * the forecast of the last row, in the original units when sc has
 * statistics. out_path non-NULL: also write it, a new HDF5 file with
 * /forecast float32 [N, steps, O] (rows in input order) and the root
 * attributes steps, out, units ("original" or "stored") and
 * rnn_dist_output = "forecast" (outfile.h). A stop signal ends it between
 * batches with EXIT_SIGNAL (the caller removes the partial file); a failed
 * write is EXIT_FAIL. */
int forecast_run(float *last, Model *m, Dataset *ds, const Scale *sc, int batch, int steps,
                 const char *out_path, Error *e);

#endif
