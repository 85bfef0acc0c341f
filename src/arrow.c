/* The arrow-Schur system (docs/workloads.md §2, §3): fixture, the exact host
 * products the LM loop needs, and the LM loop itself (§2 LM loop; the same
 * loop runs inner-loop and each outer of outer-seq). Every sum here runs in
 * one fixed order, so a run is a pure function of its inputs and the solve
 * mode's steps: outer-seq compares a shared frame with a fresh one bit for
 * bit. */
#include "arrow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rs_fixture.h"

/* ------------------------------- sizes ------------------------------- */
static int add_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a)
        return 0;
    *out = a + b;
    return 1;
}

static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

uint64_t sb_arrow_doubles(int64_t n, int64_t p, int64_t d)
{
    if (n < 0 || p < 0 || d < 0)
        return 0;
    uint64_t nd, ndd, ndp, pp, total;
    if (!mul_ok((uint64_t)n, (uint64_t)d, &nd) || !mul_ok(nd, (uint64_t)d, &ndd) ||
        !mul_ok(nd, (uint64_t)p, &ndp) || !mul_ok((uint64_t)p, (uint64_t)p, &pp))
        return 0;
    /* Htt + B + Hbb + g_t + g_β */
    if (!add_ok(ndd, ndp, &total) || !add_ok(total, pp, &total) || !add_ok(total, nd, &total) ||
        !add_ok(total, (uint64_t)p, &total))
        return 0;
    return total;
}

/* ------------------------------ fixture ------------------------------ */
void sb_arrow_free(sb_arrow_system *sys)
{
    if (!sys)
        return;
    free(sys->Htt);
    free(sys->B);
    free(sys->Hbb);
    free(sys->g_t);
    free(sys->g_b);
    memset(sys, 0, sizeof *sys);
}

