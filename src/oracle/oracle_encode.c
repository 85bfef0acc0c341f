/* The encode CPU reference (docs/workloads.md §5): the straightforward
 * per-row algorithm over full p-vectors, the oracle the fast path is checked
 * against. It shares no per-row math with the fast path (src/hostdev/encode_row.cuh)
 * or with the setup (src/encode_setup.c): its own basis evaluation (with
 * second derivatives), its own residuals, Jacobians and full Hessians over p,
 * its own warm-start solve. From the atlas it takes only the chart grid
 * (centres, radius) and, from the setup, the Lipschitz bound L.
 *
 * Per row (atom k, amplitude z, x ∈ R^p):
 *   route    dist_c = Σ_col (z·m₁,c − x)², m₁,c = B_kᵀΦ(t_c) over p; the
 *            SB_ENCODE_CANDIDATES smallest, ties to the lower chart, tried
 *            nearest first.
 *   start    t̂ = t_c + A₁(x − z·m₁)/z, A₁ = (J₁J₁ᵀ + 1e-9 I)⁻¹J₁, J₁ the d×p
 *            matrix of rows B_kᵀ∂_aΦ(t_c) (unit amplitude), solved with
 *            LAPACKE_dposv (t̂ = t_c if that factorisation fails).
 *   Newton   at t: r = z·B_kᵀΦ(t) − x, J_a = z·B_kᵀ∂_aΦ, g_a = J_a·r,
 *            H_ab = J_a·J_b + z·Σ_j ∂_a∂_bΦ_j (B_k,j·r), δ = −H⁻¹g by
 *            LAPACKE_dsyev; β = 1/λ_min(H), η = ‖δ‖₂, h = β·η·L with
 *            L = sb_encode_lipschitz(atlas, k, c, D, Z = z, T = ‖x‖).
 *            λ_min(H) ≤ 0 (or anything non-finite) abandons the candidate:
 *            no certificate exists there and the Newton direction is not a
 *            descent direction.
 *   accept   h ≤ ½, the iterate inside the chart (‖t − t_c‖∞ ≤ R) and the
 *            Kantorovich ball B(t, 2η) inside the box where L holds
 *            (‖t‖∞ + 2η ≤ sb_encode_lipschitz_region; always true for the
 *            periodic basis, practically always for the euclidean one). With
 *            h ≤ ½ the theorem puts a unique zero of the gradient within
 *            r* ≤ 2η of t, where λ_min(H) ≥ (1 − 2h)/β ≥ 0: a minimiser.
 *   navigate otherwise take the step t ← t + δ (up to SB_ENCODE_MAX_NEWTON
 *            steps); a step counts as progress when h_new ≤ (63/64)·h_prev,
 *            or when it converges quadratically, read as η_prev < 1 and
 *            η_new ≤ η_prev² (coordinates live in a box of width 1, so a unit
 *            step length is the natural scale); no progress abandons the
 *            candidate, so navigation terminates. Also abandoned early: an
 *            iterate with h ≤ ½, its ball inside the L box, and
 *            ‖t − t_c‖∞ > R + 2η — the Newton sequence stays in B(t, r*)
 *            and its limit lies outside the chart, so no later iterate could
 *            be accepted (the outcome is the same as running on).
 *   refine   SB_ENCODE_REFINE more Newton steps, each skipped (and the rest
 *            with it) when ‖δ‖ ≤ 1e-12(1 + ‖t‖₂).
 *   keep     the certified candidate with the smallest ‖z·B_kᵀΦ(t) − x‖
 *            (ties to the earlier candidate); stop trying candidates once
 *            that error ≤ 1e-11(1 + ‖x‖).
 * Result per row: t (periodic: wrapped to [−0.5, 0.5) by t − ⌊t + ½⌋; the
 * charts and the Newton iterates themselves never wrap — the grid's end
 * charts at ±0.5 overlap across the seam), h at acceptance, the
 * reconstruction error, the chart; steps = every Newton update applied to
 * the row over all candidates tried (navigation + refine). No certificate:
 * t = 0, h = ∞, recon_err = ‖x‖, chart = −1. */
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../encode.h"
#include "../parity.h"

/* ------------------------- the reference's basis ------------------------- */
typedef struct ref_basis {
    sb_basis_kind kind;
    int64_t d, D, m;
    int alpha[SB_ENCODE_MAX_M][SB_ENCODE_MAX_D];
} ref_basis;

/* Monomials of total degree `left` over axes a..d−1, the exponent of each
 * axis taken from high to low: the lexicographic order, t₀ descending. */
