#include "parity.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "verdict.h"

const char SB_PARITY_ROW_RULE[] =
    "per row: ratio = |t - t_ref|_inf / bound <= threshold (1), worst row gated; "
    "bound = 10 sqrt(p) beta eps G + 2 s, beta = 1/lambda_min(H(t_ref)) (the full Hessian), "
    "G = max_a sum_c |J|_ac (|v|_c + |x|_c) (the magnitude of the gradient's terms), "
    "s = 1e-12 (1 + |t_ref|_2) (the refinement's stopping distance), eps = 2^-53";

const char SB_PARITY_RULE[] =
    "ratio = max(sr/30, sr_oracle/30, rel_err/bound) <= threshold (1); "
    "sr = ||b - A x||_inf / (||A||_inf ||x||_inf N eps), bound = 10 sqrt(N) kappa_est eps, "
    "kappa_est = 1/rcond (LAPACK's 1-norm estimator dlacn2, as in dpocon, on the oracle's factor), eps = 2^-53";

double sb_parity_scaled_residual(double res_inf, double a_norm_inf, double x_norm_inf, int64_t order)
{
    if (isnan(res_inf) || isnan(a_norm_inf) || isnan(x_norm_inf))
        return NAN;
    if (res_inf == 0)
        return 0;
    double den = a_norm_inf * x_norm_inf * (double)order * SB_PARITY_EPS;
    return den > 0 ? res_inf / den : INFINITY;
}

double sb_parity_bound(double kappa_est, int64_t order)
{
    return SB_PARITY_BOUND_C * sqrt((double)order) * kappa_est * SB_PARITY_EPS;
}

double sb_parity_part(double err, double bound)
{
    /* err = 0 against bound = ∞ (a singular estimate) is 0, not NaN. */
    return err == 0 ? 0 : err / bound;
}

double sb_parity_worst(const double *parts, int n)
{
    double r = 0;
    for (int i = 0; i < n; i++)
        r = isnan(parts[i]) || isnan(r) ? NAN : fmax(r, parts[i]);
    return r;
}

double sb_parity_ratio3(double sr, double sr_oracle, double fe, double bound)
{
    double parts[3] = {sr / SB_PARITY_RESIDUAL_MAX, sr_oracle / SB_PARITY_RESIDUAL_MAX, sb_parity_part(fe, bound)};
    return sb_parity_worst(parts, 3);
}

double sb_parity_value_bound(double kappa_est, int64_t order, double magnitude)
{
    return (sb_parity_bound(kappa_est, order) + (double)order * SB_PARITY_EPS) * magnitude;
}

double sb_parity_logdet_bound(double kappa_est, int64_t order, double logdet)
{
    double c = SB_PARITY_BOUND_C * sqrt((double)order);
    return c * SB_PARITY_EPS * ((double)order * kappa_est + fabs(logdet));
}

void sb_parity_judge(sb_solve_parity *s)
{
    s->bound = sb_parity_bound(s->kappa_est, s->order);
    s->ratio = sb_parity_ratio3(s->scaled_residual, s->scaled_residual_oracle, s->rel_err, s->bound);
}

int sb_parity_passes(double ratio, double threshold) { return ratio <= threshold; }

cJSON *sb_parity_json(const sb_solve_parity *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "kappa_est", sb_json_number(s->kappa_est));
    cJSON_AddItemToObject(o, "scaled_residual", sb_json_number(s->scaled_residual));
    cJSON_AddItemToObject(o, "scaled_residual_oracle", sb_json_number(s->scaled_residual_oracle));
    cJSON_AddItemToObject(o, "rel_err", sb_json_number(s->rel_err));
    cJSON_AddItemToObject(o, "max_abs_err", sb_json_number(s->abs_err));
    cJSON_AddItemToObject(o, "bound", sb_json_number(s->bound));
    cJSON_AddItemToObject(o, "ratio", sb_json_number(s->ratio));
    cJSON_AddItemToObject(o, "estimate_s", sb_json_number(s->estimate_s));
    return o;
}

double sb_parity_row_bound(double beta, double grad_scale, double stop, int64_t order)
{
    return sb_parity_bound(beta * grad_scale, order) + 2.0 * stop;
}

void sb_parity_row_judge(sb_row_parity *s)
{
    s->bound = sb_parity_row_bound(s->beta, s->grad_scale, s->stop, s->order);
    s->ratio = sb_parity_part(s->abs_err, s->bound);
}

cJSON *sb_parity_row_json(const sb_row_parity *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "row", (double)s->row);
    cJSON_AddItemToObject(o, "beta", sb_json_number(s->beta));
    cJSON_AddItemToObject(o, "grad_scale", sb_json_number(s->grad_scale));
    cJSON_AddItemToObject(o, "stop", sb_json_number(s->stop));
    cJSON_AddItemToObject(o, "abs_err", sb_json_number(s->abs_err));
    cJSON_AddItemToObject(o, "bound", sb_json_number(s->bound));
    cJSON_AddItemToObject(o, "ratio", sb_json_number(s->ratio));
    return o;
}
