/* test_scoring.c - eval's scores (scoring.h): the confusion matrix and the
 * per-class counts over valid steps only, f1_macro as scikit-learn's macro
 * average (classes never seen left out), per-sequence targets, errors in
 * original units, and the matrix dropped past SCORES_CONFUSION_MAX classes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scoring.h"

/* Per-step classes, T = 2, B = 3, C = 4, row 2 padded after one step:
 * outputs row t*B + b; the largest output is the predicted class. */
static void test_step_confusion(void **state)
{
    (void)state;
    /* predicted: t0: 0 1 2; t1: 0 2 (3, padded) */
    const float out[6 * 4] = {5, 0, 0, 0,  0, 5, 0, 0,  0, 0, 5, 0,
                              5, 0, 0, 0,  0, 0, 5, 0,  0, 0, 0, 5};
    const int32_t y[6] = {0, 1, 1, 2, 2, 3}, len[3] = {2, 2, 1};
    Batch b = {3, 2, NULL, NULL, len, y, NULL, NULL};
    Scores s;
    scores_init(&s, LOSS_CE, TARGET_STEP, 4, NULL);
    assert_true(s.confusion);
    scores_add(&s, out, &b);
    /* counted (true, predicted): (0,0) (1,1) (1,2) (2,0) (2,2); the padded (3,3) not */
    const double want[4][4] = {{1, 0, 0, 0}, {0, 1, 1, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) assert_true(scores_confusion(&s, i, j) == want[i][j]);
    /* F1: class 0 2/(2+1+0) = 2/3, class 1 2/(2+0+1) = 2/3, class 2
     * 2/(2+1+1) = 1/2; class 3 never true nor predicted: left out */
    assert_true(fabs(scores_f1_macro(&s) - (2.0 / 3 + 2.0 / 3 + 0.5) / 3) < 1e-15);
    scores_free(&s);
}

/* Per-sequence classes: every row counts; ties go to the first class. */
static void test_last_and_ties(void **state)
{
    (void)state;
    const float out[3 * 2] = {1, 1, 0, 2, 3, 0};
    const int32_t y[3] = {1, 1, 0}, len[3] = {1, 4, 2};
    Batch b = {3, 4, NULL, NULL, len, y, NULL, NULL};
    Scores s;
    scores_init(&s, LOSS_CE, TARGET_LAST, 2, NULL);
    scores_add(&s, out, &b);
    assert_true(scores_confusion(&s, 1, 0) == 1 && scores_confusion(&s, 1, 1) == 1);
    assert_true(scores_confusion(&s, 0, 0) == 1 && scores_confusion(&s, 0, 1) == 0);
    /* class 0: 2/(2+1) ; class 1: 2/(2+1) */
    assert_true(fabs(scores_f1_macro(&s) - 2.0 / 3) < 1e-15);
    scores_free(&s);
    scores_init(&s, LOSS_CE, TARGET_LAST, 2, NULL);
    assert_true(isnan(scores_f1_macro(&s)));
    scores_free(&s);
}

/* Many classes: no matrix, the per-class counts and F1 still kept. */
static void test_many_classes(void **state)
{
    (void)state;
    const int C = SCORES_CONFUSION_MAX + 1;
    Scores s;
    scores_init(&s, LOSS_CE, TARGET_LAST, C, NULL);
    assert_false(s.confusion);
    assert_int_equal(s.n_sum, 3 * (size_t)C);
    float out[2 * SCORES_CONFUSION_MAX + 2];
    memset(out, 0, sizeof out);
    out[7] = 1;
    out[C + 7] = 1;
    const int32_t y[2] = {7, 9}, len[2] = {1, 1};
    Batch b = {2, 1, NULL, NULL, len, y, NULL, NULL};
    scores_add(&s, out, &b);
    /* class 7: tp 1, fp 1 -> 2/3; class 9: fn 1 -> 0 */
    assert_true(fabs(scores_f1_macro(&s) - (2.0 / 3) / 2) < 1e-15);
    scores_free(&s);
}

/* Values: errors scaled by each output's std; padded steps skipped. */
static void test_value_errors(void **state)
{
    (void)state;
    const double std[2] = {2.0, 10.0};
    const float out[2 * 2 * 2] = {1, 1, 0, 0, 5, 5, 9, 9};
    const float y[2 * 2 * 2] = {0, 1, 0, 0.5f, 5, 4, 0, 0};
    const int32_t len[2] = {2, 1};
    Batch b = {2, 2, NULL, NULL, len, NULL, y, NULL};
    Scores s;
    scores_init(&s, LOSS_MSE, TARGET_STEP, 2, std);
    scores_add(&s, out, &b);
    /* errors: (1*2, 0), (0, -0.5*10), (0, 1*10); row (1, t1) padded */
    assert_true(s.sum[0] == 4 + 25 + 100 && s.sum[1] == 2 + 5 + 10);
    assert_true(fabs(scores_rmse(&s, 6) - sqrt(129.0 / 6)) < 1e-15);
    assert_true(scores_mae(&s, 6) == 17.0 / 6);
    assert_true(isnan(scores_rmse(&s, 0)));
    scores_free(&s);
    /* without statistics nothing is summed */
    scores_init(&s, LOSS_MSE, TARGET_STEP, 2, NULL);
    scores_add(&s, out, &b);
    assert_true(s.sum[0] == 0 && s.sum[1] == 0);
    scores_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_confusion),
        cmocka_unit_test(test_last_and_ties),
        cmocka_unit_test(test_many_classes),
        cmocka_unit_test(test_value_errors),
    };
    return cmocka_run_group_tests_name("scoring", tests, NULL, NULL);
}
