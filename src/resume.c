/* resume.c - what --resume may change (see resume.h). */
#include "resume.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Is there nothing left to train under c? Fills why. */
static int finished(char *why, size_t len, const TrainState *st, const Config *c)
{
    if (c->max_steps > 0 && st->step >= c->max_steps) {
        snprintf(why, len, "max-steps %lld is reached (step %lld); raise --max-steps (0: no "
                 "limit) to train on", (long long)c->max_steps, (long long)st->step);
        return 1;
    }
    /* also mid-epoch: the epoch under way is then past the last one asked for */
    if (st->epoch >= c->epochs) {
        snprintf(why, len, "all %d epochs are done; raise --epochs to train on", c->epochs);
        return 1;
    }
    if (st->batch_in_epoch > 0) return 0;
    if (c->patience > 0 && st->bad_epochs >= c->patience) {
        snprintf(why, len, "it stopped early after epoch %lld (no improvement for %lld epochs, "
                 "patience %d); raise --patience (0: off) to train on", (long long)st->epoch,
                 (long long)st->bad_epochs, c->patience);
        return 1;
    }
    return 0;
}

/* Append "name a -> b" to buf (comma separated). */
static void add_change(char *buf, size_t len, const ConfigChange *ch)
{
    size_t used = strlen(buf);
    if (used + 8 >= len) return;
    snprintf(buf + used, len - used, "%s%s %s -> %s", used ? ", " : "", ch->name,
             ch->before[0] ? ch->before : "\"\"", ch->after[0] ? ch->after : "\"\"");
}

int resume_plan(ResumePlan *p, Config *c, const H5Input *in, FILE *out, Error *e)
{
    memset(p, 0, sizeof *p);
    char *text = NULL;
    const char *ckpt = in->path;
    if (checkpoint_read_state_in(&p->st, &text, in, e)) return EXIT_USAGE;
    Config stored;
    config_defaults(&stored);
    char where[sizeof in->path + 32];
    snprintf(where, sizeof where, "%s: stored config", ckpt);
    int rc = text[0] ? config_read_text(&stored, text, where, e) : 0;
    free(text);
    if (rc) return EXIT_USAGE;
    config_inherit(c, &stored);
    if (config_validate(c, e)) return EXIT_USAGE;
    if (finished(p->why, sizeof p->why, &p->st, c)) {
        p->finished = 1;
        return 0;
    }
    enum { CAP = 64 };
    ConfigChange ch[CAP];
    int n = config_diff(ch, CAP, &stored, c);
    if (n > CAP) n = CAP;
    char refused[2048] = "";
    for (int i = 0; i < n; i++) {
        int mid = p->st.batch_in_epoch > 0;
        if (ch[i].rule == RESUME_FIXED || (ch[i].rule == RESUME_MIDEPOCH && mid))
            add_change(refused, sizeof refused, &ch[i]);
        else if (ch[i].rule == RESUME_FUTURE || ch[i].rule == RESUME_MIDEPOCH)
            add_change(p->changes, sizeof p->changes, &ch[i]);
    }
    if (refused[0])
        return error_set(e, EXIT_USAGE, "--resume %s: these options decided the numbers already "
                         "computed and cannot change: %s%s; resume with the run's values, or "
                         "start a new run (another --run-dir, or --fresh)", ckpt, refused,
                         p->st.batch_in_epoch > 0 ? " (batch-size may change only at an epoch "
                                                    "boundary)" : "");
    for (int i = 0; i < n && out; i++)
        if (ch[i].rule == RESUME_FUTURE || ch[i].rule == RESUME_MIDEPOCH)
            fprintf(out, "resume: %s %s -> %s\n", ch[i].name, ch[i].before, ch[i].after);
    return 0;
}

int resume_check_data(const DataIdentity *stored, const DataIdentity *now, const char *role,
                      FILE *out, Error *e)
{
    if (stored->rows < 0) return 0; /* a checkpoint from before identities */
    if (!stored->file[0] && !now->file[0]) return 0;
    if (!stored->file[0] || !now->file[0])
        return error_set(e, EXIT_USAGE, "--resume: the run trained %s %s, this launch %s",
                         stored->file[0] ? "with" : "without", role,
                         stored->file[0] ? "has none" : "gives one");
    if (stored->rows != now->rows || stored->bytes != now->bytes || stored->hash != now->hash)
        return error_set(e, EXIT_USAGE, "--resume: %s %s is not the file this run trained on "
                         "(%s: %lld rows, %llu bytes, fingerprint %016llx; now %lld rows, %llu "
                         "bytes, fingerprint %016llx); resume with that file, or start a new run",
                         role, now->file, stored->file, (long long)stored->rows,
                         (unsigned long long)stored->bytes, (unsigned long long)stored->hash,
                         (long long)now->rows, (unsigned long long)now->bytes,
                         (unsigned long long)now->hash);
    if (strcmp(stored->file, now->file) != 0 && out)
        fprintf(out, "resume: %s moved: %s -> %s (same rows and contents)\n", role, stored->file,
                now->file);
    return 0;
}

int resume_log(const char *run_dir, const char *ckpt, const ResumePlan *p, int ranks, Error *e)
{
    char path[CFG_PATH + 32], when[32] = "?";
    snprintf(path, sizeof path, "%s/resumes.log", run_dir);
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    FILE *f = fopen(path, "a");
    int err = !f ? errno : 0;
    if (f && fprintf(f, "%s resumed from %s at epoch %lld, step %lld on %d rank%s; %s%s\n", when,
                     ckpt, (long long)p->st.epoch, (long long)p->st.step, ranks,
                     ranks == 1 ? "" : "s", p->changes[0] ? "changed: " : "no option changed",
                     p->changes) < 0)
        err = errno;
    if (f && fclose(f) && !err) err = errno;
    if (err) return error_set(e, EXIT_FAIL, "%s: cannot write: %s", path, strerror(err));
    return 0;
}