static void ref_enumerate(ref_basis *b, int *e, int64_t a, int left, int64_t *j)
{
    if (a == b->d - 1) {
        e[a] = left;
        memcpy(b->alpha[*j], e, (size_t)b->d * sizeof(int));
        (*j)++;
        return;
    }
    for (int x = left; x >= 0; x--) {
        e[a] = x;
        ref_enumerate(b, e, a + 1, left - x, j);
    }
}

/* 0 on bad sizes. */
static int ref_basis_init(ref_basis *b, sb_basis_kind kind, int64_t d, int64_t D)
{
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->d = d;
    b->D = D;
    if (d < 1 || d > SB_ENCODE_MAX_D || D < 1)
        return 0;
    if (kind == SB_BASIS_PERIODIC) {
        if (d != 1 || 2 * D + 1 > SB_ENCODE_MAX_M)
            return 0;
        b->m = 2 * D + 1;
        return 1;
    }
    /* count first: C(d + D, D) must fit */
    double count = 1;
    for (int64_t i = 1; i <= d; i++)
        count = count * (double)(D + i) / (double)i;
    if (count > SB_ENCODE_MAX_M + 0.5)
        return 0;
    int e[SB_ENCODE_MAX_D] = {0};
    int64_t j = 0;
    for (int g = 0; g <= (int)D; g++)
        ref_enumerate(b, e, 0, g, &j);
    b->m = j;
    return 1;
}

/* x^e for integer e ≥ 0 (x^0 = 1, also for x = 0). */
static double ipow(double x, int e)
{
    double r = 1.0;
    for (int i = 0; i < e; i++)
        r *= x;
    return r;
}

/* ∂^cnt of Π_a t_a^α_a: Π_a α_a!/(α_a − cnt_a)! · t_a^(α_a − cnt_a). */
static double mono_deriv(const int *alpha, const int *cnt, const double *t, int64_t d)
{
    double v = 1.0;
    for (int64_t a = 0; a < d; a++) {
        if (cnt[a] > alpha[a])
            return 0.0;
        for (int q = 0; q < cnt[a]; q++)
            v *= (double)(alpha[a] - q);
        v *= ipow(t[a], alpha[a] - cnt[a]);
    }
    return v;
}

/* Φ (m), ∂_aΦ (d·m, a-major), ∂_a∂_bΦ ((a·d + b)·m + j); NULL skips. */
static void ref_basis_eval(const ref_basis *b, const double *t, double *phi, double *dphi, double *d2phi)
{
    const int64_t d = b->d, m = b->m;
    if (b->kind == SB_BASIS_PERIODIC) {
        for (int64_t j = 0; j < m; j++) {
            /* j = 0: constant; odd j: sin(2πνt); even j > 0: cos(2πνt); ν = ⌈j/2⌉ */
            int64_t nu = (j + 1) / 2;
            double w = 2.0 * M_PI * (double)nu, s = sin(w * t[0]), c = cos(w * t[0]);
            double f0, f1, f2;
            if (j == 0) {
                f0 = 1.0, f1 = 0.0, f2 = 0.0;
            } else if (j % 2 == 1) {
                f0 = s, f1 = w * c, f2 = -w * w * s;
            } else {
                f0 = c, f1 = -w * s, f2 = -w * w * c;
            }
            if (phi)
                phi[j] = f0;
            if (dphi)
                dphi[j] = f1;
            if (d2phi)
                d2phi[j] = f2;
        }
        return;
    }
    for (int64_t j = 0; j < m; j++) {
        int cnt[SB_ENCODE_MAX_D] = {0};
        if (phi)
            phi[j] = mono_deriv(b->alpha[j], cnt, t, d);
        for (int64_t a = 0; a < d; a++) {
            cnt[a]++;
            if (dphi)
                dphi[a * m + j] = mono_deriv(b->alpha[j], cnt, t, d);
            if (d2phi)
                for (int64_t c = 0; c < d; c++) {
                    cnt[c]++;
                    d2phi[(a * d + c) * m + j] = mono_deriv(b->alpha[j], cnt, t, d);
                    cnt[c]--;
                }
            cnt[a]--;
        }
    }
}

void sb_encode_ref_basis(sb_basis_kind basis, int64_t d, int64_t D, const double *t, double *phi, double *dphi,
                         double *d2phi)
{
    ref_basis b;
    if (ref_basis_init(&b, basis, d, D))
        ref_basis_eval(&b, t, phi, dphi, d2phi);
}

