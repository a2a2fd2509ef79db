/* mkt eval FILE|-: the assignment engine, bare, on GrowthBook-style
 * {"context": ..., "experiment": ...} lines (DESIGN.md section 9), each
 * answered as GrowthBook's run() would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "experiment.h"

#define LINE_MAX_BYTES  (1024 * 1024)
#define ERR_MAX         512


/* getExperimentResult(): an index outside the variations means "not in
 * the experiment" and the first variation. */
static void
print_result(json_t *variations, const mkt_experiment_t *named, int v,
    int hash_used)
{
    int      in;
    char    *value;
    size_t   n;
    json_t  *j;

    n = named ? named->nvariations : json_array_size(variations);
    in = v >= 0 && (size_t) v < n;
    if (!in) {
        v = 0;
        hash_used = 0;
    }

    if (named) {
        j = (size_t) v < n ? json_stringn(named->variations[v].data,
                                          named->variations[v].len)
                           : json_null();
    } else {
        j = json_incref(json_array_get(variations, (size_t) v));
        if (j == NULL) {
            j = json_null();
        }
    }

    value = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    printf("{\"value\":%s,\"inExperiment\":%s,\"hashUsed\":%s,"
           "\"variationId\":%d}\n", value ? value : "null",
           in ? "true" : "false", hash_used ? "true" : "false", v);
    free(value);
    json_decref(j);
}


static void
print_error(const char *msg)
{
    json_t  *j;
    char    *s;

    j = json_pack("{s:s}", "error", msg);
    s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    printf("%s\n", s ? s : "{\"error\":\"out of memory\"}");
    free(s);
    json_decref(j);
}


static int
hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char) (c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}


/* Percent-decodes s[0..len) into buf (cap >= len); returns the length. */
static size_t
unescape(const char *s, size_t len, char *buf)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len + 0 && hex(s[i + 1]) >= 0
            && hex(s[i + 2]) >= 0)
        {
            buf[n++] = (char) (hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            buf[n++] = ' ';
        } else {
            buf[n++] = s[i];
        }
    }
    return n;
}


/* GrowthBook getQueryStringOverride(id, url, n): -1 when none. */
static int
query_override(const char *key, const char *url, size_t n)
{
    char         kbuf[1024], vbuf[16];
    const char  *q, *end, *p, *amp, *eq;
    size_t       klen, vlen, i;
    long         v;

    q = strchr(url, '?');
    if (q == NULL) {
        return -1;
    }
    end = strchr(q, '#');
    if (end == NULL) {
        end = q + strlen(q);
    }

    for (p = q + 1; p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        if (eq != NULL && (size_t) (eq - p) < sizeof(kbuf)
            && (size_t) (amp - eq - 1) < sizeof(vbuf))
        {
            klen = unescape(p, (size_t) (eq - p), kbuf);
            vlen = unescape(eq + 1, (size_t) (amp - eq - 1), vbuf);
            if (klen == strlen(key) && memcmp(kbuf, key, klen) == 0) {
                if (vlen == 0 || vlen > 9) {
                    return -1;
                }
                for (v = 0, i = 0; i < vlen; i++) {
                    if (vbuf[i] < '0' || vbuf[i] > '9') {
                        return -1;
                    }
                    v = v * 10 + (vbuf[i] - '0');
                }
                return (size_t) v < n ? (int) v : -1;
            }
        }
        if (amp == end) {
            break;
        }
    }

    return -1;
}


/* An integer index (1.0 is 1, as in JavaScript), or -1 (which GrowthBook
 * then reports as "not in"). */
static int
index_of(json_t *v)
{
    double  d;

    if (!json_is_number(v)) {
        return -1;
    }
    d = json_number_value(v);
    return d >= 0 && d <= 1000000 && d == (int) d ? (int) d : -1;
}


/* JavaScript's truthiness of a JSON value: all but false, null, 0, "" */
static int
truthy(json_t *v)
{
    return v != NULL && !json_is_false(v) && !json_is_null(v)
           && !(json_is_number(v) && json_number_value(v) == 0)
           && !(json_is_string(v) && json_string_length(v) == 0);
}


