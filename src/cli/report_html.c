/* mkt report --format html: one self-contained page (inline CSS and SVG,
 * no script, no external assets) with the experiment tables, a chart of
 * each goal's conversion rate with its 95% interval per variation, the
 * funnel, and a chart of credit per channel under each attribution
 * model. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_out.h"

#define CHART_W     640
#define LABEL_W     140
#define BAR_H       22

static const char *const  model_colors[MKT_MODELS] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1"
};


static void
esc(FILE *f, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(s[i], f);
        }
    }
}


static void
esc_str(FILE *f, const mkt_str_t *s)
{
    esc(f, s->data, s->len);
}


static void
cell_pct(FILE *f, double v, int sign)
{
    if (isnan(v)) {
        fputs("<td>-</td>", f);
    } else {
        fprintf(f, sign ? "<td>%+.2f%%</td>" : "<td>%.2f%%</td>", v * 100);
    }
}


static void
cell_num(FILE *f, const char *fmt, double v)
{
    if (isnan(v)) {
        fputs("<td>-</td>", f);
    } else {
        fputs("<td>", f);
        fprintf(f, fmt, v);
        fputs("</td>", f);
    }
}


/* Horizontal bars of each variation's rate, with its Wald 95% interval
 * as a whisker, on a shared scale. */
static void
rate_chart(FILE *f, const mkt_report_exp_t *e, size_t g)
{
    const mkt_report_cell_t  *c;
    double                    top, p, h, x0, x1;
    size_t                    v;
    int                       height;

    top = 0;
    for (v = 0; v < e->nvars; v++) {
        c = &e->cells[v * e->ngoals + g];
        if (c->n > 0) {
            p = c->x / c->n;
            top = fmax(top, p + 1.96 * sqrt(p * (1 - p) / c->n));
        }
    }
    top = top > 0 ? fmin(1, top * 1.1) : 1;
    height = (int) e->nvars * (BAR_H + 8) + 24;

    fprintf(f, "<svg class=\"chart\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"conversion "
            "rate by variation\">\n", CHART_W, height, CHART_W, height);
    for (v = 0; v < e->nvars; v++) {
        c = &e->cells[v * e->ngoals + g];
        p = c->n > 0 ? c->x / c->n : 0;
        h = c->n > 0 ? 1.96 * sqrt(p * (1 - p) / c->n) : 0;
        x0 = LABEL_W + (CHART_W - LABEL_W - 70) * fmax(0, p - h) / top;
        x1 = LABEL_W + (CHART_W - LABEL_W - 70) * fmin(1, p + h) / top;
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\">",
                LABEL_W - 6, (int) v * (BAR_H + 8) + 16);
        esc_str(f, &e->vars[v]);
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" "
                "height=\"%d\" fill=\"%s\"/>", LABEL_W,
                (int) v * (BAR_H + 8) + 2,
                (CHART_W - LABEL_W - 70) * p / top, BAR_H,
                v == 0 ? "#9aa5b1" : "#4e79a7");
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
                "class=\"ci\"/><text x=\"%.1f\" y=\"%d\">%.2f%%</text>\n",
                x0, x1, (int) v * (BAR_H + 8) + 2 + BAR_H / 2,
                (int) v * (BAR_H + 8) + 2 + BAR_H / 2, x1 + 6,
                (int) v * (BAR_H + 8) + 16, p * 100);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\">bars: conversion "
            "rate; whiskers: 95%% interval; scale 0 to %.2f%%</text>\n"
            "</svg>\n", LABEL_W, height - 6, top * 100);
}