/* ---------------------------- per-row math ---------------------------- */
/* Plain loops, not BLAS level 1: these run inside OpenMP threads, and a
 * threaded BLAS must not start threads of its own there. */
static double dot(const double *a, const double *b, int64_t p)
{
    double s = 0.0;
    for (int64_t c = 0; c < p; c++)
        s += a[c] * b[c];
    return s;
}

static void axpy(double alpha, const double *x, double *y, int64_t p)
{
    for (int64_t c = 0; c < p; c++)
        y[c] += alpha * x[c];
}

typedef struct ref_work {
    double *v, *r, *J; /* p, p, d·p */
} ref_work;

/* One buffer for v, r and J; 0 when out of memory (err says so). */
static int ref_work_alloc(ref_work *w, int64_t p, int64_t d, sb_err *err)
{
    w->v = sb_alloc((size_t)(p * (2 + d)), sizeof(double), err);
    if (!w->v)
        return 0;
    w->r = w->v + p;
    w->J = w->r + p;
    return 1;
}

/* r = z·B_kᵀΦ(t) − x into w->r; returns ‖r‖. */
static double ref_residual(const ref_basis *b, const double *Bk, int64_t p, double z, const double *x,
                           const double *t, ref_work *w)
{
    double phi[SB_ENCODE_MAX_M];
    ref_basis_eval(b, t, phi, NULL, NULL);
    for (int64_t c = 0; c < p; c++)
        w->r[c] = -x[c];
    for (int64_t j = 0; j < b->m; j++)
        axpy(z * phi[j], Bk + j * p, w->r, p);
    return sqrt(dot(w->r, w->r, p));
}

/* f = ½‖r‖², g = Jᵀr, H (full) at t; all over p. */
static void ref_derivs(const ref_basis *b, const double *Bk, int64_t p, double z, const double *x,
                       const double *t, ref_work *w, double *f, double *g, double *H)
{
    const int64_t d = b->d, m = b->m;
    double dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M], d2phi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
    double rn = ref_residual(b, Bk, p, z, x, t, w);
    ref_basis_eval(b, t, NULL, dphi, d2phi);
    memset(w->J, 0, (size_t)(d * p) * sizeof(double));
    for (int64_t a = 0; a < d; a++)
        for (int64_t j = 0; j < m; j++)
            if (dphi[a * m + j] != 0.0)
                axpy(z * dphi[a * m + j], Bk + j * p, w->J + a * p, p);
    double br[SB_ENCODE_MAX_M];
    for (int64_t j = 0; j < m; j++)
        br[j] = dot(Bk + j * p, w->r, p);
    for (int64_t a = 0; a < d; a++) {
        g[a] = dot(w->J + a * p, w->r, p);
        for (int64_t c = 0; c < d; c++) {
            double second = 0.0;
            for (int64_t j = 0; j < m; j++)
                second += d2phi[(a * d + c) * m + j] * br[j];
            H[a * d + c] = dot(w->J + a * p, w->J + c * p, p) + z * second;
        }
    }
    /* the two triangles come from the same dot products in swapped order; make H exactly symmetric */
    for (int64_t a = 0; a < d; a++)
        for (int64_t c = 0; c < a; c++)
            H[a * d + c] = H[c * d + a];
    if (f)
        *f = 0.5 * rn * rn;
}

sb_rc sb_encode_ref_objective(const sb_encode_problem *prob, int64_t k, double z, const double *x, const double *t,
                              double *f, double *grad, double *H, sb_err *err)
{
    ref_basis b;
    if (!ref_basis_init(&b, prob->basis, prob->d, prob->D) || b.m != prob->m || k < 0 || k >= prob->K)
        return sb_fail(err, SB_E_INPUT, "encode reference: bad problem sizes or atom");
    const int64_t p = prob->p;
    ref_work w;
    if (!ref_work_alloc(&w, p, prob->d, err))
        return SB_E_RUNTIME;
    ref_derivs(&b, prob->B + k * prob->m * p, p, z, x, t, &w, f, grad, H);
    free(w.v);
    return SB_OK;
}

/* Newton step δ = −H⁻¹g with β = 1/λ_min(H); 0 when H is not positive
 * definite or anything is non-finite. */
