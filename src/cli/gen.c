/* mkt gen: synthetic events with a known uplift (src/report_gen.h), one
 * JSON line each on stdout, for trying and testing `mkt report`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "report_gen.h"


static int
write_line(void *data, const char *line, size_t len)
{
    FILE  *f = data;

    if (fwrite(line, 1, len, f) != len || putc('\n', f) == EOF) {
        return 1;
    }
    return 0;
}


static int
number(const char *s, double lo, double hi, double *v)
{
    char  *end;

    *v = strtod(s, &end);
    return *s != '\0' && *end == '\0' && *v >= lo && *v <= hi ? 0 : -1;
}


int
mkt_cli_gen(int argc, char **argv)
{
    static char      buf[1 << 20];
    mkt_gen_opts_t   o;
    const char      *s;
    double           v;
    int              i, rc;

    mkt_gen_opts_init(&o);

    for (i = 0; i < argc; i++) {
        s = argv[i];
        if (i + 1 == argc) {
            goto usage;
        }
        if (strcmp(s, "--visitors") == 0) {
            if (number(argv[++i], 0, 1e10, &v) != 0) {
                goto usage;
            }
            o.visitors = (uint64_t) v;
        } else if (strcmp(s, "--seed") == 0) {
            o.seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(s, "--exp") == 0) {
            o.exp = argv[++i];
        } else if (strcmp(s, "--variations") == 0) {
            if (number(argv[++i], 2, 8, &v) != 0) {
                goto usage;
            }
            o.nvars = (unsigned) v;
        } else if (strcmp(s, "--rate") == 0) {
            if (number(argv[++i], 0, 1, &o.rate) != 0) {
                goto usage;
            }
        } else if (strcmp(s, "--uplift") == 0) {
            if (number(argv[++i], -1, 100, &o.uplift) != 0) {
                goto usage;
            }
        } else if (strcmp(s, "--spread") == 0) {
            if (number(argv[++i], 0, 5, &o.spread) != 0) {
                goto usage;
            }
        } else if (strcmp(s, "--days") == 0) {
            if (number(argv[++i], 0.001, 3650, &o.days) != 0) {
                goto usage;
            }
        } else if (strcmp(s, "--start") == 0) {
            if (mkt_report_parse_time(argv[++i], &o.start) != 0) {
                goto usage;
            }
        } else {
            goto usage;
        }
    }

    setvbuf(stdout, buf, _IOFBF, sizeof(buf));
    rc = mkt_gen_run(&o, write_line, stdout);
    if (rc == -1) {
        goto usage;
    }
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "mkt gen: writing failed\n");
        return 1;
    }
    return 0;

usage:
    fprintf(stderr, "usage: mkt " MKT_CLI_GEN_USAGE "\n");
    return 2;
}