sb_rc sb_arrow_fixture(const sb_arrow_params *prm, sb_arrow_system *sys, sb_err *err)
{
    memset(sys, 0, sizeof *sys);
    const int64_t n = prm->n, p = prm->p, d = prm->d, nb = prm->basis_cols;
    if (n < 1 || p < 1 || d < 1 || nb < 1)
        return sb_fail(err, SB_E_INPUT, "arrow fixture needs n, p, d, basis_cols >= 1 (got %lld, %lld, %lld, %lld)",
                       (long long)n, (long long)p, (long long)d, (long long)nb);
    if (sb_arrow_doubles(n, p, d) == 0)
        return sb_fail(err, SB_E_INPUT, "arrow fixture n=%lld p=%lld d=%lld overflows", (long long)n,
                       (long long)p, (long long)d);
    const size_t nd = (size_t)n * (size_t)d;
    sys->n = n;
    sys->p = p;
    sys->d = d;
    sys->Htt = sb_alloc(nd * (size_t)d, sizeof(double), err);
    sys->B = sys->Htt ? sb_alloc(nd * (size_t)p, sizeof(double), err) : NULL;
    sys->Hbb = sys->B ? sb_alloc((size_t)p * (size_t)p, sizeof(double), err) : NULL;
    sys->g_t = sys->Hbb ? sb_alloc(nd, sizeof(double), err) : NULL;
    sys->g_b = sys->g_t ? sb_alloc((size_t)p, sizeof(double), err) : NULL;
    if (!sys->g_b) {
        sb_arrow_free(sys);
        return SB_E_RUNTIME;
    }

    /* target_x, drawn row-major; only ½‖target_x‖² enters φ, so it is
     * accumulated as drawn (the same row-major order as a stored array). */
    sb_splitmix rng;
    sb_splitmix_seed(&rng, prm->seed);
    double sq = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < p; j++) {
            double phase = (double)(i % 97) * 0.013 + (double)(j % 131) * 0.007;
            double x = 0.02 * sin(phase) + 0.001 * sb_splitmix_uniform(&rng);
            sq += x * x;
        }
    sys->half_target_energy = 0.5 * sq;

    /* The feature factor cos((j%257)·0.011) of B depends on j only. */
    double *feature = sb_alloc((size_t)p, sizeof(double), err);
    if (!feature) {
        sb_arrow_free(sys);
        return SB_E_RUNTIME;
    }
    for (int64_t j = 0; j < p; j++)
        feature[j] = cos((double)(j % 257) * 0.011);

    for (int64_t i = 0; i < n; i++) {
        /* basis b[i,a] = cos((i+1)(a+1)·0.003), gates 1 */
        double bsum = 0.0;
        for (int64_t a = 0; a < nb; a++)
            bsum += cos((double)(i + 1) * (double)(a + 1) * 0.003) * 1.0;
        double *H = sys->Htt + (size_t)i * (size_t)(d * d);
        for (int64_t r = 0; r < d; r++)
            for (int64_t c = 0; c < d; c++)
                H[r * d + c] = r == c ? 3.0 + 0.01 * fabs(bsum) + 0.1 * (double)r
                                      : 0.02 * sin(bsum + (double)(r + c)) / (double)d;
        for (int64_t r = 0; r < d; r++)
            for (int64_t c = 0; c < r; c++) {
                double avg = 0.5 * (H[r * d + c] + H[c * d + r]);
                H[r * d + c] = avg;
                H[c * d + r] = avg;
            }
        for (int64_t r = 0; r < d; r++)
            H[r * d + r] += prm->htt_shift;
        double *Bi = sys->B + (size_t)i * (size_t)(d * p);
        for (int64_t r = 0; r < d; r++) {
            double s = 1.0e-4 * sin(bsum + (double)r);
            for (int64_t j = 0; j < p; j++)
                Bi[r * p + j] = s * feature[j];
            sys->g_t[i * d + r] = 0.01 * sin(bsum + (double)r);
        }
    }
    free(feature);

    for (int64_t r = 0; r < p; r++) {
        sys->Hbb[r * p + r] = 4.0;
        if (r + 1 < p) {
            sys->Hbb[r * p + r + 1] = 0.01;
            sys->Hbb[(r + 1) * p + r] = 0.01;
        }
    }
    for (int64_t j = 0; j < p; j++)
        sys->g_b[j] = 0.001 * sin((double)(j % 193) * 0.017);
    return SB_OK;
}

void sb_arrow_outer_gradient(int64_t n, int64_t p, int64_t d, int64_t s, double *g_t, double *g_b)
{
    for (int64_t k = 0; k < n * d; k++)
        g_t[k] = 0.01 * sin((double)(k + 3 * s) * 0.002);
    for (int64_t j = 0; j < p; j++)
        g_b[j] = 0.001 * cos((double)(j + 11 * s) * 0.0009);
}

/* --------------------------- host products --------------------------- */
void sb_arrow_residual(const sb_arrow_system *sys, const double *g_t, const double *g_b,
                       const double *t, const double *beta, double *r_t, double *r_b)
{
    const int64_t n = sys->n, p = sys->p, d = sys->d;
    /* r_t,i = H_tt,i t_i + B_i β − g_t,i: each entry one sum (Htt part, then
     * B part), rows independent. */
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const double *H = sys->Htt + i * d * d, *Bi = sys->B + i * d * p, *ti = t + i * d;
        for (int64_t r = 0; r < d; r++) {
            double hz = 0.0;
            for (int64_t c = 0; c < d; c++)
                hz += H[r * d + c] * ti[c];
            const double *Br = Bi + r * p;
            for (int64_t j = 0; j < p; j++)
                hz += Br[j] * beta[j];
            r_t[i * d + r] = hz - g_t[i * d + r];
        }
    }
    /* r_β[j] = (H_ββ β)[j] + Σ_i Σ_r B_i[r][j] t_i[r] − g_β[j], each entry one
     * running sum in the order (c), then (i, r). The B part streams B row-major
     * with r_β as the accumulator; threads own disjoint column ranges, so every
     * entry sees the same additions in the same order at any thread count. */
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < p; j++) {
        const double *Hr = sys->Hbb + j * p;
        double hz = 0.0;
        for (int64_t c = 0; c < p; c++)
            hz += Hr[c] * beta[c];
        r_b[j] = hz;
    }
    const int64_t block = 512;
