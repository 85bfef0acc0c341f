/* The task trace of the tiled factorization (sb_tiled_trace_rec, rs_params.h):
 * its consistency checks and the summary that says where the time went.
 * Host code, header-only, C11 and C++: used by the simulation
 * tests/sim/sim_tiled.cpp (consistency only: its clock is the CPU's) and by
 * the GPU program tests/gpu/tiled_trace.c (both).
 *
 * Checks (sb_tiled_trace_analyse returns 0 when all hold, else 1 and why):
 *   - every task of the factorization is done exactly once, at a ticket of
 *     the launch, with take <= early <= ready <= done (and ready <= mid <=
 *     done for a chain task C(i), which does P(i, i-1), U(i, i, i-1) and
 *     D(i));
 *   - no task became ready before its inputs were published (a chain's
 *     panel counts as published at its mid time):
 *       D(j)      after U(j, j, j-1),
 *       P(i, j)   after D(j) and U(i, j, j-1),
 *       U(i,j,k)  after P(i, k), P(j, k) and U(i, j, k-1),
 *       C(i)      after D(i-1), and at its early time (when it starts
 *                 loading A_i,i-1 and A_ii) after U(i, i-1, i-2) and
 *                 U(i, i, i-2)
 *     (the earlier updates of a tile follow by transitivity, since each
 *     task's done >= its ready).
 * Summary: the span (first take to last done); per kind the count, the
 * median and largest work time (done - ready) and the median wait (ready -
 * take); and the critical chain: the median column period (done of D(k+1)
 * minus done of D(k)), the chain task's median work split at its mid time
 * (panel; update + diagonal) and the median hand-off (a chain task's ready
 * minus the previous diagonal's done). These are the quantities the
 * estimate in docs/notes-tiled.md is made of. */
#ifndef SB_RS_TILED_TRACE_H
#define SB_RS_TILED_TRACE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs_params.h"

typedef struct sb_tiled_trace_summary {
    int nt;
    long long ntasks;
    int blocks;                 /* distinct blocks that ran a task */
    double span_us;             /* first take to last done */
    long long count[5];         /* per kind: [1] diagonal, [2] panel, [3] update, [4] chain */
    double work_med_us[5], work_max_us[5], wait_med_us[5];
    /* the critical chain, medians over the columns k = 0 .. nt - 2 */
    double column_us;           /* done(D(k+1)) - done(D(k)) */
    double chain_panel_us;      /* a chain task's mid - ready */
    double chain_rest_us;       /* its done - mid: the update and the diagonal tile */
    double handoff_us;          /* ready(C(k+1)) - done(D(k)) */
} sb_tiled_trace_summary;

