/* mkt explain FILE --attr K=V ...: every experiment of a config for one
 * request (in or out, why, variation, bucket), the variables the module
 * would set, and the slots' rule-based choices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "experiment.h"

#define FORCE_ARG_MAX  MKT_FORCE_INPUT_MAX

typedef struct {
    json_t         *attrs;
    const char     *host;
    const char     *path;
    const char     *sticky;
    int64_t         now;
    int             json;
    char            force[FORCE_ARG_MAX + 1];
    size_t          force_len;
} explain_args_t;


/* Sets attrs.K (K dotted: geo.country) to v, creating objects. */
static int
set_path(json_t *obj, const char *key, json_t *v)
{
    char        part[256];
    const char *dot;
    size_t      n;
    json_t     *child;

    while ((dot = strchr(key, '.')) != NULL) {
        n = (size_t) (dot - key);
        if (n == 0 || n >= sizeof(part)) {
            json_decref(v);
            return -1;
        }
        memcpy(part, key, n);
        part[n] = '\0';

        child = json_object_get(obj, part);
        if (child == NULL) {
            child = json_object();
            if (child == NULL || json_object_set_new(obj, part, child) != 0) {
                json_decref(v);
                return -1;
            }
        } else if (!json_is_object(child)) {
            json_decref(v);
            return -1;
        }
        obj = child;
        key = dot + 1;
    }

    if (*key == '\0') {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(obj, key, v);
}


static int
add_attr(explain_args_t *a, const char *arg, int is_json)
{
    char          key[256];
    const char   *eq;
    json_t       *v;
    json_error_t  jerr;

    eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || (size_t) (eq - arg) >= sizeof(key)) {
        fprintf(stderr, "mkt: expected K=V, not \"%s\"\n", arg);
        return -1;
    }
    memcpy(key, arg, (size_t) (eq - arg));
    key[eq - arg] = '\0';

    if (is_json) {
        v = json_loads(eq + 1, JSON_DECODE_ANY, &jerr);
        if (v == NULL) {
            fprintf(stderr, "mkt: --attr-json %s: %s\n", key, jerr.text);
            return -1;
        }
    } else {
        v = json_string(eq + 1);
        if (v == NULL) {
            fprintf(stderr, "mkt: --attr %s: not UTF-8\n", key);
            return -1;
        }
    }

    if (set_path(a->attrs, key, v) != 0) {
        fprintf(stderr, "mkt: cannot set attribute \"%s\"\n", key);
        return -1;
    }
    return 0;
}


