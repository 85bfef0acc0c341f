/* The task trace of the tiled factorization (sb_tiled_trace_rec, rs_params.h):
 * its consistency checks and the summary that says where the time went.
 * Host code, header-only, C11 and C++: used by the simulation
 * tests/gpu/sim_tiled.cpp (consistency only: its clock is the CPU's) and by
 * the GPU program tests/gpu/tiled_trace.c (both).
 *
 * Checks (sb_tiled_trace_analyse returns 0 when all hold, else 1 and why):
 *   - every task of the factorization appears exactly once, at a ticket of
 *     the launch, with take <= ready <= done;
 *   - no task became ready before its inputs were published:
 *       D(j)      after U(j, j, j-1),
 *       P(i, j)   after D(j) and U(i, j, j-1),
 *       U(i,j,k)  after P(i, k), P(j, k) and U(i, j, k-1)
 *     (the earlier updates of a tile follow by transitivity, since each
 *     task's done >= its ready).
 * Summary: the span (first take to last done), per kind the count and the
 * median and largest work time (done - ready) and median wait (ready -
 * take), and the critical chain per tile column, D(k) -> P(k+1, k) ->
 * U(k+1, k+1, k) -> D(k+1): the median column period (done of D(k+1) minus
 * done of D(k)), the median work of each of the three tasks on it and the
 * median hand-off (a consumer's ready minus its producer's done). These are
 * the quantities rs_tiled.cuh's estimate is made of. */
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
    long long count[4];         /* per kind: [1] diagonal, [2] panel, [3] update */
    double work_med_us[4], work_max_us[4], wait_med_us[4];
    /* the critical chain, medians over the columns k = 0 .. nt - 2 */
    double column_us;           /* done(D(k+1)) - done(D(k)) */
    double chain_diag_us, chain_panel_us, chain_update_us; /* work of D(k+1), P(k+1,k), U(k+1,k+1,k) */
    double handoff_us;          /* the three hand-offs of a column, pooled */
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

/* Ticket of each task, -1 until seen: D at d[j], P at p[i + j·nt], U at u[(i + j·nt)·nt + k]. */
typedef struct sb_tiled_trace_index {
    long long *d, *p, *u;
} sb_tiled_trace_index;

static inline double sb_tiled_trace_us(unsigned long long later, unsigned long long earlier)
{
    return later >= earlier ? (double)(later - earlier) * 1e-3 : -(double)(earlier - later) * 1e-3;
}