static int ref_newton(int64_t d, const double *H, const double *g, double *delta, double *beta)
{
    double V[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], lam[SB_ENCODE_MAX_D];
    memcpy(V, H, (size_t)(d * d) * sizeof(double));
    for (int64_t i = 0; i < d * d; i++)
        if (!isfinite(V[i]))
            return 0;
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, V, (lapack_int)d, lam) != 0)
        return 0;
    if (!(lam[0] > 0))
        return 0;
    for (int64_t a = 0; a < d; a++) {
        double s = 0.0;
        for (int64_t e = 0; e < d; e++) {
            double ve = 0.0; /* (Vᵀg)_e / λ_e */
            for (int64_t c = 0; c < d; c++)
                ve += V[c * d + e] * g[c];
            s += V[a * d + e] * ve / lam[e];
        }
        delta[a] = -s;
        if (!isfinite(delta[a]))
            return 0;
    }
    *beta = 1.0 / lam[0];
    return 1;
}

static double norm2(const double *v, int64_t d)
{
    double s = 0.0;
    for (int64_t a = 0; a < d; a++)
        s += v[a] * v[a];
    return sqrt(s);
}

static double norminf(const double *v, int64_t d)
{
    double s = 0.0;
    for (int64_t a = 0; a < d; a++)
        s = fmax(s, fabs(v[a]));
    return s;
}

static double dist_inf(const double *a, const double *b, int64_t d)
{
    double s = 0.0;
    for (int64_t i = 0; i < d; i++)
        s = fmax(s, fabs(a[i] - b[i]));
    return s;
}

typedef struct ref_row {
    const ref_basis *b;
    const sb_encode_atlas *atlas;
    const double *Bk;
    int64_t k, p, D;
    double z, xnorm;
    const double *x;
} ref_row;

/* The Newton iterate's state. */
typedef struct ref_iter {
    double t[SB_ENCODE_MAX_D], delta[SB_ENCODE_MAX_D];
    double eta, h;
} ref_iter;

static int ref_iterate_eval(const ref_row *row, double L, ref_work *w, ref_iter *it)
{
    const int64_t d = row->b->d;
    double g[SB_ENCODE_MAX_D], H[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], beta;
    for (int64_t a = 0; a < d; a++)
        if (!isfinite(it->t[a]))
            return 0;
    ref_derivs(row->b, row->Bk, row->p, row->z, row->x, it->t, w, NULL, g, H);
    if (!ref_newton(d, H, g, it->delta, &beta))
        return 0;
    it->eta = norm2(it->delta, d);
    it->h = beta * it->eta * L;
    return isfinite(it->h);
}

/* One candidate chart: 1 and the refined iterate when certified. */
static int ref_candidate(const ref_row *row, int64_t c, const double *m1c, ref_work *w, double *wd, ref_iter *out,
                         double *h_accept, double *recon, int32_t *steps)
{
    const ref_basis *b = row->b;
    const int64_t d = b->d, m = b->m, p = row->p;
    const sb_encode_atlas *atlas = row->atlas;
    const double *tc = atlas->centre + c * d, R = atlas->radius, z = row->z;

    /* warm start: J₁ (unit amplitude) rows into w->J, x − z·m₁ into wd */
    double dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
    ref_basis_eval(b, tc, NULL, dphi, NULL);
    memset(w->J, 0, (size_t)(d * p) * sizeof(double));
    for (int64_t a = 0; a < d; a++)
        for (int64_t j = 0; j < m; j++)
            if (dphi[a * m + j] != 0.0)
                axpy(dphi[a * m + j], row->Bk + j * p, w->J + a * p, p);
    for (int64_t col = 0; col < p; col++)
        wd[col] = row->x[col] - z * m1c[col];
    double A[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], y[SB_ENCODE_MAX_D];
    for (int64_t a = 0; a < d; a++) {
        y[a] = dot(w->J + a * p, wd, p);
        for (int64_t e = 0; e < d; e++)
            A[a * d + e] = dot(w->J + a * p, w->J + e * p, p) + (a == e ? 1e-9 : 0.0);
    }
    ref_iter it;
    memset(&it, 0, sizeof it);
    int ok = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, 1, A, (lapack_int)d, y, 1) == 0;
    for (int64_t a = 0; a < d; a++)
        it.t[a] = tc[a] + (ok ? y[a] / z : 0.0);

    const double L = sb_encode_lipschitz(atlas, row->k, c, row->D, z, row->xnorm);
    const double region = sb_encode_lipschitz_region(atlas, c, row->D);
    if (!ref_iterate_eval(row, L, w, &it))
        return 0;
    for (int nav = 0;; nav++) {
        const double off = dist_inf(it.t, tc, d);
        const int ball_ok = norminf(it.t, d) + 2.0 * it.eta <= region;
        if (it.h <= 0.5 && ball_ok && off <= R)
            break;
        if (it.h <= 0.5 && ball_ok && off > R + 2.0 * it.eta)
            return 0;
        if (nav == SB_ENCODE_MAX_NEWTON)
            return 0;
        ref_iter next = it;
        for (int64_t a = 0; a < d; a++)
            next.t[a] = it.t[a] + it.delta[a];
        (*steps)++;
        if (!ref_iterate_eval(row, L, w, &next))
            return 0;
        const int progress = next.h <= (63.0 / 64.0) * it.h || (it.eta < 1.0 && next.eta <= it.eta * it.eta);
        if (!progress)
            return 0;
        it = next;
    }
    *h_accept = it.h;
    for (int r = 0; r < SB_ENCODE_REFINE; r++) {
        if (it.eta <= SB_ENCODE_REFINE_TOL * (1.0 + norm2(it.t, d)))
            break;
        for (int64_t a = 0; a < d; a++)
            it.t[a] += it.delta[a];
        (*steps)++;
        if (r + 1 < SB_ENCODE_REFINE && !ref_iterate_eval(row, L, w, &it))
            break;
    }
    *recon = ref_residual(b, row->Bk, p, z, row->x, it.t, w);
    *out = it;
    return isfinite(*recon);
}

