/* mkt report's text table and JSON.  Both print the same numbers from
 * mkt_report_compare(); JSON's schema is documented in docs/report.md
 * and only grows (members are added, never renamed). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_out.h"
#include "text.h"

#define COLS_MAX   16
#define CELL_MAX   96


/* --- an aligned text table -------------------------------------------- */

typedef struct {
    char     (*cells)[CELL_MAX];
    size_t     nrows, cap;
    size_t     ncols;
} tbl_t;


/* A row of cells, each as valid UTF-8 without control characters (an
 * events file written by hand may hold any bytes: no escape sequence
 * reaches the terminal, no newline breaks the table) and cut whole
 * characters short of CELL_MAX. */
static void
tbl_row(tbl_t *t, size_t ncols, ...)
{
    va_list      ap;
    size_t       i, n;
    void        *p;
    char        *cell;
    const char  *s;

    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        p = realloc(t->cells, t->cap * COLS_MAX * CELL_MAX);
        if (p == NULL) {
            return;
        }
        t->cells = p;
    }
    va_start(ap, ncols);
    for (i = 0; i < COLS_MAX; i++) {
        s = i < ncols ? va_arg(ap, const char *) : "";
        cell = t->cells[t->nrows * COLS_MAX + i];
        n = mkt_text_clean(cell, CELL_MAX - 1, s, strlen(s));
        cell[n] = '\0';
    }
    va_end(ap);
    if (ncols > t->ncols) {
        t->ncols = ncols;
    }
    t->nrows++;
}


/* Display width: UTF-8 characters, not bytes. */
static size_t
width(const char *s)
{
    size_t  w;

    for (w = 0; *s; s++) {
        w += ((unsigned char) *s & 0xc0) != 0x80;
    }
    return w;
}


static void
tbl_print(FILE *f, tbl_t *t, const char *indent)
{
    size_t       w[COLS_MAX], i, j, k;
    const char  *c;

    memset(w, 0, sizeof(w));
    for (i = 0; i < t->nrows; i++) {
        for (j = 0; j < t->ncols; j++) {
            k = width(t->cells[i * COLS_MAX + j]);
            if (k > w[j]) {
                w[j] = k;
            }
        }
    }
    for (i = 0; i < t->nrows; i++) {
        fputs(indent, f);
        for (k = t->ncols; k > 1 && t->cells[i * COLS_MAX + k - 1][0] == '\0';
             k--)
        {
            /* no trailing blanks */
        }
        for (j = 0; j < k; j++) {
            c = t->cells[i * COLS_MAX + j];
            if (j + 1 == k) {
                fprintf(f, "%s\n", c);
            } else {
                fprintf(f, "%s%*s", c, (int) (w[j] - width(c) + 2), "");
            }
        }
    }
    free(t->cells);
    memset(t, 0, sizeof(*t));
}


/* Formatting numbers into small rotating buffers, for tbl_row() args. */
static char *
fmt(const char *f, ...)
{
    static char  bufs[32][CELL_MAX];
    static int   next;
    char        *b;
    va_list      ap;

    b = bufs[next++ & 31];
    va_start(ap, f);
    vsnprintf(b, CELL_MAX, f, ap);
    va_end(ap);
    return b;
}


static char *
pct(double v)
{
    return isnan(v) ? "-" : fmt("%.2f%%", v * 100);
}


static char *
spct(double v)
{
    return isnan(v) ? "-" : fmt("%+.1f%%", v * 100);
}


static char *
ci_pct(double lo, double hi)
{
    return isnan(lo) ? "-" : fmt("[%+.1f%%, %+.1f%%]", lo * 100, hi * 100);
}


static char *
num(double v)
{
    return isnan(v) ? "-" : fmt("%.4g", v);
}


static char *
pval(double p)
{
    return isnan(p) ? "-" : p < 0.0001 ? "<0.0001" : fmt("%.4f", p);
}


static char *
count(double v)
{
    return fmt("%.0f", v);
}