/* ready(consumer) >= done(producer); on failure writes why and returns 0. */
static inline int sb_tiled_trace_after(const sb_tiled_trace_rec *rec, long long consumer,
                                       long long producer, char *why, size_t why_len)
{
    const sb_tiled_trace_rec *c = rec + consumer, *q = rec + producer;
    if (c->ready_ns >= q->done_ns)
        return 1;
    snprintf(why, why_len,
             "task %lld (kind %d tile %d,%d step %d) ready %.3f us before its input, task %lld (kind %d "
             "tile %d,%d step %d), was done",
             consumer, c->kind, c->i, c->j, c->k, sb_tiled_trace_us(q->done_ns, c->ready_ns), producer,
             q->kind, q->i, q->j, q->k);
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
    sb_tiled_trace_index ix;
    ix.d = (long long *)malloc((size_t)nt * sizeof(long long));
    ix.p = (long long *)malloc((size_t)nt2 * sizeof(long long));
    ix.u = (long long *)malloc((size_t)(nt2 * nt) * sizeof(long long));
    double *work = (double *)malloc((size_t)ntasks * sizeof(double));
    double *wait = (double *)malloc((size_t)ntasks * sizeof(double));
    double *col = (double *)malloc((size_t)(4 * nt + 1) * sizeof(double));
    double *hand = (double *)malloc((size_t)(3 * nt + 1) * sizeof(double));
    char *seen_block = (char *)calloc((size_t)ntasks + 1, 1);
    int ok = ix.d && ix.p && ix.u && work && wait && col && hand && seen_block;
    if (!ok)
        snprintf(why, why_len, "out of memory analysing %lld tasks", ntasks);
    if (ok) {
        memset(ix.d, 0xff, (size_t)nt * sizeof(long long));
        memset(ix.p, 0xff, (size_t)nt2 * sizeof(long long));
        memset(ix.u, 0xff, (size_t)(nt2 * nt) * sizeof(long long));
    }
    unsigned long long first = ~0ull, last = 0;
    /* every task once, sane times */
    for (long long t = 0; ok && t < ntasks; ++t) {
        const sb_tiled_trace_rec *r = rec + t;
        const int i = r->i, j = r->j, k = r->k;
        long long *slot = NULL;
        if (r->kind == 1 && i == j && j == k && j >= 0 && j < nt)
            slot = ix.d + j;
        else if (r->kind == 2 && k == j && j >= 0 && i > j && i < nt)
            slot = ix.p + i + (long long)j * nt;
        else if (r->kind == 3 && k >= 0 && k < j && j <= i && i < nt)
            slot = ix.u + (i + (long long)j * nt) * nt + k;
        if (!slot) {
            snprintf(why, why_len, "ticket %lld holds no task of the factorization (kind %d tile %d,%d step %d)",
                     t, r->kind, i, j, k);
            ok = 0;
        } else if (*slot >= 0) {
            snprintf(why, why_len, "tickets %lld and %lld hold the same task (kind %d tile %d,%d step %d)",
                     *slot, t, r->kind, i, j, k);
            ok = 0;
        } else if (!(r->take_ns <= r->ready_ns && r->ready_ns <= r->done_ns)) {
            snprintf(why, why_len, "ticket %lld: times out of order (take %llu, ready %llu, done %llu)", t,
                     r->take_ns, r->ready_ns, r->done_ns);
            ok = 0;
        } else {
            *slot = t;
            if (r->block >= 0 && r->block <= ntasks && !seen_block[r->block]) {
                seen_block[r->block] = 1;
                sum->blocks++;
            }
            first = r->take_ns < first ? r->take_ns : first;
            last = r->done_ns > last ? r->done_ns : last;
        }
    }
    /* dependencies */
    for (long long t = 0; ok && t < ntasks; ++t) {
        const sb_tiled_trace_rec *r = rec + t;
        const int i = r->i, j = r->j, k = r->k;
        if (r->kind == 1) {
            if (j > 0)
                ok = sb_tiled_trace_after(rec, t, ix.u[(j + (long long)j * nt) * nt + j - 1], why, why_len);
        } else if (r->kind == 2) {
            ok = sb_tiled_trace_after(rec, t, ix.d[j], why, why_len) &&
                 (j == 0 || sb_tiled_trace_after(rec, t, ix.u[(i + (long long)j * nt) * nt + j - 1], why, why_len));
        } else {
            ok = sb_tiled_trace_after(rec, t, ix.p[i + (long long)k * nt], why, why_len) &&
                 sb_tiled_trace_after(rec, t, ix.p[j + (long long)k * nt], why, why_len) &&
                 (k == 0 || sb_tiled_trace_after(rec, t, ix.u[(i + (long long)j * nt) * nt + k - 1], why, why_len));
        }
    }
    if (ok) {
        sum->span_us = sb_tiled_trace_us(last, first);
        for (int kind = 1; kind <= 3; ++kind) {
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
        /* the chain: col[] holds, per column, period | D work | P work | U work */
        const int nc = nt - 1;
        long long nh = 0;
        for (int q = 0; q < 4; ++q) {
            for (int kk = 0; kk < nc; ++kk) {
                const sb_tiled_trace_rec *D0 = rec + ix.d[kk], *D1 = rec + ix.d[kk + 1];
                const sb_tiled_trace_rec *P = rec + ix.p[kk + 1 + (long long)kk * nt];
                const sb_tiled_trace_rec *U = rec + ix.u[(kk + 1 + (long long)(kk + 1) * nt) * nt + kk];
                const sb_tiled_trace_rec *x = q == 1 ? D1 : q == 2 ? P : U;
                col[kk] = q == 0 ? sb_tiled_trace_us(D1->done_ns, D0->done_ns)
                                 : sb_tiled_trace_us(x->done_ns, x->ready_ns);
                if (q == 0) {
                    hand[nh++] = sb_tiled_trace_us(P->ready_ns, D0->done_ns);
                    hand[nh++] = sb_tiled_trace_us(U->ready_ns, P->done_ns);
                    hand[nh++] = sb_tiled_trace_us(D1->ready_ns, U->done_ns);
                }
            }
            const double med = sb_tiled_trace_median(col, nc);
            if (q == 0)
                sum->column_us = med;
            else if (q == 1)
                sum->chain_diag_us = med;
            else if (q == 2)
                sum->chain_panel_us = med;
            else
                sum->chain_update_us = med;
        }
        sum->handoff_us = sb_tiled_trace_median(hand, nh);
    }
    free(ix.d);
    free(ix.p);
    free(ix.u);
    free(work);
    free(wait);
    free(col);
    free(hand);
    free(seen_block);
    return ok ? 0 : 1;
}

/* The summary as one JSON object (no trailing newline). */
static inline void sb_tiled_trace_json(FILE *f, const sb_tiled_trace_summary *s)
{
    static const char *const kinds[4] = {"", "diagonal", "panel", "update"};
    fprintf(f, "{\"tiles\": %d, \"tasks\": %lld, \"blocks\": %d, \"span_us\": %.3f, \"kinds\": {", s->nt,
            s->ntasks, s->blocks, s->span_us);
    for (int k = 1; k <= 3; ++k)
        fprintf(f, "%s\"%s\": {\"count\": %lld, \"work_median_us\": %.3f, \"work_max_us\": %.3f, "
                   "\"wait_median_us\": %.3f}",
                k > 1 ? ", " : "", kinds[k], s->count[k], s->work_med_us[k], s->work_max_us[k],
                s->wait_med_us[k]);
    fprintf(f, "}, \"chain\": {\"column_period_median_us\": %.3f, \"diagonal_work_median_us\": %.3f, "
               "\"panel_work_median_us\": %.3f, \"update_work_median_us\": %.3f, "
               "\"handoff_median_us\": %.3f}}",
            s->column_us, s->chain_diag_us, s->chain_panel_us, s->chain_update_us, s->handoff_us);
}

#endif