/* The SB_ENCODE_CANDIDATES smallest of dist (ties to the lower index). */
static int64_t ref_route(const double *dist, int64_t charts, int64_t *best)
{
    int64_t nb = 0;
    for (int64_t c = 0; c < charts; c++) {
        int64_t pos = nb;
        while (pos > 0 && dist[c] < dist[best[pos - 1]])
            pos--;
        if (pos >= SB_ENCODE_CANDIDATES)
            continue;
        if (nb < SB_ENCODE_CANDIDATES)
            nb++;
        for (int64_t q = nb - 1; q > pos; q--)
            best[q] = best[q - 1];
        best[pos] = c;
    }
    return nb;
}

static void ref_encode_row(const ref_row *row, int64_t i, const double *M1, ref_work *w, double *wd, double *dist,
                           sb_encode_result *res)
{
    const ref_basis *b = row->b;
    const int64_t d = b->d, p = row->p, charts = row->atlas->charts;
    for (int64_t c = 0; c < charts; c++) {
        const double *m1 = M1 + c * p;
        double s = 0.0;
        for (int64_t col = 0; col < p; col++) {
            double e = row->z * m1[col] - row->x[col];
            s += e * e;
        }
        dist[c] = s;
    }
    int64_t cand[SB_ENCODE_CANDIDATES];
    int64_t nc = ref_route(dist, charts, cand);
    int32_t steps = 0;
    int64_t best_chart = -1;
    double best_err = INFINITY, best_h = INFINITY, best_t[SB_ENCODE_MAX_D] = {0};
    const double stop = 1e-11 * (1.0 + row->xnorm);
    for (int64_t q = 0; q < nc; q++) {
        ref_iter it;
        double h, err;
        if (!ref_candidate(row, cand[q], M1 + cand[q] * p, w, wd, &it, &h, &err, &steps))
            continue;
        if (err < best_err) {
            best_err = err;
            best_h = h;
            best_chart = cand[q];
            memcpy(best_t, it.t, sizeof best_t);
        }
        if (best_err <= stop)
            break;
    }
    res->steps[i] = steps;
    if (best_chart < 0) {
        for (int64_t a = 0; a < d; a++)
            res->t[i * d + a] = 0.0;
        res->h[i] = INFINITY;
        res->recon_err[i] = row->xnorm;
        res->chart[i] = -1;
        return;
    }
    for (int64_t a = 0; a < d; a++) {
        double t = best_t[a];
        if (b->kind == SB_BASIS_PERIODIC)
            t -= floor(t + 0.5);
        res->t[i * d + a] = t;
    }
    res->h[i] = best_h;
    res->recon_err[i] = best_err;
    res->chart[i] = (int32_t)best_chart;
}

static sb_rc ref_check(const sb_encode_problem *prob, const sb_encode_atlas *atlas, ref_basis *basis, sb_err *err)
{
    const int64_t p = prob->p, K = prob->K, d = prob->d, m = prob->m;
    if (!ref_basis_init(basis, prob->basis, d, prob->D) || basis->m != m || p < 1 || K < 1)
        return sb_fail(err, SB_E_INPUT, "encode reference: bad problem sizes (d=%lld D=%lld m=%lld p=%lld K=%lld)",
                       (long long)d, (long long)prob->D, (long long)m, (long long)p, (long long)K);
    if (atlas->K != K || atlas->d != d || atlas->m != m || atlas->charts < 1)
        return sb_fail(err, SB_E_INPUT, "encode reference: the atlas does not match the problem");
    return SB_OK;
}