static char *
str(const mkt_str_t *s)
{
    return fmt("%.*s", (int) (s->len < CELL_MAX - 1 ? s->len : CELL_MAX - 1),
               s->data);
}


/* "name": value pairs of the counters, each after sep (the first after
 * nothing). */
static void
print_counts(FILE *f, const mkt_report_t *rp, const char *fmt_pair,
    const char *sep)
{
    const char  *s = "";

#define PAIR(name)                                                            \
    fprintf(f, "%s", s);                                                      \
    fprintf(f, fmt_pair, #name, (unsigned long long) rp->counts.name);        \
    s = sep;

    MKT_REPORT_COUNTERS(PAIR)
#undef PAIR
}


static void
print_exp_table(FILE *f, const mkt_report_t *rp, const mkt_report_exp_t *e)
{
    mkt_report_cmp_t  cmp;
    tbl_t             t;
    size_t            g, v, k;
    int               seq;

    memset(&t, 0, sizeof(t));
    seq = rp->opts.seq_tuning > 0;

    fprintf(f, "\nexperiment %.*s%s\n", (int) e->key.len, e->key.data,
            e->in_config ? "" : " (not in the config)");
    fprintf(f, "  sample ratio: chi2 %.3f, p %s%s; %.0f visitors in more "
            "than one variation excluded\n", e->srm_chi2, pval(e->srm_p),
            e->srm_p < MKT_REPORT_SRM_ALPHA ? "  ** SAMPLE RATIO MISMATCH **"
                                            : "", e->multi);

    for (g = 0; g < e->ngoals; g++) {
        fprintf(f, "  goal %s\n", str(&rp->goals[e->goals[g]]));
        tbl_row(&t, 14, "variation", "visitors", "converted", "rate",
                "uplift", "95% CI", "p", "beat ctl", "cuped CI",
                "var red", "rev/visitor", "rev uplift", "rev p",
                seq ? "seq 95% CI (diff)" : "");
        for (v = 0; v < e->nvars; v++) {
            k = v * e->ngoals + g;
            mkt_report_compare(rp, e, v, g, &cmp);
            if (v == 0) {
                tbl_row(&t, 11, str(&e->vars[v]), count(e->cells[k].n),
                        count(e->cells[k].x), pct(cmp.rate), "control",
                        "", "", "", "", "", num(cmp.rpv));
                continue;
            }
            tbl_row(&t, 14, str(&e->vars[v]), count(e->cells[k].n),
                    count(e->cells[k].x), pct(cmp.rate), spct(cmp.conv.rel),
                    ci_pct(cmp.conv.rel_lo, cmp.conv.rel_hi),
                    pval(cmp.conv.p), pct(cmp.beat),
                    isnan(cmp.cuped_lo) ? "-"
                        : fmt("[%+.2fpp, %+.2fpp]", cmp.cuped_lo * 100,
                              cmp.cuped_hi * 100),
                    pct(cmp.var_reduction), num(cmp.rpv),
                    spct(cmp.rev.rel), pval(cmp.rev.p),
                    !seq || isnan(cmp.seq_lo) ? ""
                        : fmt("[%+.2fpp, %+.2fpp]", cmp.seq_lo * 100,
                              cmp.seq_hi * 100));
        }
        tbl_print(f, &t, "    ");
    }

    if (rp->ngoals > 0) {
        fprintf(f, "  funnel after exposure\n");
        tbl_row(&t, 1, "variation");
        for (g = 0; g < rp->ngoals && g + 2 < COLS_MAX; g++) {
            snprintf(t.cells[g + 1], CELL_MAX, "%s", str(&rp->goals[g]));
        }
        t.ncols = g + 1;
        for (v = 0; v < e->nvars; v++) {
            tbl_row(&t, 1, str(&e->vars[v]));
            for (g = 0; g < rp->ngoals && g + 2 < COLS_MAX; g++) {
                snprintf(t.cells[(t.nrows - 1) * COLS_MAX + g + 1], CELL_MAX,
                         "%.0f", e->funnel[v * rp->ngoals + g]);
            }
        }
        tbl_print(f, &t, "    ");
    }
}


void
mkt_report_print_table(FILE *f, const mkt_report_t *rp)
{
    tbl_t   t;
    size_t  i, g;
    int     d, m;

    memset(&t, 0, sizeof(t));
    fprintf(f, "input: ");
    print_counts(f, rp, "%s %llu", ", ");
    fprintf(f, "\n");

    for (i = 0; i < rp->nexps; i++) {
        print_exp_table(f, rp, &rp->exps[i]);
    }

    if (rp->ngoals > 0) {
        fprintf(f, "\nfunnel (%.0f persons)\n", rp->funnel_base);
        tbl_row(&t, 3, "step", "persons", "of all");
        for (g = 0; g < rp->ngoals; g++) {
            tbl_row(&t, 3, str(&rp->goals[g]), count(rp->funnel[g]),
                    pct(rp->funnel_base > 0 ? rp->funnel[g] / rp->funnel_base
                                            : NAN));
        }
        tbl_print(f, &t, "  ");
    }

    fprintf(f, "\nattribution: %.0f conversions, revenue %.2f; lookback %g "
            "days, time-decay half-life %g days\n", rp->attributed,
            rp->attributed_rev,
            (double) rp->opts.lookback / MKT_REPORT_DAY_MS,
            (double) rp->opts.half_life / MKT_REPORT_DAY_MS);
    for (d = 0; d < MKT_DIMS; d++) {
        tbl_row(&t, 1, mkt_report_dim_name(d));
        for (m = 0; m < MKT_MODELS; m++) {
            snprintf(t.cells[m + 1], CELL_MAX, "%s", mkt_report_model_name(m));
            snprintf(t.cells[MKT_MODELS + m + 1], CELL_MAX, "rev %s",
                     mkt_report_model_name(m));
        }
        t.ncols = 2 * MKT_MODELS + 1;
        for (i = 0; i < rp->ncredit[d]; i++) {
            const mkt_report_credit_t  *c = &rp->credit[d][i];

            tbl_row(&t, 1, str(&c->name));
            for (m = 0; m < MKT_MODELS; m++) {
                snprintf(t.cells[(t.nrows - 1) * COLS_MAX + m + 1], CELL_MAX,
                         "%.2f", c->conv[m]);
                snprintf(t.cells[(t.nrows - 1) * COLS_MAX + MKT_MODELS + m
                                 + 1], CELL_MAX, "%.2f", c->rev[m]);
            }
        }
        fprintf(f, "\n");
        tbl_print(f, &t, "  ");
    }
}


/* --- JSON -------------------------------------------------------------- */

static void
jstr(FILE *f, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    fputc('"', f);
    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}


static void
jnum(FILE *f, double v)
{
    if (isnan(v) || isinf(v)) {
        fputs("null", f);
    } else if (v == floor(v) && fabs(v) < 1e15) {
        fprintf(f, "%.0f", v);
    } else {
        fprintf(f, "%.10g", v);
    }
}


static void
jci(FILE *f, double lo, double hi)
{
    if (isnan(lo) || isnan(hi)) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    jnum(f, lo);
    fputc(',', f);
    jnum(f, hi);
    fputc(']', f);
}


/* text (a key and its colon), then a number or an interval */
static void
jkv(FILE *f, const char *text, double v)
{
    fputs(text, f);
    jnum(f, v);
}


static void
jkci(FILE *f, const char *text, double lo, double hi)
{
    fputs(text, f);
    jci(f, lo, hi);
}


/* ,"name":value */
#define JKEY(f, first, name)  fprintf(f, "%s\"%s\":", (first) ? "" : ",", name)


static void
json_cmp(FILE *f, const mkt_report_t *rp, const mkt_report_cmp_t *c)
{
    jkv(f, "{\"uplift\":", c->conv.rel);
    jkci(f, ",\"uplift_ci\":", c->conv.rel_lo, c->conv.rel_hi);
    jkv(f, ",\"diff\":", c->conv.diff);
    jkci(f, ",\"diff_ci\":", c->conv.diff_lo, c->conv.diff_hi);
    jkv(f, ",\"z\":", c->conv.stat);
    jkv(f, ",\"p\":", c->conv.p);
    jkv(f, ",\"chance_to_beat\":", c->beat);

    jkv(f, ",\"revenue\":{\"uplift\":", c->rev.rel);
    jkci(f, ",\"uplift_ci\":", c->rev.rel_lo, c->rev.rel_hi);
    jkv(f, ",\"diff\":", c->rev.diff);
    jkci(f, ",\"diff_ci\":", c->rev.diff_lo, c->rev.diff_hi);
    jkv(f, ",\"t\":", c->rev.stat);
    jkv(f, ",\"df\":", c->rev.df);
    jkv(f, ",\"p\":", c->rev.p);

    jkv(f, "},\"cuped\":{\"diff\":", c->cuped_diff);
    jkci(f, ",\"diff_ci\":", c->cuped_lo, c->cuped_hi);
    jkv(f, ",\"p\":", c->cuped_p);
    jkv(f, ",\"theta\":", c->cuped_theta);
    jkv(f, ",\"variance_reduction\":", c->var_reduction);
    fputc('}', f);

    if (rp->opts.seq_tuning > 0) {
        jkci(f, ",\"sequential_diff_ci\":", c->seq_lo, c->seq_hi);
    }
    fputc('}', f);
}


static void
json_exp(FILE *f, const mkt_report_t *rp, const mkt_report_exp_t *e)
{
    mkt_report_cmp_t  cmp;
    size_t            v, g, k;

    fputs("{\"key\":", f);
    jstr(f, e->key.data, e->key.len);
    fprintf(f, ",\"in_config\":%s,\"excluded_multiple\":",
            e->in_config ? "true" : "false");
    jnum(f, e->multi);
    jkv(f, ",\"srm\":{\"chi2\":", e->srm_chi2);
    jkv(f, ",\"p\":", e->srm_p);
    fprintf(f, ",\"mismatch\":%s},\"variations\":[",
            e->srm_p < MKT_REPORT_SRM_ALPHA ? "true" : "false");
    for (v = 0; v < e->nvars; v++) {
        fputs(v ? ",{\"name\":" : "{\"name\":", f);
        jstr(f, e->vars[v].data, e->vars[v].len);
        jkv(f, ",\"weight\":", v < e->nconfigured ? e->weights[v] : NAN);
        jkv(f, ",\"exposed\":", e->exposed[v]);
        fputs(",\"funnel\":[", f);
        for (g = 0; g < rp->ngoals; g++) {
            if (g) {
                fputc(',', f);
            }
            jnum(f, e->funnel[v * rp->ngoals + g]);
        }
        fputs("]}", f);
    }

    fputs("],\"goals\":[", f);
    for (g = 0; g < e->ngoals; g++) {
        fputs(g ? ",{\"goal\":" : "{\"goal\":", f);
        jstr(f, rp->goals[e->goals[g]].data, rp->goals[e->goals[g]].len);
        fputs(",\"variations\":[", f);
        for (v = 0; v < e->nvars; v++) {
            k = v * e->ngoals + g;
            mkt_report_compare(rp, e, v, g, &cmp);
            fputs(v ? ",{\"name\":" : "{\"name\":", f);
            jstr(f, e->vars[v].data, e->vars[v].len);
            jkv(f, ",\"visitors\":", e->cells[k].n);
            jkv(f, ",\"converted\":", e->cells[k].x);
            jkv(f, ",\"rate\":", cmp.rate);
            jkv(f, ",\"revenue\":", e->cells[k].rev);
            jkv(f, ",\"revenue_per_visitor\":", cmp.rpv);
            fputs(",\"vs_control\":", f);
            if (v == 0) {
                fputs("null", f);
            } else {
                json_cmp(f, rp, &cmp);
            }
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("]}", f);
}


void
mkt_report_print_json(FILE *f, const mkt_report_t *rp)
{
    size_t  i, g;
    int     d, m;

    fprintf(f, "{\"version\":1,\"input\":{");
    print_counts(f, rp, "\"%s\":%llu", ",");
    fprintf(f, "},");

    fputs("\"options\":{\"goal\":", f);
    if (rp->opts.goal) {
        jstr(f, rp->opts.goal, strlen(rp->opts.goal));
    } else {
        fputs("null", f);
    }
    jkv(f, ",\"from\":", rp->opts.from == INT64_MIN ? NAN : (double) rp->opts.from);
    jkv(f, ",\"to\":", rp->opts.to == INT64_MAX ? NAN : (double) rp->opts.to);
    jkv(f, ",\"lookback_days\":", (double) rp->opts.lookback / MKT_REPORT_DAY_MS);
    jkv(f, ",\"half_life_days\":", (double) rp->opts.half_life / MKT_REPORT_DAY_MS);
    jkv(f, ",\"sequential_tuning\":", rp->opts.seq_tuning > 0 ? rp->opts.seq_tuning : NAN);

    fputs("},\"goals\":[", f);
    for (g = 0; g < rp->ngoals; g++) {
        if (g) {
            fputc(',', f);
        }
        jstr(f, rp->goals[g].data, rp->goals[g].len);
    }

    fputs("],\"experiments\":[", f);
    for (i = 0; i < rp->nexps; i++) {
        if (i) {
            fputc(',', f);
        }
        json_exp(f, rp, &rp->exps[i]);
    }

    jkv(f, "],\"funnel\":{\"persons\":", rp->funnel_base);
    fputs(",\"steps\":[", f);
    for (g = 0; g < rp->ngoals; g++) {
        if (g) {
            fputc(',', f);
        }
        jnum(f, rp->funnel[g]);
    }

    jkv(f, "]},\"attribution\":{\"conversions\":", rp->attributed);
    jkv(f, ",\"revenue\":", rp->attributed_rev);
    fputs(",\"models\":[", f);
    for (m = 0; m < MKT_MODELS; m++) {
        fprintf(f, "%s\"%s\"", m ? "," : "", mkt_report_model_name(m));
    }
    fputc(']', f);
    for (d = 0; d < MKT_DIMS; d++) {
        fprintf(f, ",\"%s\":[", mkt_report_dim_name(d));
        for (i = 0; i < rp->ncredit[d]; i++) {
            const mkt_report_credit_t  *cr = &rp->credit[d][i];

            fputs(i ? ",{\"name\":" : "{\"name\":", f);
            jstr(f, cr->name.data, cr->name.len);
            fputs(",\"conversions\":{", f);
            for (m = 0; m < MKT_MODELS; m++) {
                JKEY(f, m == 0, mkt_report_model_name(m));
                jnum(f, cr->conv[m]);
            }
            fputs("},\"revenue\":{", f);
            for (m = 0; m < MKT_MODELS; m++) {
                JKEY(f, m == 0, mkt_report_model_name(m));
                jnum(f, cr->rev[m]);
            }
            fputs("}}", f);
        }
        fputc(']', f);
    }
    fputs("}}\n", f);
}


/* --- CSV (RFC 4180) ---------------------------------------------------- */

#define CSV_COLUMNS                                                           \
    "kind,experiment,goal,variation,dimension,name,model,visitors,"           \
    "converted,rate,uplift,uplift_lo,uplift_hi,p,chance_to_beat,"             \
    "revenue_per_visitor,revenue_uplift,revenue_p,cuped_diff,cuped_lo,"       \
    "cuped_hi,variance_reduction,srm_p,credit_conversions,credit_revenue"

#define CSV_NCOLUMNS  25


static void
csv_str(FILE *f, const char *s, size_t len)
{
    size_t  i;

    if (len > 0 && strcspn(s, ",\"\r\n") >= len) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            fputc('"', f);
        }
        fputc(s[i], f);
    }
    fputc('"', f);
}


/* One row: the text columns (NULL: empty) then numbers (NaN: empty) from
 * column 8 on, given as (index, value) pairs ending with index 0. */
static void
csv_row(FILE *f, const char *kind, const mkt_str_t *exp, const mkt_str_t *goal,
    const mkt_str_t *var, const char *dim, const mkt_str_t *name,
    const char *model, ...)
{
    double   v[CSV_NCOLUMNS];
    va_list  ap;
    int      i;

    fputs(kind, f);
    fputc(',', f);
    if (exp) {
        csv_str(f, exp->data, exp->len);
    }
    fputc(',', f);
    if (goal) {
        csv_str(f, goal->data, goal->len);
    }
    fputc(',', f);
    if (var) {
        csv_str(f, var->data, var->len);
    }
    fprintf(f, ",%s,", dim ? dim : "");
    if (name) {
        csv_str(f, name->data, name->len);
    }
    fprintf(f, ",%s", model ? model : "");

    for (i = 0; i < CSV_NCOLUMNS; i++) {
        v[i] = NAN;
    }
    va_start(ap, model);
    while ((i = va_arg(ap, int)) != 0) {
        v[i] = va_arg(ap, double);
    }
    va_end(ap);

    for (i = 7; i < CSV_NCOLUMNS; i++) {
        fputc(',', f);
        if (!isnan(v[i])) {
            fprintf(f, "%.10g", v[i]);
        }
    }
    fputs("\r\n", f);
}


void
mkt_report_print_csv(FILE *f, const mkt_report_t *rp)
{
    const mkt_report_exp_t     *e;
    const mkt_report_credit_t  *cr;
    mkt_report_cmp_t            c;
    size_t                      i, v, g, k;
    int                         d, m;

    fputs(CSV_COLUMNS "\r\n", f);

    for (i = 0; i < rp->nexps; i++) {
        e = &rp->exps[i];
        for (g = 0; g < e->ngoals; g++) {
            for (v = 0; v < e->nvars; v++) {
                k = v * e->ngoals + g;
                mkt_report_compare(rp, e, v, g, &c);
                if (v == 0) {
                    /* the control: no comparison */
                    csv_row(f, "experiment", &e->key, &rp->goals[e->goals[g]],
                            &e->vars[v], NULL, NULL, NULL,
                            7, e->cells[k].n, 8, e->cells[k].x, 9, c.rate,
                            15, c.rpv, 22, e->srm_p, 0);
                    continue;
                }
                csv_row(f, "experiment", &e->key, &rp->goals[e->goals[g]],
                        &e->vars[v], NULL, NULL, NULL,
                        7, e->cells[k].n, 8, e->cells[k].x, 9, c.rate,
                        10, c.conv.rel, 11, c.conv.rel_lo, 12, c.conv.rel_hi,
                        13, c.conv.p, 14, c.beat, 15, c.rpv, 16, c.rev.rel,
                        17, c.rev.p, 18, c.cuped_diff, 19, c.cuped_lo,
                        20, c.cuped_hi, 21, c.var_reduction, 22, e->srm_p, 0);
            }
        }
        for (v = 0; v < e->nvars; v++) {
            for (g = 0; g < rp->ngoals; g++) {
                csv_row(f, "funnel", &e->key, &rp->goals[g], &e->vars[v],
                        NULL, NULL, NULL, 7, e->funnel[v * rp->ngoals + g], 0);
            }
        }
    }

    for (g = 0; g < rp->ngoals; g++) {
        csv_row(f, "funnel", NULL, &rp->goals[g], NULL, NULL, NULL, NULL,
                7, rp->funnel[g], 0);
    }

    for (d = 0; d < MKT_DIMS; d++) {
        for (i = 0; i < rp->ncredit[d]; i++) {
            cr = &rp->credit[d][i];
            for (m = 0; m < MKT_MODELS; m++) {
                csv_row(f, "attribution", NULL, NULL, NULL,
                        mkt_report_dim_name(d), &cr->name,
                        mkt_report_model_name(m), 23, cr->conv[m],
                        24, cr->rev[m], 0);
            }
        }
    }
}