#pragma omp parallel for schedule(static)
    for (int64_t j0 = 0; j0 < p; j0 += block) {
        int64_t j1 = j0 + block < p ? j0 + block : p;
        for (int64_t i = 0; i < n; i++)
            for (int64_t r = 0; r < d; r++) {
                const double *Br = sys->B + (i * d + r) * p;
                double tr = t[i * d + r];
                for (int64_t j = j0; j < j1; j++)
                    r_b[j] += Br[j] * tr;
            }
    }
    for (int64_t j = 0; j < p; j++)
        r_b[j] -= g_b[j];
}

double sb_arrow_norm_inf(const sb_arrow_system *sys, double ridge_t, double ridge_b)
{
    const int64_t n = sys->n, p = sys->p, d = sys->d;
    double worst = 0.0;
    double *col = calloc((size_t)p, sizeof *col); /* Σ_i Σ_r |B_i[r][j]|: the β rows' border part */
    if (!col)
        return NAN;
    for (int64_t i = 0; i < n; i++)
        for (int64_t r = 0; r < d; r++) {
            const double *H = sys->Htt + (i * d + r) * d, *Br = sys->B + (i * d + r) * p;
            double s = 0.0;
            for (int64_t c = 0; c < d; c++)
                s += fabs(H[c] + (c == r ? ridge_t : 0.0));
            for (int64_t j = 0; j < p; j++) {
                s += fabs(Br[j]);
                col[j] += fabs(Br[j]);
            }
            worst = fmax(worst, s);
        }
    for (int64_t j = 0; j < p; j++) {
        const double *Hr = sys->Hbb + j * p;
        double s = col[j];
        for (int64_t c = 0; c < p; c++)
            s += fabs(Hr[c] + (c == j ? ridge_b : 0.0));
        worst = fmax(worst, s);
    }
    free(col);
    return worst;
}

/* zᵀHz in the seed's order: per row Σ_r t_r (H_tt t + 2 B β)_r, then Σ_j β_j (H_ββ β)_j. */
static double quad_form(const sb_arrow_system *sys, const double *t, const double *beta)
{
    const int64_t n = sys->n, p = sys->p, d = sys->d;
    double quad = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double *H = sys->Htt + i * d * d, *Bi = sys->B + i * d * p, *ti = t + i * d;
        for (int64_t r = 0; r < d; r++) {
            double htt_t = 0.0, htb_b = 0.0;
            for (int64_t c = 0; c < d; c++)
                htt_t += H[r * d + c] * ti[c];
            const double *Br = Bi + r * p;
            for (int64_t j = 0; j < p; j++)
                htb_b += Br[j] * beta[j];
            quad += ti[r] * (htt_t + 2.0 * htb_b);
        }
    }
    for (int64_t r = 0; r < p; r++) {
        const double *Hr = sys->Hbb + r * p;
        double hbb_b = 0.0;
        for (int64_t c = 0; c < p; c++)
            hbb_b += Hr[c] * beta[c];
        quad += beta[r] * hbb_b;
    }
    return quad;
}

/* aᵀb + cᵀe over (t, β) as one running sum, t part first. */
static double dot_pair(const double *a, const double *b, int64_t na, const double *c, const double *e, int64_t nc)
{
    double s = 0.0;
    for (int64_t k = 0; k < na; k++)
        s += a[k] * b[k];
    for (int64_t k = 0; k < nc; k++)
        s += c[k] * e[k];
    return s;
}

double sb_arrow_objective(const sb_arrow_system *sys, const double *g_t, const double *g_b,
                          const double *t, const double *beta)
{
    double quad = quad_form(sys, t, beta);
    double lin = dot_pair(g_t, t, sys->n * sys->d, g_b, beta, sys->p);
    return sys->half_target_energy + 0.5 * quad - lin;
}