static sb_rc ref_check_row(const sb_encode_problem *prob, int64_t i, sb_err *err)
{
    if (prob->atom[i] < 0 || prob->atom[i] >= prob->K)
        return sb_fail(err, SB_E_INPUT, "encode reference: row %lld: atom %d outside [0, %lld)", (long long)i,
                       (int)prob->atom[i], (long long)prob->K);
    if (!(prob->z[i] > 0) || !isfinite(prob->z[i]))
        return sb_fail(err, SB_E_INPUT, "encode reference: row %lld: amplitude z = %g is not finite and > 0",
                       (long long)i, prob->z[i]);
    return SB_OK;
}

sb_rc sb_encode_ref_candidate(const sb_encode_problem *prob, const sb_encode_atlas *atlas, int64_t i, int64_t c,
                              int *certified, double *t, double *h, double *recon_err, int32_t *steps, sb_err *err)
{
    ref_basis basis;
    sb_rc rc = ref_check(prob, atlas, &basis, err);
    if (rc != SB_OK)
        return rc;
    if (i < 0 || i >= prob->n || c < 0 || c >= atlas->charts)
        return sb_fail(err, SB_E_INPUT, "encode reference: row %lld or chart %lld out of range", (long long)i,
                       (long long)c);
    if ((rc = ref_check_row(prob, i, err)) != SB_OK)
        return rc;
    const int64_t p = prob->p, d = prob->d, m = prob->m, k = prob->atom[i];
    double *buf = sb_alloc((size_t)p, (size_t)(5 + d) * sizeof(double), err);
    if (!buf)
        return SB_E_RUNTIME;
    ref_work w = {.v = buf, .r = buf + p, .J = buf + 2 * p};
    double *wd = w.J + d * p, *m1 = wd + p, phi[SB_ENCODE_MAX_M];
    const double *Bk = prob->B + k * m * p, *x = prob->X + i * p;
    ref_basis_eval(&basis, atlas->centre + c * d, phi, NULL, NULL);
    for (int64_t j = 0; j < m; j++)
        axpy(phi[j], Bk + j * p, m1, p);
    ref_row row = {.b = &basis, .atlas = atlas, .Bk = Bk, .k = k, .p = p, .D = prob->D, .z = prob->z[i],
                   .xnorm = sqrt(dot(x, x, p)), .x = x};
    ref_iter it;
    *steps = 0;
    *certified = ref_candidate(&row, c, m1, &w, wd, &it, h, recon_err, steps);
    if (*certified)
        memcpy(t, it.t, (size_t)d * sizeof(double));
    free(buf);
    return SB_OK;
}