static inline int sb_tiled_trace_cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..m-1] (sorted in place); 0 when m = 0. */
static inline double sb_tiled_trace_median(double *v, long long m)
{
    if (m <= 0)
        return 0.0;
    qsort(v, (size_t)m, sizeof *v, sb_tiled_trace_cmp);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

static inline double sb_tiled_trace_us(unsigned long long later, unsigned long long earlier)
{
    return later >= earlier ? (double)(later - earlier) * 1e-3 : -(double)(earlier - later) * 1e-3;
}

/* Claims a task for ticket t; on a second claim writes why and returns 0. */
static inline int sb_tiled_trace_claim(long long *slot, long long t, const char *what, int i, int j,
                                       int k, char *why, size_t why_len)
{
    if (*slot >= 0) {
        snprintf(why, why_len, "tickets %lld and %lld both did %s(%d,%d,%d)", *slot, t, what, i, j, k);
        return 0;
    }
    *slot = t;
    return 1;
}

/* The consumer's time of readiness for this input (its ready time, or for
 * a chain task's early inputs A_ik and A_ii its early time) >= the
 * producer's publication (a chain's panel at its mid time); on failure
 * writes why and returns 0. */
static inline int sb_tiled_trace_after(const sb_tiled_trace_rec *rec, long long consumer,
                                       long long producer, int producer_is_panel, int early,
                                       char *why, size_t why_len)
{
    const sb_tiled_trace_rec *c = rec + consumer, *q = rec + producer;
    const unsigned long long pub = q->kind == 4 && producer_is_panel ? q->mid_ns : q->done_ns;
    const unsigned long long at = early ? c->early_ns : c->ready_ns;
    if (at >= pub)
        return 1;
    snprintf(why, why_len,
             "task %lld (kind %d tile %d,%d step %d) %s %.3f us before its input, task %lld (kind %d "
             "tile %d,%d step %d), was published",
             consumer, c->kind, c->i, c->j, c->k, early ? "loaded it" : "ready", sb_tiled_trace_us(pub, at),
             producer, q->kind, q->i, q->j, q->k);
    return 0;
}

static inline int sb_tiled_trace_analyse(const sb_tiled_trace_rec *rec, int nt,
                                         sb_tiled_trace_summary *sum, char *why, size_t why_len)
{
    memset(sum, 0, sizeof *sum);
    why[0] = '\0';
    const long long ntasks = sb_tiled_ntasks(nt), nt2 = (long long)nt * nt;
    sum->nt = nt;
    sum->ntasks = ntasks;
    /* which ticket did each task, -1 until seen: D(j) at d[j], P(i, j) at
     * p[i + j·nt], U(i, j, k) at u[(i + j·nt)·nt + k] */
    long long *d = (long long *)malloc((size_t)nt * sizeof(long long));
    long long *p = (long long *)malloc((size_t)nt2 * sizeof(long long));
    long long *u = (long long *)malloc((size_t)(nt2 * nt) * sizeof(long long));
    double *work = (double *)malloc((size_t)ntasks * sizeof(double));
    double *wait = (double *)malloc((size_t)ntasks * sizeof(double));
    double *col = (double *)malloc((size_t)(nt + 1) * sizeof(double));
    int maxb = 0;
    for (long long t = 0; t < ntasks; ++t)
        maxb = rec[t].block > maxb ? rec[t].block : maxb;
    char *seen_block = (char *)calloc((size_t)maxb + 1, 1);
    int ok = d && p && u && work && wait && col && seen_block;
    if (!ok)
        snprintf(why, why_len, "out of memory analysing %lld tasks", ntasks);
    if (ok) {
        memset(d, 0xff, (size_t)nt * sizeof(long long));
        memset(p, 0xff, (size_t)nt2 * sizeof(long long));
        memset(u, 0xff, (size_t)(nt2 * nt) * sizeof(long long));
    }
#define SB_TT_P(i, j) p[(i) + (long long)(j) * nt]
#define SB_TT_U(i, j, k) u[((i) + (long long)(j) * nt) * nt + (k)]
    unsigned long long first = ~0ull, last = 0;
    /* every task once, sane times */
    for (long long t = 0; ok && t < ntasks; ++t) {
        const sb_tiled_trace_rec *r = rec + t;
        const int i = r->i, j = r->j, k = r->k;
        if (r->kind == 1 && i == j && j == k && j >= 0 && j < nt) {
            ok = sb_tiled_trace_claim(&d[j], t, "D", j, j, j, why, why_len);
        } else if (r->kind == 2 && k == j && j >= 0 && i > j && i < nt) {
            ok = sb_tiled_trace_claim(&SB_TT_P(i, j), t, "P", i, j, j, why, why_len);
        } else if (r->kind == 3 && k >= 0 && k < j && j <= i && i < nt) {
            ok = sb_tiled_trace_claim(&SB_TT_U(i, j, k), t, "U", i, j, k, why, why_len);
        } else if (r->kind == 4 && i == j && k == i - 1 && k >= 0 && i < nt) {
            ok = sb_tiled_trace_claim(&SB_TT_P(i, k), t, "P", i, k, k, why, why_len) &&
                 sb_tiled_trace_claim(&SB_TT_U(i, i, k), t, "U", i, i, k, why, why_len) &&
                 sb_tiled_trace_claim(&d[i], t, "D", i, i, i, why, why_len);
        } else {
            snprintf(why, why_len, "ticket %lld holds no task of the factorization (kind %d tile %d,%d step %d)",
                     t, r->kind, i, j, k);
            ok = 0;
        }
        const unsigned long long mid = r->kind == 4 ? r->mid_ns : r->ready_ns;
        if (ok && !(r->take_ns <= r->early_ns && r->early_ns <= r->ready_ns && r->ready_ns <= mid &&
                    mid <= r->done_ns)) {
            snprintf(why, why_len,
                     "ticket %lld: times out of order (take %llu, early %llu, ready %llu, mid %llu, done %llu)",
                     t, r->take_ns, r->early_ns, r->ready_ns, r->mid_ns, r->done_ns);
            ok = 0;
        }
        if (ok) {
            if (r->block >= 0 && !seen_block[r->block]) {
                seen_block[r->block] = 1;
                sum->blocks++;
            }
            first = r->take_ns < first ? r->take_ns : first;
            last = r->done_ns > last ? r->done_ns : last;
        }
    }
    /* every diagonal tile done (the task count makes the rest follow) */
    for (int j = 0; ok && j < nt; ++j)
        if (d[j] < 0) {
            snprintf(why, why_len, "no ticket did D(%d)", j);
            ok = 0;
        }
    /* dependencies */
    for (long long t = 0; ok && t < ntasks; ++t) {
        const sb_tiled_trace_rec *r = rec + t;
        const int i = r->i, j = r->j, k = r->k;
        if (r->kind == 1) {
            if (j > 0)
                ok = sb_tiled_trace_after(rec, t, SB_TT_U(j, j, j - 1), 0, 0, why, why_len);
        } else if (r->kind == 2) {
            ok = sb_tiled_trace_after(rec, t, d[j], 0, 0, why, why_len) &&
                 (j == 0 || sb_tiled_trace_after(rec, t, SB_TT_U(i, j, j - 1), 0, 0, why, why_len));
        } else if (r->kind == 3) {
            ok = sb_tiled_trace_after(rec, t, SB_TT_P(i, k), 1, 0, why, why_len) &&
                 sb_tiled_trace_after(rec, t, SB_TT_P(j, k), 1, 0, why, why_len) &&
                 (k == 0 || sb_tiled_trace_after(rec, t, SB_TT_U(i, j, k - 1), 0, 0, why, why_len));
        } else { /* the chain loads A_ik and A_ii at its early time */
            ok = sb_tiled_trace_after(rec, t, d[k], 0, 0, why, why_len) &&
                 (k == 0 || (sb_tiled_trace_after(rec, t, SB_TT_U(i, k, k - 1), 0, 1, why, why_len) &&
                             sb_tiled_trace_after(rec, t, SB_TT_U(i, i, k - 1), 0, 1, why, why_len)));
        }
    }
#undef SB_TT_P
#undef SB_TT_U
    if (ok) {
        sum->span_us = sb_tiled_trace_us(last, first);
        for (int kind = 1; kind <= 4; ++kind) {
            long long m = 0;
            for (long long t = 0; t < ntasks; ++t)
                if (rec[t].kind == kind) {
                    work[m] = sb_tiled_trace_us(rec[t].done_ns, rec[t].ready_ns);
                    wait[m] = sb_tiled_trace_us(rec[t].ready_ns, rec[t].take_ns);
                    m++;
                }
            sum->count[kind] = m;
            sum->work_med_us[kind] = sb_tiled_trace_median(work, m);
            sum->work_max_us[kind] = m ? work[m - 1] : 0.0;
            sum->wait_med_us[kind] = sb_tiled_trace_median(wait, m);
        }
        /* per column k: D(k) (column 0's own task, else chain C(k)) -> C(k+1) */
        double *const out[4] = {&sum->column_us, &sum->chain_panel_us, &sum->chain_rest_us,
                                &sum->handoff_us};
        for (int q = 0; q < 4; ++q) {
            for (int kk = 0; kk + 1 < nt; ++kk) {
                const sb_tiled_trace_rec *D0 = rec + d[kk], *C = rec + d[kk + 1];
                col[kk] = q == 0   ? sb_tiled_trace_us(C->done_ns, D0->done_ns)
                          : q == 1 ? sb_tiled_trace_us(C->mid_ns, C->ready_ns)
                          : q == 2 ? sb_tiled_trace_us(C->done_ns, C->mid_ns)
                                   : sb_tiled_trace_us(C->ready_ns, D0->done_ns);
            }
            *out[q] = sb_tiled_trace_median(col, nt - 1);
        }
    }
    free(d);
    free(p);
    free(u);
    free(work);
    free(wait);
    free(col);
    free(seen_block);
    return ok ? 0 : 1;
}

/* The summary as one JSON object (no trailing newline). */
static inline void sb_tiled_trace_json(FILE *f, const sb_tiled_trace_summary *s)
{
    static const char *const kinds[5] = {"", "diagonal", "panel", "update", "chain"};
    fprintf(f, "{\"tiles\": %d, \"tasks\": %lld, \"blocks\": %d, \"span_us\": %.3f, \"kinds\": {", s->nt,
            s->ntasks, s->blocks, s->span_us);
    for (int k = 1; k <= 4; ++k)
        fprintf(f, "%s\"%s\": {\"count\": %lld, \"work_median_us\": %.3f, \"work_max_us\": %.3f, "
                   "\"wait_median_us\": %.3f}",
                k > 1 ? ", " : "", kinds[k], s->count[k], s->work_med_us[k], s->work_max_us[k],
                s->wait_med_us[k]);
    fprintf(f, "}, \"critical_chain\": {\"column_period_median_us\": %.3f, \"chain_panel_median_us\": %.3f, "
               "\"chain_update_diagonal_median_us\": %.3f, \"handoff_median_us\": %.3f}}",
            s->column_us, s->chain_panel_us, s->chain_rest_us, s->handoff_us);
}

#endif