double sb_arrow_predicted_reduction(const sb_arrow_system *sys, const double *r_t, const double *r_b,
                                    const double *dt, const double *db)
{
    double lin = dot_pair(r_t, dt, sys->n * sys->d, r_b, db, sys->p);
    return -(lin + 0.5 * quad_form(sys, dt, db));
}

/* ------------------------------ the LM loop ------------------------------ */
void sb_lm_default_opts(sb_lm_opts *o)
{
    o->max_iterations = 16;
    o->tolerance = 1e-9;
    o->grow = 4.0;
    o->shrink = 0.5;
    o->max_ridge = 1e9;
    o->ridge_t0 = 0.0;
    o->ridge_b0 = 0.0;
}

/* A zero ridge starts at 1e-6, any other grows by `grow` (docs/workloads.md §2 LM loop). */
static double lm_grow_ridge(double ridge, double grow) { return ridge == 0.0 ? 1e-6 : ridge * grow; }

/* ‖a‖² + ‖b‖², one running sum over a then b (‖r‖² in docs/workloads.md §2 LM loop). */
static double norm2_pair(const double *a, int64_t na, const double *b, int64_t nb)
{
    return dot_pair(a, a, na, b, b, nb);
}

/* The step's gain ratio with the noise floor keyed to |φ| (docs/workloads.md §2 LM loop):
 * a predicted reduction inside the floor counts as a hit unless φ rose past it. */
static double lm_gain_ratio(double objective, double trial, double predicted)
{
    double noise_floor = fabs(objective) * 1e-14;
    double actual = objective - trial;
    if (predicted > noise_floor)
        return actual / predicted;
    return actual >= -noise_floor ? 1.0 : -1.0;
}

/* Grow both ridges after a reject or a factor failure; 1 when either passed
 * max_ridge (the loop stops with ridge_exceeded). */
static int lm_grow_both(double *ridge_t, double *ridge_b, const sb_lm_opts *o)
{
    *ridge_t = lm_grow_ridge(*ridge_t, o->grow);
    *ridge_b = lm_grow_ridge(*ridge_b, o->grow);
    return *ridge_t > o->max_ridge || *ridge_b > o->max_ridge;
}