static void
eval_line(const mkt_config_t *cfg, const char *line, size_t len)
{
    char                     err[ERR_MAX];
    int                      v, k;
    size_t                   n;
    json_t                  *root, *ctx, *exp, *attrs_j, *forced, *variations;
    json_t                  *url, *active, *key_j;
    json_error_t             jerr;
    mkt_val_t               *attrs;
    mkt_experiment_t        *own;
    const mkt_experiment_t  *e;
    mkt_exp_result_t         r;

    root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(err, sizeof(err), "%d:%d: %s", jerr.line, jerr.column,
                 jerr.text);
        print_error(err);
        return;
    }

    attrs = NULL;
    own = NULL;
    ctx = json_object_get(root, "context");
    exp = json_object_get(root, "experiment");

    if (!json_is_object(root) || (ctx != NULL && !json_is_object(ctx))
        || !json_is_object(exp))
    {
        print_error("expected {\"context\": {...}, \"experiment\": {...}}");
        goto done;
    }

    attrs_j = json_object_get(ctx, "attributes");
    if (attrs_j != NULL && !json_is_null(attrs_j)) {
        if (!json_is_object(attrs_j)) {
            print_error("context.attributes: expected an object");
            goto done;
        }
        attrs = mkt_val_from_json(attrs_j);
        if (attrs == NULL) {
            print_error("context.attributes: nested too deeply");
            goto done;
        }
    }

    /* a config experiment by key, when the line gives no variations */
    key_j = json_object_get(exp, "key");
    variations = json_object_get(exp, "variations");
    e = NULL;

    if (cfg != NULL && variations == NULL && json_is_string(key_j)) {
        k = mkt_config_find_experiment(cfg, json_string_value(key_j),
                                       json_string_length(key_j));
        if (k < 0) {
            print_error("experiment.key: no such experiment in the config");
            goto done;
        }
        e = mkt_config_experiment(cfg, (size_t) k);

    } else {
        own = mkt_experiment_from_json(exp, err, sizeof(err));
        if (own == NULL) {
            char  msg[ERR_MAX + 16];

            snprintf(msg, sizeof(msg), "experiment.%s", err);
            print_error(msg);
            goto done;
        }
        e = own;
    }

    n = e->nvariations;

    /* run() steps 1 to 5 */
    if (n < 2) {
        print_result(variations, own ? NULL : e, -1, 0);
        goto done;
    }

    if (json_is_false(json_object_get(ctx, "enabled"))) {
        print_result(variations, own ? NULL : e, -1, 0);
        goto done;
    }

    url = json_object_get(ctx, "url");
    if (json_is_string(url)) {
        v = query_override(e->key.data, json_string_value(url), n);
        if (v >= 0) {
            print_result(variations, own ? NULL : e, v, 0);
            goto done;
        }
    }

    forced = json_object_get(ctx, "forcedVariations");
    if (json_is_object(forced)
        && json_object_getn(forced, e->key.data, e->key.len) != NULL)
    {
        v = index_of(json_object_getn(forced, e->key.data, e->key.len));
        print_result(variations, own ? NULL : e, v, 0);
        goto done;
    }

    active = json_object_get(exp, "active");
    if (json_is_false(active)) {
        print_result(variations, own ? NULL : e, -1, 0);
        goto done;
    }

    /* steps 6 to 10 */
    v = mkt_experiment_run(NULL, e, attrs, NULL, &r);
    if (v < 0) {
        print_result(variations, own ? NULL : e, -1, 0);
        goto done;
    }

    /* 11: experiment.force; 12: qaMode */
    if (json_object_get(exp, "force") != NULL) {
        print_result(variations, own ? NULL : e,
                     index_of(json_object_get(exp, "force")), 0);
        goto done;
    }
    if (truthy(json_object_get(ctx, "qaMode"))) {
        print_result(variations, own ? NULL : e, -1, 0);
        goto done;
    }

    print_result(variations, own ? NULL : e, v, 1);

done:

    mkt_experiment_free(own);
    mkt_val_free(attrs);
    json_decref(root);
}


static int
blank(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return 0;
        }
    }
    return 1;
}


/* Reads one line of at most LINE_MAX_BYTES into buf; a longer one is
 * consumed and reported with *too_long.  0 at the end of input. */
static int
read_line(FILE *f, char *buf, size_t *len, int *too_long)
{
    int     c;
    size_t  n;

    n = 0;
    *too_long = 0;

    while ((c = getc(f)) != EOF) {
        if (c == '\n') {
            *len = n;
            return 1;
        }
        if (n < LINE_MAX_BYTES) {
            buf[n++] = (char) c;
        } else {
            *too_long = 1;
        }
    }

    *len = n;
    return n > 0 || *too_long;
}


int
mkt_cli_eval(int argc, char **argv)
{
    int            too_long;
    char          *line;
    size_t         len;
    unsigned       warnings;
    mkt_config_t  *cfg;

    if (argc != 1) {
        fprintf(stderr, "usage: mkt " MKT_CLI_EVAL_USAGE "\n");
        return 2;
    }

    cfg = NULL;
    if (strcmp(argv[0], "-") != 0) {
        cfg = mkt_cli_load_config(argv[0], &warnings);
        if (cfg == NULL) {
            return 1;
        }
    }

    line = malloc(LINE_MAX_BYTES);
    if (line == NULL) {
        fprintf(stderr, "mkt: out of memory\n");
        mkt_config_free(cfg);
        return 2;
    }

    while (read_line(stdin, line, &len, &too_long)) {
        if (too_long) {
            print_error("line longer than 1048576 bytes");
        } else if (!blank(line, len)) {
            eval_line(cfg, line, len);
        }
        fflush(stdout);
    }

    free(line);
    mkt_config_free(cfg);
    return 0;
}