sb_rc sb_encode_reference(const sb_encode_problem *prob, const sb_encode_atlas *atlas, int64_t row0, int64_t rows,
                          int64_t stride, sb_encode_result *res, sb_err *err)
{
    const int64_t n = prob->n, p = prob->p, K = prob->K, d = prob->d, m = prob->m;
    ref_basis basis;
    sb_rc rc = ref_check(prob, atlas, &basis, err);
    if (rc != SB_OK)
        return rc;
    if (row0 < 0 || rows < 1 || stride < 1 || row0 >= n || (rows - 1) > (n - 1 - row0) / stride)
        return sb_fail(err, SB_E_INPUT,
                       "encode reference: row set (row0 %lld, rows %lld, stride %lld) outside %lld rows",
                       (long long)row0, (long long)rows, (long long)stride, (long long)n);
    for (int64_t r = 0; r < rows; r++)
        if ((rc = ref_check_row(prob, row0 + r * stride, err)) != SB_OK)
            return rc;
    const int64_t charts = atlas->charts;
    const int nthreads = omp_get_max_threads();
    /* rows grouped by atom (counting sort, row order kept within an atom) */
    int64_t *start = sb_alloc((size_t)K + 1, sizeof(int64_t), err);
    int64_t *order = start ? sb_alloc((size_t)rows, sizeof(int64_t), err) : NULL;
    double *M1 = order ? sb_alloc((size_t)charts, (size_t)p * sizeof(double), err) : NULL;
    double *phic = M1 ? sb_alloc((size_t)charts, (size_t)m * sizeof(double), err) : NULL;
    const size_t per_thread = (size_t)p * (size_t)(3 + d) + (size_t)charts;
    double *work = phic ? sb_alloc((size_t)nthreads, per_thread * sizeof(double), err) : NULL;
    if (!work) {
        free(start);
        free(order);
        free(M1);
        free(phic);
        return SB_E_RUNTIME;
    }
    for (int64_t r = 0; r < rows; r++)
        start[prob->atom[row0 + r * stride] + 1]++;
    for (int64_t k = 0; k < K; k++)
        start[k + 1] += start[k];
    {
        int64_t *fill = calloc((size_t)K, sizeof(int64_t));
        if (!fill) {
            free(start);
            free(order);
            free(M1);
            free(phic);
            free(work);
            return sb_fail(err, SB_E_RUNTIME, "encode reference: out of memory");
        }
        for (int64_t r = 0; r < rows; r++) {
            int64_t i = row0 + r * stride, k = prob->atom[i];
            order[start[k] + fill[k]++] = i;
        }
        free(fill);
    }
    for (int64_t c = 0; c < charts; c++)
        ref_basis_eval(&basis, atlas->centre + c * d, phic + c * m, NULL, NULL);

    for (int64_t k = 0; k < K; k++) {
        if (start[k + 1] == start[k])
            continue;
        const double *Bk = prob->B + k * m * p;
        /* m₁ of every chart, B_kᵀΦ(t_c) (plain loops: a threaded BLAS here
         * would fight the OpenMP threads for the cores) */
#pragma omp parallel for schedule(static) num_threads(nthreads)
        for (int64_t c = 0; c < charts; c++) {
            double *m1 = M1 + c * p;
            memset(m1, 0, (size_t)p * sizeof(double));
            for (int64_t j = 0; j < m; j++)
                axpy(phic[c * m + j], Bk + j * p, m1, p);
        }
#pragma omp parallel num_threads(nthreads)
        {
            double *mine = work + (size_t)omp_get_thread_num() * per_thread;
            ref_work w = {.v = mine, .r = mine + p, .J = mine + 2 * p};
            double *wd = w.J + d * p, *dist = wd + p;
#pragma omp for schedule(dynamic, 1)
            for (int64_t q = start[k]; q < start[k + 1]; q++) {
                const int64_t i = order[q];
                const double *x = prob->X + i * p;
                ref_row row = {.b = &basis, .atlas = atlas, .Bk = Bk, .k = k, .p = p, .D = prob->D,
                               .z = prob->z[i], .xnorm = sqrt(dot(x, x, p)), .x = x};
                ref_encode_row(&row, i, M1, &w, wd, dist, res);
            }
        }
    }
    free(start);
    free(order);
    free(M1);
    free(phic);
    free(work);
    return SB_OK;
}

/* ------------------------ EN-001: per-row parity ------------------------ */
/* β and G at t over p (the rule's terms: src/parity.h). w->J is filled with
 * the Jacobian by ref_derivs; |J| and |v| are summed here term by term. */
static void ref_conditioning(const ref_basis *b, const double *Bk, int64_t p, double z, const double *x,
                             const double *t, ref_work *w, double *beta, double *grad_scale)
{
    const int64_t d = b->d, m = b->m;
    double g[SB_ENCODE_MAX_D], H[SB_ENCODE_MAX_D * SB_ENCODE_MAX_D], lam[SB_ENCODE_MAX_D];
    double phi[SB_ENCODE_MAX_M], dphi[SB_ENCODE_MAX_D * SB_ENCODE_MAX_M];
    ref_derivs(b, Bk, p, z, x, t, w, NULL, g, H);
    *beta = NAN;
    int finite = 1;
    for (int64_t q = 0; q < d * d; q++)
        finite &= isfinite(H[q]) != 0;
    if (finite && LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, H, (lapack_int)d, lam) == 0 && lam[0] > 0)
        *beta = 1.0 / lam[0];
    ref_basis_eval(b, t, phi, dphi, NULL);
    double G = 0.0;
    for (int64_t a = 0; a < d; a++) {
        double Ga = 0.0;
        for (int64_t c = 0; c < p; c++) {
            double absJ = 0.0, absv = 0.0;
            for (int64_t j = 0; j < m; j++) {
                absJ += fabs(z * dphi[a * m + j] * Bk[j * p + c]);
                absv += fabs(z * phi[j] * Bk[j * p + c]);
            }
            Ga += absJ * (absv + fabs(x[c]));
        }
        G = isnan(Ga) || isnan(G) ? NAN : fmax(G, Ga);
    }
    *grad_scale = G;
}