sb_rc sb_lm_run(const sb_arrow_system *sys, const double *g_t, const double *g_b,
                const sb_arrow_ops *ops, void *state, sb_lm_frame *frame,
                const sb_lm_opts *opts, sb_lm_result *res, sb_err *err)
{
    const int64_t nd = sys->n * sys->d, p = sys->p;
    double *t = res->t, *beta = res->beta;
    memset(t, 0, (size_t)nd * sizeof *t);
    memset(beta, 0, (size_t)p * sizeof *beta);
    memset(res->dt, 0, (size_t)nd * sizeof *res->dt);
    memset(res->db, 0, (size_t)p * sizeof *res->db);
    res->gradient_norm = 0.0;
    res->final_gradient_norm = 0.0;
    res->logdet = 0.0;
    res->iterations = res->accepted = res->rejected = res->factor_failures = 0;
    res->converged = 0;
    res->ridge_exceeded = 0;
    res->solves = 0;
    res->step_ridge_t = res->step_ridge_b = NAN;
    res->kappa_est = NAN;

    /* scratch: r(z), the step, the trial iterate */
    size_t len = (size_t)(nd + p);
    double *buf = sb_alloc(3 * len, sizeof(double), err);
    if (!buf)
        return SB_E_RUNTIME;
    double *r_t = buf, *r_b = r_t + nd;
    double *s_t = buf + len, *s_b = s_t + nd;
    double *trial_t = buf + 2 * len, *trial_b = trial_t + nd;

    sb_rc rc = SB_OK;
    double ridge_t = fmax(opts->ridge_t0, 0.0), ridge_b = fmax(opts->ridge_b0, 0.0);
    double objective = sb_arrow_objective(sys, g_t, g_b, t, beta);
    double g_norm = 0.0;
    int residual_current = 0; /* r_t/r_b hold r at the current z */

    while (res->iterations < opts->max_iterations) {
        sb_arrow_residual(sys, g_t, g_b, t, beta, r_t, r_b);
        residual_current = 1;
        g_norm = sqrt(norm2_pair(r_t, nd, r_b, p));
        /* ‖z‖: ‖t‖² and ‖β‖² summed apart, then added (docs/workloads.md §2 LM loop) */
        double scale = 1.0 + sqrt(norm2_pair(t, nd, NULL, 0) + norm2_pair(beta, p, NULL, 0));
        if (g_norm / scale < opts->tolerance) {
            res->converged = 1;
            break;
        }

        /* The factors are keyed by their ridges: an unchanged ridge reuses them. */
        if (!frame->valid || frame->ridge_t != ridge_t || frame->ridge_b != ridge_b ||
            frame->refactor_every_iterate) {
            frame->valid = 0;
            int pd = 0;
            double logdet = 0.0;
            rc = ops->factor(state, ridge_t, ridge_b, &pd, &logdet, err);
            if (rc != SB_OK)
                goto done;
            if (!pd) {
                res->factor_failures++;
                res->iterations++;
                if (lm_grow_both(&ridge_t, &ridge_b, opts)) {
                    res->ridge_exceeded = 1;
                    break;
                }
                continue;
            }
            frame->valid = 1;
            frame->ridge_t = ridge_t;
            frame->ridge_b = ridge_b;
            frame->logdet = logdet;
            frame->builds++;
        }

        rc = ops->solve(state, r_t, r_b, s_t, s_b, err);
        if (rc != SB_OK)
            goto done;
        res->solves++;

        double predicted = sb_arrow_predicted_reduction(sys, r_t, r_b, s_t, s_b);
        for (int64_t k = 0; k < nd; k++)
            trial_t[k] = t[k] + s_t[k];
        for (int64_t j = 0; j < p; j++)
            trial_b[j] = beta[j] + s_b[j];
        double trial = sb_arrow_objective(sys, g_t, g_b, trial_t, trial_b);
        double rho = lm_gain_ratio(objective, trial, predicted);

        res->iterations++;
        if (rho > 0.0 && isfinite(trial)) {
            memcpy(t, trial_t, (size_t)nd * sizeof *t);
            memcpy(beta, trial_b, (size_t)p * sizeof *beta);
            memcpy(res->dt, s_t, (size_t)nd * sizeof *s_t);
            memcpy(res->db, s_b, (size_t)p * sizeof *s_b);
            residual_current = 0;
            objective = trial;
            ridge_t = fmax(ridge_t * opts->shrink, 0.0);
            ridge_b = fmax(ridge_b * opts->shrink, 0.0);
            res->gradient_norm = g_norm;
            res->logdet = frame->logdet;
            res->step_ridge_t = frame->ridge_t;
            res->step_ridge_b = frame->ridge_b;
            if (res->step_r) {
                memcpy(res->step_r, r_t, (size_t)nd * sizeof *r_t);
                memcpy(res->step_r + nd, r_b, (size_t)p * sizeof *r_b);
            }
            if (ops->condition)
                res->kappa_est = ops->condition(state);
            res->accepted++;
        } else {
            res->rejected++;
            if (lm_grow_both(&ridge_t, &ridge_b, opts)) {
                res->ridge_exceeded = 1;
                break;
            }
        }
    }

    if (!residual_current) {
        sb_arrow_residual(sys, g_t, g_b, t, beta, r_t, r_b);
        g_norm = sqrt(norm2_pair(r_t, nd, r_b, p));
    }
    res->final_gradient_norm = g_norm;
done:
    res->objective = objective;
    res->ridge_t = ridge_t;
    res->ridge_b = ridge_b;
    free(buf);
    return rc;
}
