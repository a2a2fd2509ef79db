/* mkt report: reads event files (or stdin) line by line, and a Redis
 * stream, into the report (src/report.h) and prints it in the format
 * asked for. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "report_out.h"
#include "report_redis.h"

#define READ_BUF   (4 << 20)
#define LINE_MAX_BYTES  (1 << 20)   /* longer lines are malformed */


static void
usage_error(const char *msg, const char *arg)
{
    if (msg != NULL) {
        fprintf(stderr, "mkt report: %s%s%s\n", msg, arg ? ": " : "",
                arg ? arg : "");
    }
    fprintf(stderr, "usage: mkt " MKT_CLI_REPORT_USAGE "\n");
}


/* Feeds every line of f to the report; a line longer than the buffer is
 * counted as malformed and skipped to its end. */
static int
read_stream(mkt_report_t *rp, FILE *f, const char *name, char *buf,
    size_t cap)
{
    size_t   have, n, start;
    char    *nl;
    int      skipping;

    have = 0;
    skipping = 0;
    for ( ;; ) {
        n = fread(buf + have, 1, cap - have, f);
        if (n == 0) {
            break;
        }
        have += n;
        start = 0;
        while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
            if (skipping) {
                skipping = 0;
            } else if (mkt_report_add_line(rp, buf + start,
                                           (size_t) (nl - buf) - start) != 0)
            {
                fprintf(stderr, "mkt report: out of memory\n");
                return -1;
            }
            start = (size_t) (nl - buf) + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == cap) {
            if (!skipping) {
                rp->counts.lines++;
                rp->counts.malformed++;
            }
            skipping = 1;
            have = 0;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "mkt report: reading \"%s\": %s\n", name,
                strerror(errno));
        return -1;
    }
    if (have > 0 && !skipping && mkt_report_add_line(rp, buf, have) != 0) {
        fprintf(stderr, "mkt report: out of memory\n");
        return -1;
    }
    return 0;
}


static int
read_file(mkt_report_t *rp, const char *path, char *buf, size_t cap)
{
    FILE  *f;
    int    rc;

    if (strcmp(path, "-") == 0) {
        return read_stream(rp, stdin, "stdin", buf, cap);
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mkt report: cannot open \"%s\": %s\n", path,
                strerror(errno));
        return -1;
    }
    rc = read_stream(rp, f, path, buf, cap);
    fclose(f);
    return rc;
}


static int
parse_days(const char *s, int64_t *ms)
{
    char    *end;
    double   d;

    d = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(d > 0) || d > 3650) {
        return -1;
    }
    /* under a millisecond is 0, which the time-decay model divides by */
    *ms = (int64_t) (d * MKT_REPORT_DAY_MS);
    return *ms > 0 ? 0 : -1;
}


int
mkt_cli_report(int argc, char **argv)
{
    const char         *config, *format, *outpath, *s, *redis, *stream;
    const char        **files;
    mkt_report_opts_t   o;
    mkt_report_t       *rp;
    mkt_config_t       *cfg;
    unsigned            warnings;
    size_t              nfiles;
    char               *buf, *end;
    FILE               *out;
    int                 i, rc;

    mkt_report_opts_init(&o);
    config = NULL;
    format = "table";
    outpath = NULL;
    redis = stream = NULL;
    files = calloc((size_t) argc + 1, sizeof(char *));
    nfiles = 0;
    if (files == NULL) {
        return 2;
    }

    rc = 2;
    for (i = 0; i < argc; i++) {
        s = argv[i];
        if (strcmp(s, "--sequential") == 0) {
            o.seq_tuning = 5000;
            if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
            {
                o.seq_tuning = strtod(argv[++i], &end);
                if (*end != '\0' || !(o.seq_tuning >= 1)) {
                    usage_error("--sequential takes a sample size", argv[i]);
                    goto out;
                }
            }
            continue;
        }
        if (strcmp(s, "-") == 0 || s[0] != '-') {
            files[nfiles++] = s;
            continue;
        }
        if (i + 1 == argc) {
            usage_error("missing value", s);
            goto out;
        }
        if (strcmp(s, "--config") == 0) {
            config = argv[++i];
        } else if (strcmp(s, "--format") == 0) {
            format = argv[++i];
            if (strcmp(format, "table") && strcmp(format, "json")
                && strcmp(format, "csv") && strcmp(format, "html"))
            {
                usage_error("unknown format", format);
                goto out;
            }
        } else if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
            outpath = argv[++i];
        } else if (strcmp(s, "--redis") == 0) {
            redis = argv[++i];
        } else if (strcmp(s, "--stream") == 0) {
            stream = argv[++i];
        } else if (strcmp(s, "--goal") == 0) {
            o.goal = argv[++i];
        } else if (strcmp(s, "--from") == 0 || strcmp(s, "--to") == 0) {
            if (mkt_report_parse_time(argv[i + 1], s[2] == 'f' ? &o.from
                                                               : &o.to) != 0)
            {
                usage_error("expected unix seconds or milliseconds, "
                            "YYYY-MM-DD or an RFC 3339 time", argv[i + 1]);
                goto out;
            }
            i++;
        } else if (strcmp(s, "--lookback") == 0
                   || strcmp(s, "--half-life") == 0)
        {
            if (parse_days(argv[i + 1], s[2] == 'l' ? &o.lookback
                                                    : &o.half_life) != 0)
            {
                usage_error("expected a number of days from 0 to 3650",
                            argv[i + 1]);
                goto out;
            }
            i++;
        } else {
            usage_error("unknown option", s);
            goto out;
        }
    }
    if ((redis == NULL) != (stream == NULL)) {
        usage_error("--redis and --stream go together", NULL);
        goto out;
    }
    if (nfiles == 0 && redis == NULL) {
        usage_error("no event files (use - for stdin)", NULL);
        goto out;
    }

    cfg = NULL;
    if (config != NULL) {
        cfg = mkt_cli_load_config(config, &warnings);
        if (cfg == NULL) {
            rc = 1;
            goto out;
        }
    }
    o.cfg = cfg;

    rc = 1;
    rp = mkt_report_create(&o);
    buf = malloc(READ_BUF);
    if (rp == NULL || buf == NULL) {
        fprintf(stderr, "mkt report: out of memory\n");
        goto done;
    }

    for (i = 0; i < (int) nfiles; i++) {
        if (read_file(rp, files[i], buf, READ_BUF) != 0) {
            goto done;
        }
    }
    if (redis != NULL && mkt_report_read_redis(rp, redis, stream) != 0) {
        goto done;
    }
    if (mkt_report_finish(rp) != 0) {
        fprintf(stderr, "mkt report: out of memory\n");
        goto done;
    }

    out = stdout;
    if (outpath != NULL) {
        out = fopen(outpath, "w");
        if (out == NULL) {
            fprintf(stderr, "mkt report: cannot write \"%s\": %s\n", outpath,
                    strerror(errno));
            goto done;
        }
    }

    switch (format[0]) {
    case 'j':
        mkt_report_print_json(out, rp);
        break;
    case 'c':
        mkt_report_print_csv(out, rp);
        break;
    case 'h':
        mkt_report_print_html(out, rp);
        break;
    default:
        mkt_report_print_table(out, rp);
    }

    if (rp->counts.malformed > 0) {
        fprintf(stderr, "mkt report: %llu malformed lines skipped\n",
                (unsigned long long) rp->counts.malformed);
    }
    rc = 0;
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "mkt report: writing the report: %s\n",
                strerror(errno));
        rc = 1;
    }

done:
    free(buf);
    mkt_report_free(rp);
    mkt_config_free(cfg);
out:
    free(files);
    return rc;
}