static int
parse_args(int argc, char **argv, explain_args_t *a, const char **file)
{
    int          i;
    size_t       n;
    const char  *s;

    *file = NULL;

    for (i = 0; i < argc; i++) {
        s = argv[i];
        if (strcmp(s, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (s[0] != '-') {
            if (*file != NULL) {
                return -1;
            }
            *file = s;
            continue;
        }
        if (i + 1 == argc) {
            return -1;
        }

        if (strcmp(s, "--attr") == 0 || strcmp(s, "--attr-json") == 0) {
            if (add_attr(a, argv[++i], s[6] == '-') != 0) {
                return -1;
            }
        } else if (strcmp(s, "--host") == 0) {
            a->host = argv[++i];
        } else if (strcmp(s, "--path") == 0) {
            a->path = argv[++i];
        } else if (strcmp(s, "--sticky") == 0) {
            a->sticky = argv[++i];
        } else if (strcmp(s, "--now") == 0) {
            s = argv[++i];
            if (mkt_config_parse_time(s, strlen(s), &a->now) != 0) {
                char  *end;

                a->now = strtoll(s, &end, 10);
                if (*s == '\0' || *end != '\0') {
                    fprintf(stderr, "mkt: --now takes unix seconds or an "
                            "RFC 3339 time\n");
                    return -1;
                }
            }
        } else if (strcmp(s, "--force") == 0) {
            s = argv[++i];
            n = strlen(s);
            if (a->force_len + n + 1 > FORCE_ARG_MAX) {
                fprintf(stderr, "mkt: --force: too long\n");
                return -1;
            }
            if (a->force_len) {
                a->force[a->force_len++] = ',';
            }
            memcpy(a->force + a->force_len, s, n);
            a->force_len += n;
        } else {
            return -1;
        }
    }

    return *file ? 0 : -1;
}


/* What the glue derives for every request, unless given: host and path
 * from --host/--path, id from uid else vid, dow and hour (UTC) from now. */
static void
default_attrs(explain_args_t *a)
{
    json_t   *o = a->attrs, *id;
    int64_t   day;

    if (a->host && json_object_get(o, "host") == NULL) {
        json_object_set_new(o, "host", json_string(a->host));
    }
    if (a->path && json_object_get(o, "path") == NULL) {
        json_object_set_new(o, "path", json_string(a->path));
    }
    if (json_object_get(o, "id") == NULL) {
        id = json_object_get(o, "uid");
        if (!json_is_string(id) || json_string_length(id) == 0) {
            id = json_object_get(o, "vid");
        }
        if (id != NULL) {
            json_object_set(o, "id", id);
        }
    }

    day = a->now >= 0 ? a->now / 86400 : (a->now - 86399) / 86400;
    if (json_object_get(o, "dow") == NULL) {
        /* 1970-01-01 was a Thursday; 0 is Sunday, as JavaScript counts */
        json_object_set_new(o, "dow", json_integer(((day % 7) + 11) % 7));
    }
    if (json_object_get(o, "hour") == NULL) {
        json_object_set_new(o, "hour",
                            json_integer((a->now - day * 86400) / 3600));
    }
}


static const char *
status_name(mkt_exp_status_e s)
{
    return s == MKT_EXP_DRAFT ? "draft"
           : s == MKT_EXP_STOPPED ? "stopped" : "running";
}


static json_t *
hash_json(const mkt_experiment_t *e, const mkt_val_t *attrs,
    const mkt_exp_result_t *r, char *text, size_t cap)
{
    char         buf[MKT_HASH_VALUE_MAX];
    int          fb;
    size_t       len;
    const char  *v;
    mkt_str_t    attr;

    v = mkt_experiment_hash_value(e, attrs, buf, &len, &fb);
    attr = fb ? e->fallback_attribute : e->hash_attribute;

    if (v == NULL) {
        snprintf(text, cap, "%.*s (missing)", (int) attr.len, attr.data);
        return json_null();
    }
    snprintf(text, cap, "%.*s=%.*s", (int) attr.len, attr.data, (int) len,
             v);
    return json_pack("{s:s%,s:s%}", "attribute", attr.data, attr.len,
                     "value", v, len);
}


static void
print_table(const mkt_config_t *cfg, const mkt_val_t *attrs,
    const mkt_exp_result_t *res, size_t n, int width)
{
    char                     bucket[16], hash[160];
    size_t                   i;
    const mkt_experiment_t  *e;
    const mkt_exp_result_t  *r;

    printf("%-*s  %-7s  %-3s  %-12s  %-6s  %-17s  %s\n", width, "experiment",
           "status", "in", "variation", "bucket", "reason", "hashed on");

    for (i = 0; i < n; i++) {
        r = &res[i];
        e = mkt_config_experiment(cfg, r->exp);

        if (r->bucket >= 0) {
            snprintf(bucket, sizeof(bucket), "%.4f", r->bucket);
        } else {
            snprintf(bucket, sizeof(bucket), "-");
        }
        json_decref(hash_json(e, attrs, r, hash, sizeof(hash)));

        printf("%-*.*s  %-7s  %-3s  %-12.*s  %-6s  %-17s  %s\n", width,
               (int) e->key.len, e->key.data, status_name(e->status),
               r->variation >= 0 ? "yes" : "no",
               r->variation >= 0 ? (int) e->variations[r->variation].len : 1,
               r->variation >= 0 ? e->variations[r->variation].data : "-",
               bucket, mkt_reason_name(r->reason),
               r->reason == MKT_REASON_FORCED
               || r->reason == MKT_REASON_STOPPED_WINNER ? "-" : hash);
    }
}


static int
explain(const mkt_config_t *cfg, explain_args_t *a)
{
    char                     key[MKT_CACHE_KEY_LEN + 1], *exps, *sb, hash[160];
    int                      holdout;
    size_t                   n, i, len, width, nforced;
    json_t                  *out, *arr, *item;
    mkt_val_t               *attrs;
    mkt_force_t              forced[MKT_FORCE_MAX];
    mkt_sticky_t             sticky;
    mkt_request_t            req;
    mkt_exp_result_t        *res;
    mkt_slot_result_t       *slots;
    const mkt_slot_t        *s;
    const mkt_holdout_t     *h;
    const mkt_experiment_t  *e;
    mkt_cookie_status_e      st;

    attrs = mkt_val_from_json(a->attrs);
    n = mkt_config_experiment_count(cfg);
    res = calloc(n + 1, sizeof(*res));
    exps = malloc(mkt_config_experiments_str_max(cfg) + 1);
    sb = malloc(MKT_STICKY_COOKIE_MAX);
    slots = calloc(mkt_config_slot_count(cfg) + 1, sizeof(*slots));
    if (attrs == NULL || res == NULL || exps == NULL || sb == NULL
        || slots == NULL)
    {
        fprintf(stderr, "mkt: out of memory or attributes too deep\n");
        mkt_val_free(attrs);
        free(slots);
        free(res);
        free(exps);
        free(sb);
        return 2;
    }

    mkt_sticky_init(&sticky);
    if (a->sticky) {
        st = mkt_sticky_decode(NULL, a->sticky, strlen(a->sticky), &sticky);
        if (st != MKT_COOKIE_OK) {
            fprintf(stderr, "mkt: --sticky: %s (ignored)\n",
                    mkt_cookie_status_name(st));
        }
    }

    nforced = mkt_force_parse(cfg, a->force, a->force_len, forced);

    memset(&req, 0, sizeof(req));
    req.attributes = attrs;
    req.host = a->host;
    req.host_len = a->host ? strlen(a->host) : 0;
    req.path = a->path ? a->path : "/";
    req.path_len = strlen(req.path);
    req.now = a->now;
    req.sticky = &sticky;
    req.forced = forced;
    req.nforced = nforced;
    req.all = 1;

    n = mkt_experiments_eval(cfg, &req, res);
    len = mkt_experiments_format(cfg, res, n, exps,
                                 mkt_config_experiments_str_max(cfg));
    exps[len] = '\0';
    holdout = mkt_holdout_contains(cfg, attrs);
    mkt_slots_choose(cfg, attrs, holdout, res, n, slots);
    key[mkt_decisions_cache_key(cfg, res, n, slots, key)] = '\0';
    h = mkt_config_holdout(cfg);
    i = 0;
    if (sticky.changed) {
        (void) mkt_sticky_encode(NULL, &sticky, cfg, sb, &i);
    }
    sb[i] = '\0';

    if (a->json) {
        out = json_object();
        arr = json_array();
        json_object_set_new(out, "now", json_integer(a->now));
        json_object_set_new(out, "attributes", json_incref(a->attrs));
        json_object_set_new(out, "holdout", json_boolean(holdout));
        json_object_set_new(out, "experiments", arr);
        for (i = 0; i < n; i++) {
            e = mkt_config_experiment(cfg, res[i].exp);
            item = json_pack("{s:s%,s:s,s:b,s:o,s:o,s:s,s:o,s:b,s:b,s:b}",
                             "key", e->key.data, e->key.len,
                             "status", status_name(e->status),
                             "in", res[i].variation >= 0,
                             "variation", res[i].variation >= 0
                             ? json_stringn(e->variations[res[i].variation]
                                                .data,
                                            e->variations[res[i].variation]
                                                .len)
                             : json_null(),
                             "bucket", res[i].bucket >= 0
                                       ? json_real(res[i].bucket)
                                       : json_null(),
                             "reason", mkt_reason_name(res[i].reason),
                             "hash", hash_json(e, attrs, &res[i], hash,
                                               sizeof(hash)),
                             "sticky", res[i].sticky,
                             "forced", res[i].forced,
                             "exposure", res[i].exposure);
            json_array_append_new(arr, item);
        }
        arr = json_array();
        json_object_set_new(out, "slots", arr);
        for (i = 0; i < mkt_config_slot_count(cfg); i++) {
            s = mkt_config_slot(cfg, i);
            len = slots[i].variant;
            json_array_append_new(arr, json_pack(
                "{s:s%,s:s%,s:s,s:o}", "key", s->key.data, s->key.len,
                "variant", s->variants[len].data, s->variants[len].len,
                "reason", mkt_slot_reason_name(slots[i].reason),
                "rule", slots[i].rule >= 0 ? json_integer(slots[i].rule)
                                          : json_null()));
        }
        json_object_set_new(out, "mkt_experiments", json_string(exps));
        json_object_set_new(out, "mkt_cache_key", json_string(key));
        json_object_set_new(out, "sticky_cookie", json_string(sb));
        {
            char  *txt = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);

            printf("%s\n", txt ? txt : "{}");
            free(txt);
        }
        json_decref(out);

    } else {
        width = 10;
        for (i = 0; i < n; i++) {
            e = mkt_config_experiment(cfg, res[i].exp);
            if (e->key.len > width) {
                width = e->key.len;
            }
        }
        print_table(cfg, attrs, res, n, (int) width);

        printf("\n");
        if (h != NULL) {
            printf("holdout %.*s (%g%%): %s\n", (int) h->key.len, h->key.data,
                   h->coverage * 100, holdout ? "held out" : "not held out");
        }
        for (i = 0; i < mkt_config_slot_count(cfg); i++) {
            s = mkt_config_slot(cfg, i);
            len = slots[i].variant;
            printf("slot %.*s: %.*s (%s", (int) s->key.len, s->key.data,
                   (int) s->variants[len].len, s->variants[len].data,
                   mkt_slot_reason_name(slots[i].reason));
            if (slots[i].rule >= 0) {
                printf(" %d", slots[i].rule);
            }
            printf("; plugins not run)\n");
        }
        printf("$mkt_experiments: %s\n", exps);
        printf("$mkt_cache_key: %s\n", key);
        if (sb[0]) {
            printf("sets " MKT_STICKY_COOKIE ": %s (unsigned here)\n", sb);
        }
    }

    mkt_val_free(attrs);
    free(res);
    free(slots);
    free(exps);
    free(sb);
    return 0;
}


int
mkt_cli_explain(int argc, char **argv)
{
    int             rc;
    unsigned        warnings;
    const char     *file;
    mkt_config_t   *cfg;
    explain_args_t  a;

    memset(&a, 0, sizeof(a));
    a.now = (int64_t) time(NULL);
    a.attrs = json_object();
    if (a.attrs == NULL) {
        return 2;
    }

    if (parse_args(argc, argv, &a, &file) != 0) {
        fprintf(stderr, "usage: mkt " MKT_CLI_EXPLAIN_USAGE "\n");
        json_decref(a.attrs);
        return 2;
    }
    default_attrs(&a);

    cfg = mkt_cli_load_config(file, &warnings);
    if (cfg == NULL) {
        json_decref(a.attrs);
        return 1;
    }

    rc = explain(cfg, &a);

    mkt_config_free(cfg);
    json_decref(a.attrs);
    return rc;
}
