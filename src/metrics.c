/* metrics.c - metrics.csv and progress output (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double metrics_clock_cost(void)
{
    double least = 1.0;
    for (int i = 0; i < 16; i++) {
        const double a = metrics_now(), b = metrics_now();
        if (b - a < least) least = b - a;
    }
    return least;
}

static void header(FILE *f, int is_class)
{
    const char *m = is_class ? "acc" : "rmse";
    fprintf(f,
            "epoch,step,lr,train_loss,train_%s,val_loss,val_%s,grad_norm,seq_per_s,seconds,"
            "skipped\n",
            m, m);
}

int metrics_open(Metrics *mt, const char *run_dir, int is_class, int epochs,
                 int64_t keep_epochs, double progress_every, Error *e)
{
    memset(mt, 0, sizeof *mt);
    mt->is_class = is_class;
    mt->epochs = epochs;
    mt->every = progress_every;
    mt->last_line = metrics_now();
    /* under mpirun every rank's stdout is a pty whatever the final
     * destination (a SLURM log...), so live progress only runs alone */
    mt->tty = isatty(STDOUT_FILENO) && !getenv("OMPI_COMM_WORLD_SIZE");
    char path[2048], tmp[2100];
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    char *kept = NULL;
    size_t kept_len = 0;
    if (keep_epochs >= 0) {
        FILE *old = fopen(path, "r");
        if (old) {
            FILE *mem = open_memstream(&kept, &kept_len);
            char line[4096];
            int first = 1;
            while (fgets(line, sizeof line, old)) {
                if (first) {
                    first = 0;
                    continue;
                }
                if (strtoll(line, NULL, 10) <= keep_epochs) fputs(line, mem);
            }
            fclose(mem);
            fclose(old);
        }
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(kept);
        return error_set(e, EXIT_USAGE, "%s: cannot write: %s", tmp, strerror(errno));
    }
    header(f, is_class);
    if (kept) fwrite(kept, 1, kept_len, f);
    free(kept);
    int err = fflush(f) ? errno : 0;
    if (fclose(f) && !err) err = errno;
    if (!err && rename(tmp, path)) err = errno;
    if (err) {
        unlink(tmp);
        return error_set(e, EXIT_FAIL, "%s: cannot write: %s", path, strerror(err));
    }
    mt->csv = fopen(path, "a");
    if (!mt->csv) return error_set(e, EXIT_FAIL, "%s: cannot append: %s", path, strerror(errno));
    return 0;
}

void metrics_close(Metrics *mt)
{
    if (mt->csv) fclose(mt->csv);
    mt->csv = NULL;
}

static void cell(FILE *f, int present, double v)
{
    if (present) fprintf(f, "%.9g", v);
}

static void format_eta(char *buf, size_t len, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, len, "?");
    else if (s >= 3600)
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%.0fs", s);
}

void metrics_epoch(Metrics *mt, const EpochRow *r, double eta_seconds)
{
    FILE *f = mt->csv;
    if (f) {
        fprintf(f, "%lld,%lld,%.9g,%.9g,%.9g,", (long long)r->epoch, (long long)r->step, r->lr,
                r->train_loss, r->train_metric);
        cell(f, r->has_val, r->val_loss);
        fputc(',', f);
        cell(f, r->has_val, r->val_metric);
        fprintf(f, ",%.9g,%.6g,%.4f,%lld\n", r->grad_norm, r->seq_per_s, r->seconds,
                (long long)r->skipped);
        fflush(f);
    }
    const char *m = mt->is_class ? "acc" : "rmse";
    char eta[32];
    format_eta(eta, sizeof eta, eta_seconds);
    if (mt->tty) printf("\r\033[K");
    printf("epoch %lld/%d  step %lld  train_loss %.4f  train_%s %.4f", (long long)r->epoch,
           mt->epochs, (long long)r->step, r->train_loss, m, r->train_metric);
    if (r->has_val) printf("  val_loss %.4f  val_%s %.4f", r->val_loss, m, r->val_metric);
    if (r->skipped) printf("  skipped %lld", (long long)r->skipped);
    printf("  %.0f seq/s  %.2fs  eta %s\n", r->seq_per_s, r->seconds, eta);
    fflush(stdout);
}

/* A progress line for a log (stdout not a terminal): every mt->every seconds. */
static void progress_line(Metrics *mt, const ProgressTick *t)
{
    double now = metrics_now();
    if (!(mt->every > 0) || now - mt->last_line < mt->every) return;
    mt->last_line = now;
    char eta[32];
    format_eta(eta, sizeof eta, t->eta_run);
    printf("progress: epoch %lld/%d batch %lld/%lld step %lld loss %.4f %.0f seq/s eta %s\n",
           (long long)t->epoch, mt->epochs, (long long)t->batch, (long long)t->batches,
           (long long)t->step, t->loss, t->seq_per_s, eta);
    fflush(stdout);
}

void metrics_progress(Metrics *mt, const ProgressTick *t)
{
    if (!mt->tty) {
        progress_line(mt, t);
        return;
    }
    double now = metrics_now();
    if (now - mt->last_draw < 0.1 && t->batch < t->batches) return;
    mt->last_draw = now;
    int width = 24, fill = t->batches > 0 ? (int)(width * t->batch / t->batches) : width;
    char bar[32], eta[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    format_eta(eta, sizeof eta, t->eta_epoch);
    printf("\r\033[Kepoch %lld/%d [%s] %lld/%lld  loss %.4f  eta %s", (long long)t->epoch,
           mt->epochs, bar, (long long)t->batch, (long long)t->batches, t->loss, eta);
    fflush(stdout);
}