sb_rc sb_encode_ref_conditioning(const sb_encode_problem *prob, int64_t i, const double *t, double *beta,
                                 double *grad_scale, sb_err *err)
{
    ref_basis b;
    if (!ref_basis_init(&b, prob->basis, prob->d, prob->D) || b.m != prob->m || prob->p < 1 || i < 0 ||
        i >= prob->n)
        return sb_fail(err, SB_E_INPUT, "encode reference: bad problem sizes or row %lld", (long long)i);
    sb_rc rc = ref_check_row(prob, i, err);
    if (rc != SB_OK)
        return rc;
    const int64_t p = prob->p;
    ref_work w;
    if (!ref_work_alloc(&w, p, prob->d, err))
        return SB_E_RUNTIME;
    ref_conditioning(&b, prob->B + (int64_t)prob->atom[i] * prob->m * p, p, prob->z[i], prob->X + i * p, t, &w,
                     beta, grad_scale);
    free(w.v);
    return SB_OK;
}

/* a is worse than b: a larger ratio, or a NaN where b has none. */
static int ratio_worse(double a, double b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

sb_rc sb_encode_ref_parity(const sb_encode_problem *prob, const sb_encode_result *res, const sb_encode_result *ref,
                           int64_t row0, int64_t rows, int64_t stride, sb_row_parity *worst, sb_err *err)
{
    const int64_t n = prob->n, p = prob->p, d = prob->d;
    ref_basis b;
    if (!ref_basis_init(&b, prob->basis, d, prob->D) || b.m != prob->m || p < 1)
        return sb_fail(err, SB_E_INPUT, "encode parity: bad problem sizes (d=%lld D=%lld m=%lld p=%lld)",
                       (long long)d, (long long)prob->D, (long long)prob->m, (long long)p);
    if (row0 < 0 || rows < 1 || stride < 1 || row0 >= n || (rows - 1) > (n - 1 - row0) / stride)
        return sb_fail(err, SB_E_INPUT, "encode parity: row set (row0 %lld, rows %lld, stride %lld) outside %lld rows",
                       (long long)row0, (long long)rows, (long long)stride, (long long)n);
    sb_rc rc = SB_OK;
    for (int64_t r = 0; r < rows && rc == SB_OK; r++)
        rc = ref_check_row(prob, row0 + r * stride, err);
    if (rc != SB_OK)
        return rc;
    const int nthreads = omp_get_max_threads();
    const size_t per_thread = (size_t)p * (size_t)(2 + d);
    double *work = sb_alloc((size_t)nthreads, per_thread * sizeof(double), err);
    sb_row_parity *each = work ? sb_alloc((size_t)rows, sizeof *each, err) : NULL;
    if (!each) {
        free(work);
        return SB_E_RUNTIME;
    }
    const int periodic = prob->basis == SB_BASIS_PERIODIC;
#pragma omp parallel num_threads(nthreads)
    {
        double *mine = work + (size_t)omp_get_thread_num() * per_thread;
        ref_work w = {.v = mine, .r = mine + p, .J = mine + 2 * p};
#pragma omp for schedule(dynamic, 16)
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = row0 + r * stride;
            sb_row_parity *s = &each[r];
            *s = (sb_row_parity){.row = i, .order = p, .beta = NAN, .grad_scale = NAN, .stop = NAN};
            const int cert = res->chart[i] >= 0, rcert = ref->chart[i] >= 0;
            double fe = 0.0;
            for (int64_t a = 0; a < d; a++) {
                double e = res->t[i * d + a] - ref->t[i * d + a];
                if (periodic)
                    e -= round(e);
                e = fabs(e);
                fe = isnan(e) || isnan(fe) ? NAN : fmax(fe, e);
            }
            s->abs_err = fe;
            if (cert || rcert) {
                /* β and G where a certified answer is: the reference's, else res's. */
                const double *t = (rcert ? ref->t : res->t) + i * d;
                const int64_t k = prob->atom[i];
                ref_conditioning(&b, prob->B + k * prob->m * p, p, prob->z[i], prob->X + i * p, t, &w, &s->beta,
                                 &s->grad_scale);
                s->stop = SB_ENCODE_REFINE_TOL * (1.0 + norm2(t, d));
            }
            sb_parity_row_judge(s);
        }
    }
    *worst = each[0];
    for (int64_t r = 1; r < rows; r++)
        if (ratio_worse(each[r].ratio, worst->ratio))
            *worst = each[r];
    free(work);
    free(each);
    return SB_OK;
}
