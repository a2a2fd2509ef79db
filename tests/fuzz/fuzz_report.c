/* libFuzzer target for src/report_event.c, src/report.c and
 * src/report_join.c: the input is an events file.  Each line the event
 * reader accepts is a JSON object to jansson too, with a number ts and a
 * string type; then the whole file goes through a report, whose numbers
 * must stay consistent: line counts add up, rates are within [0, 1],
 * every model's credit sums to the conversions attributed, p-values and
 * chances within [0, 1]. */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"
#include "report_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)  do { if (!(c)) __builtin_trap(); } while (0)

static int
in01(double v)
{
    return isnan(v) || (v >= -1e-9 && v <= 1 + 1e-9);
}


static void
check_line(const char *line, size_t len)
{
    mkt_rev_t      ev;
    json_t        *j;
    json_error_t   err;
    char          *copy;

    copy = malloc(len ? len : 1);
    memcpy(copy, line, len);

    if (mkt_rev_parse(copy, len, &ev) == 0) {
        j = json_loadb(copy, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        /* jansson's own limits (numbers past a double or 64 bits) are
         * no syntax error */
        CHECK(j != NULL || strstr(err.text, "too big") != NULL
              || strstr(err.text, "overflow") != NULL);
        if (j != NULL) {
            CHECK(json_is_object(j));
            CHECK(json_is_number(json_object_get(j, "ts")));
            CHECK(json_is_string(json_object_get(j, "type")));
            json_decref(j);
        }
        CHECK(ev.ts >= 0);
        CHECK(ev.vid.len <= MKT_REV_STR_MAX && ev.source.len <= MKT_REV_STR_MAX);
    }
    free(copy);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mkt_report_opts_t   o;
    mkt_report_t       *rp;
    mkt_report_cmp_t    c;
    const char         *p, *nl, *end;
    const mkt_report_exp_t  *e;
    double              sum;
    size_t              i, v, g, nlines;
    int                 m;

    mkt_report_opts_init(&o);
    o.seq_tuning = 100;
    o.lookback = 1000;
    o.half_life = 100;
    rp = mkt_report_create(&o);
    CHECK(rp != NULL);

    p = (const char *) data;
    end = p + size;
    nlines = 0;
    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }
        check_line(p, (size_t) (nl - p));
        CHECK(mkt_report_add_line(rp, p, (size_t) (nl - p)) == 0);
        nlines++;
        p = nl + 1;
    }
    CHECK(mkt_report_finish(rp) == 0);

    CHECK(rp->counts.lines == nlines);
    CHECK(rp->counts.malformed + rp->counts.other_type
          + rp->counts.out_of_range + rp->counts.anonymous
          + rp->counts.exposures + rp->counts.conversions
          + rp->counts.touches == nlines);
    CHECK(rp->counts.persons <= rp->counts.visitors);

    for (i = 0; i < rp->nexps; i++) {
        e = &rp->exps[i];
        CHECK(in01(e->srm_p));
        for (v = 0; v < e->nvars; v++) {
            for (g = 0; g < e->ngoals; g++) {
                CHECK(e->cells[v * e->ngoals + g].x
                      <= e->cells[v * e->ngoals + g].n);
                mkt_report_compare(rp, e, v, g, &c);
                CHECK(in01(c.rate) && in01(c.conv.p) && in01(c.beat));
                CHECK(in01(c.rev.p) && in01(c.cuped_p));
            }
        }
    }

    for (m = 0; m < MKT_MODELS; m++) {
        sum = 0;
        for (i = 0; i < rp->ncredit[MKT_DIM_CHANNEL]; i++) {
            sum += rp->credit[MKT_DIM_CHANNEL][i].conv[m];
        }
        CHECK(fabs(sum - rp->attributed) <= 1e-6 * (1 + rp->attributed));
    }

    mkt_report_free(rp);
    return 0;
}