static void
html_experiment(FILE *f, const mkt_report_t *rp, const mkt_report_exp_t *e)
{
    mkt_report_cmp_t  c;
    size_t            g, v, k;

    fputs("<section><h2>Experiment ", f);
    esc_str(f, &e->key);
    fputs("</h2>\n", f);
    fprintf(f, "<p class=\"%s\">Sample ratio: &chi;&sup2; %.3f, p %.4f%s. "
            "%.0f visitors seen in more than one variation excluded.</p>\n",
            e->srm_p < MKT_REPORT_SRM_ALPHA ? "warn" : "ok", e->srm_chi2,
            e->srm_p, e->srm_p < MKT_REPORT_SRM_ALPHA
                      ? ": <strong>sample ratio mismatch</strong>, do not "
                        "trust this experiment's results" : "", e->multi);

    for (g = 0; g < e->ngoals; g++) {
        fputs("<h3>Goal ", f);
        esc_str(f, &rp->goals[e->goals[g]]);
        fputs("</h3>\n<table><tr><th>variation</th><th>visitors</th>"
              "<th>converted</th><th>rate</th><th>uplift</th>"
              "<th>95% interval</th><th>p</th><th>chance to beat control"
              "</th><th>CUPED difference</th><th>variance reduction</th>"
              "<th>revenue / visitor</th><th>revenue uplift</th>"
              "<th>revenue p</th></tr>\n", f);
        for (v = 0; v < e->nvars; v++) {
            k = v * e->ngoals + g;
            mkt_report_compare(rp, e, v, g, &c);
            fputs("<tr><td>", f);
            esc_str(f, &e->vars[v]);
            fprintf(f, "</td><td>%.0f</td><td>%.0f</td>", e->cells[k].n,
                    e->cells[k].x);
            cell_pct(f, c.rate, 0);
            if (v == 0) {
                fputs("<td colspan=\"6\">control</td>", f);
                cell_num(f, "%.2f", c.rpv);
                fputs("<td></td><td></td></tr>\n", f);
                continue;
            }
            cell_pct(f, c.conv.rel, 1);
            if (isnan(c.conv.rel_lo)) {
                fputs("<td>-</td>", f);
            } else {
                fprintf(f, "<td>%+.1f%% to %+.1f%%</td>", c.conv.rel_lo * 100,
                        c.conv.rel_hi * 100);
            }
            cell_num(f, "%.4f", c.conv.p);
            cell_pct(f, c.beat, 0);
            cell_pct(f, c.cuped_diff, 1);
            cell_pct(f, c.var_reduction, 0);
            cell_num(f, "%.2f", c.rpv);
            cell_pct(f, c.rev.rel, 1);
            cell_num(f, "%.4f", c.rev.p);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
        rate_chart(f, e, g);
    }

    if (rp->ngoals > 0) {
        fputs("<h3>Funnel after exposure</h3>\n<table><tr><th>variation"
              "</th><th>exposed</th>", f);
        for (g = 0; g < rp->ngoals; g++) {
            fputs("<th>", f);
            esc_str(f, &rp->goals[g]);
            fputs("</th>", f);
        }
        fputs("</tr>\n", f);
        for (v = 0; v < e->nvars; v++) {
            fputs("<tr><td>", f);
            esc_str(f, &e->vars[v]);
            fprintf(f, "</td><td>%.0f</td>", e->exposed[v]);
            for (g = 0; g < rp->ngoals; g++) {
                fprintf(f, "<td>%.0f</td>", e->funnel[v * rp->ngoals + g]);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</section>\n", f);
}


/* Grouped bars: each channel, one bar per model. */
static void
credit_chart(FILE *f, const mkt_report_t *rp, mkt_report_dim_e d)
{
    const mkt_report_credit_t  *cr;
    double                      top;
    size_t                      i;
    int                         m, y, height, group;

    top = 0;
    for (i = 0; i < rp->ncredit[d]; i++) {
        for (m = 0; m < MKT_MODELS; m++) {
            top = fmax(top, rp->credit[d][i].conv[m]);
        }
    }
    if (top <= 0) {
        return;
    }

    group = MKT_MODELS * 8 + 10;
    height = (int) rp->ncredit[d] * group + 40;
    fprintf(f, "<svg class=\"chart\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"conversions "
            "credited by %s and model\">\n", CHART_W, height, CHART_W, height,
            mkt_report_dim_name(d));
    for (i = 0; i < rp->ncredit[d]; i++) {
        cr = &rp->credit[d][i];
        y = (int) i * group;
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\">", LABEL_W - 6,
                y + group / 2);
        esc_str(f, &cr->name);
        fputs("</text>", f);
        for (m = 0; m < MKT_MODELS; m++) {
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"7\" "
                    "fill=\"%s\"><title>%s: %.2f</title></rect>", LABEL_W,
                    y + m * 8, (CHART_W - LABEL_W - 60) * cr->conv[m] / top,
                    model_colors[m], mkt_report_model_name(m), cr->conv[m]);
        }
        fputs("\n", f);
    }
    for (m = 0; m < MKT_MODELS; m++) {
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
                "fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>",
                LABEL_W + m * 100, height - 20, model_colors[m],
                LABEL_W + m * 100 + 14, height - 11,
                mkt_report_model_name(m));
    }
    fputs("\n</svg>\n", f);
}


static void
html_attribution(FILE *f, const mkt_report_t *rp)
{
    const mkt_report_credit_t  *cr;
    size_t                      i;
    int                         d, m;

    fprintf(f, "<section><h2>Attribution</h2>\n<p>%.0f conversions, "
            "revenue %.2f; lookback %g days; time-decay half-life %g days. "
            "Conversions without a touch in the lookback window are "
            "credited to <code>" MKT_REPORT_DIRECT "</code>.</p>\n",
            rp->attributed, rp->attributed_rev,
            (double) rp->opts.lookback / MKT_REPORT_DAY_MS,
            (double) rp->opts.half_life / MKT_REPORT_DAY_MS);

    for (d = 0; d < MKT_DIMS; d++) {
        fprintf(f, "<h3>By %s</h3>\n<table><tr><th>%s</th>",
                mkt_report_dim_name(d), mkt_report_dim_name(d));
        for (m = 0; m < MKT_MODELS; m++) {
            fprintf(f, "<th>%s</th>", mkt_report_model_name(m));
        }
        for (m = 0; m < MKT_MODELS; m++) {
            fprintf(f, "<th>revenue %s</th>", mkt_report_model_name(m));
        }
        fputs("</tr>\n", f);
        for (i = 0; i < rp->ncredit[d]; i++) {
            cr = &rp->credit[d][i];
            fputs("<tr><td>", f);
            esc_str(f, &cr->name);
            fputs("</td>", f);
            for (m = 0; m < MKT_MODELS; m++) {
                fprintf(f, "<td>%.2f</td>", cr->conv[m]);
            }
            for (m = 0; m < MKT_MODELS; m++) {
                fprintf(f, "<td>%.2f</td>", cr->rev[m]);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
        if (d == MKT_DIM_CHANNEL) {
            credit_chart(f, rp, d);
        }
    }
    fputs("</section>\n", f);
}


void
mkt_report_print_html(FILE *f, const mkt_report_t *rp)
{
    size_t  i, g;

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>mkt report</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0}\n"
          "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
          "th:first-child,td:first-child{text-align:left}\n"
          "th{background:#f3f4f6}\n.warn{color:#b00020}\n"
          ".chart text{font-size:12px}\n.chart .label{text-anchor:end}\n"
          ".chart .ci{stroke:#222;stroke-width:2}\n.chart .axis{fill:#666}\n"
          "</style></head><body>\n<h1>mkt report</h1>\n<p id=\"input\">", f);
    fprintf(f, "%llu lines: %llu exposures, %llu conversions, %llu touches; "
            "%llu malformed lines skipped. %llu visitors, %llu persons.</p>\n",
            (unsigned long long) rp->counts.lines,
            (unsigned long long) rp->counts.exposures,
            (unsigned long long) rp->counts.conversions,
            (unsigned long long) rp->counts.touches,
            (unsigned long long) rp->counts.malformed,
            (unsigned long long) rp->counts.visitors,
            (unsigned long long) rp->counts.persons);

    for (i = 0; i < rp->nexps; i++) {
        html_experiment(f, rp, &rp->exps[i]);
    }

    if (rp->ngoals > 0) {
        fprintf(f, "<section><h2>Funnel</h2>\n<table><tr><th>step</th>"
                "<th>persons</th><th>of all %.0f</th></tr>\n",
                rp->funnel_base);
        for (g = 0; g < rp->ngoals; g++) {
            fputs("<tr><td>", f);
            esc_str(f, &rp->goals[g]);
            fprintf(f, "</td><td>%.0f</td>", rp->funnel[g]);
            cell_pct(f, rp->funnel_base > 0 ? rp->funnel[g] / rp->funnel_base
                                            : NAN, 0);
            fputs("</tr>\n", f);
        }
        fputs("</table></section>\n", f);
    }

    html_attribution(f, rp);
    fputs("</body></html>\n", f);
}
