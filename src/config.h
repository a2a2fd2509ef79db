/* The experiments file of `mkt_config` (DESIGN.md section 6): read and
 * checked once (nginx -t, reload, `mkt lint`) into an immutable model that
 * the engine (experiment.h) evaluates per request without allocating. */
#ifndef MKT_CONFIG_H
#define MKT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "condition.h"
#include "hash.h"

#define MKT_CONFIG_FILE_MAX         (16 * 1024 * 1024)  /* bytes */
#define MKT_CONFIG_EXPERIMENTS_MAX  10000
#define MKT_CONFIG_SLOTS_MAX        1000
#define MKT_CONFIG_ERRORS_MAX       50   /* reported; then one summary */
#define MKT_KEY_MAX                 64   /* keys and names, bytes */
#define MKT_EXP_VARIATIONS_MAX      32
#define MKT_SLOT_VARIANTS_MAX       64
#define MKT_EXP_HOSTS_MAX           64
#define MKT_BUCKET_VERSION_MAX      1000000
#define MKT_STICKY_ID_SPACE         2176782336u   /* 36^6: sticky_id range */
#define MKT_NO_TIME_START           INT64_MIN
#define MKT_NO_TIME_END             INT64_MAX

typedef struct mkt_config_s  mkt_config_t;

/* A string of the model: not NUL-terminated, owned by the model. */
typedef struct {
    const char  *data;
    size_t       len;
} mkt_str_t;


/*
 * Diagnostics.  msg is the whole line nginx logs and `mkt lint` prints:
 * "FILE: JSON.path: message" ("FILE:LINE:COLUMN: message" for syntax
 * errors).  Any error makes the load fail; warnings (unknown keys, ...)
 * do not.
 */
typedef enum {
    MKT_DIAG_WARN = 0,
    MKT_DIAG_ERROR
} mkt_diag_level_e;

typedef void (*mkt_diag_pt)(void *data, mkt_diag_level_e level,
    const char *msg);


/*
 * Attributes that conditions, rules and hash attributes refer to, so that
 * the glue builds only those per request.  To add a top-level attribute,
 * add one line here.
 */
#define MKT_ATTRIBUTES(X)                                                     \
    X(ID, "id")                                                               \
    X(VID, "vid")                                                             \
    X(UID, "uid")                                                             \
    X(NEW, "new")                                                             \
    X(TAGS, "tags")                                                           \
    X(HOST, "host")                                                           \
    X(PATH, "path")                                                           \
    X(DEVICE, "device")                                                       \
    X(BROWSER, "browser")                                                     \
    X(DOW, "dow")                                                             \
    X(HOUR, "hour")                                                           \
    X(GEO, "geo")                                                             \
    X(UTM, "utm")                                                             \
    X(FT, "ft")                                                               \
    X(LT, "lt")                                                               \
    X(CHANNEL, "channel")                                                     \
    X(QUERY, "query")           /* any query.NAME; names in mkt_attr_refs_t */\
    X(HEADER, "header")         /* any header.NAME */

#define MKT_ATTR_BIT_ENUM(name, str)  MKT_ATTR_BIT_##name,

typedef enum {
    MKT_ATTRIBUTES(MKT_ATTR_BIT_ENUM)
    MKT_ATTR_BIT_QUERY_ALL,     /* "query" itself: the whole object */
    MKT_ATTR_BIT_HEADER_ALL,    /* "header" itself */
    MKT_ATTR_BIT_OTHER,         /* a name not above: for plugins (M6) */
    MKT_ATTR_BITS
} mkt_attr_bit_e;

#define MKT_ATTR(name)  (1u << MKT_ATTR_BIT_##name)

typedef struct {
    uint32_t     flags;         /* MKT_ATTR(...) bits */
    mkt_str_t   *query;         /* NAMEs of query.NAME, as written */
    size_t       nquery;
    mkt_str_t   *header;        /* NAMEs of header.NAME, as written (each
                                 * spelling once) */
    size_t       nheader;
} mkt_attr_refs_t;

/* The name of an attribute bit ("id", ..., "query_all", "header_all",
 * "other"). */
const char *mkt_attr_name(mkt_attr_bit_e bit);


typedef enum {
    MKT_EXP_RUNNING = 0,
    MKT_EXP_DRAFT,
    MKT_EXP_STOPPED
} mkt_exp_status_e;

/* GrowthBook Filter: in when the attribute hashes into one of the ranges. */
typedef struct {
    mkt_str_t      seed;
    mkt_str_t      attribute;       /* "id" when absent */
    int            hash_version;    /* 2 when absent */
    mkt_range_t   *ranges;
    size_t         nranges;
} mkt_filter_t;

/*
 * One experiment.  Read-only for users of the model; the fields below are
 * the public part (the engine reads the rest through internal headers).
 */
typedef struct {
    mkt_str_t          key;
    mkt_str_t          var_name;      /* $mkt_exp_NAME: key lowercased,
                                       * '-' written '_' */
    mkt_exp_status_e   status;        /* running when absent */
    int64_t            start;         /* unix seconds, MKT_NO_TIME_START */
    int64_t            end;           /* exclusive, MKT_NO_TIME_END */

    size_t             nvariations;
    mkt_str_t         *variations;    /* names; empty for `mkt eval`'s
                                       * GrowthBook experiments */
    const double      *weights;       /* NULL: equal */
    double             coverage;      /* 1 when absent */
    const mkt_range_t *ranges;        /* explicit "ranges", or NULL */
    mkt_range_t       *buckets;       /* what run() uses: ranges, or
                                       * getBucketRanges(weights, coverage) */

    mkt_str_t          hash_attribute;      /* "id" when absent */
    mkt_str_t          fallback_attribute;  /* len 0 when absent */
    mkt_str_t          seed;                /* the key when absent */
    int                hash_version;        /* 1 when absent, as GrowthBook */

    int                has_namespace;
    mkt_str_t          ns;
    double             ns_start;
    double             ns_end;

    mkt_filter_t      *filters;
    size_t             nfilters;
    mkt_cond_t        *condition;     /* NULL: none */
    uint32_t           condition_id;  /* shared by equal conditions */

    mkt_str_t         *hosts;         /* match.host; none: any host */
    size_t             nhosts;
    mkt_str_t          path_regex;    /* match.path as written, len 0: any */
    mkt_str_t          path_prefix;   /* its literal prefix, for the index */
    void              *path_re;       /* compiled match.path */
    int                path_literal;  /* MKT_PATH_PREFIX, MKT_PATH_EXACT:
                                       * "^" path_prefix ["$"], nothing
                                       * else; 0: another regex */

    uint32_t           bucket_version;
    uint32_t           min_bucket_version;
    int                winner;        /* variation index, -1 */
    int                slot;          /* index in the slots, -1 */
    size_t            *goals;         /* indices of the top-level goals */
    size_t             ngoals;
    uint32_t           sticky_id;     /* fnv32a(key) % 36^6: _mkt_sb key */
    uint16_t          *variation_hashes;  /* mkt_sticky_variation_hash()
                                           * of each, or NULL */
    uint32_t           seed_fnv;      /* mkt_fnv32a_utf16() of seed, */
    int                has_seed_fnv;  /* made at load (not for mkt eval) */
} mkt_experiment_t;


#define MKT_PATH_PREFIX  1
#define MKT_PATH_EXACT   2


typedef struct {
    mkt_cond_t        *cond;
    size_t             variant;       /* index in the slot's variants */
} mkt_slot_rule_t;

/* A personalisation slot (M4 chooses its variant). */
typedef struct {
    mkt_str_t          key;
    mkt_str_t          var_name;      /* $mkt_slot_NAME */
    mkt_str_t         *variants;
    size_t             nvariants;
    mkt_slot_rule_t   *rules;
    size_t             nrules;
    size_t             default_variant;
} mkt_slot_t;

typedef struct {
    mkt_str_t          key;           /* the hash seed */
    double             coverage;      /* share of ids held out */
} mkt_holdout_t;


/* Values of channel codes, like utm_* values, are cut to this (bytes). */
#define MKT_UTM_VALUE_MAX           128
#define MKT_CHANNEL_CODES_MAX       10000
#define MKT_CLICK_IDS_MAX           32    /* extra click id names */
#define MKT_REFERRER_HOSTS_MAX      10000 /* a list of "referrers" */

/* "channels.codes": what a value of the channel-code parameter stands
 * for. */
typedef struct {
    mkt_str_t          code;
    mkt_str_t          source;
    mkt_str_t          medium;
    mkt_str_t          campaign;      /* len 0: none */
} mkt_channel_code_t;

/* "channels".  Strings are NUL-terminated. */
typedef struct {
    mkt_str_t            param;       /* len 0: no channel codes */
    mkt_channel_code_t  *codes;       /* sorted by code, bytewise */
    size_t               ncodes;
    mkt_str_t           *click_ids;   /* extra click id parameter names */
    size_t               nclick_ids;
} mkt_channels_t;

/* Host names normalised as mkt_host_normalize() does, sorted bytewise,
 * each once. */
typedef struct {
    mkt_str_t         *names;
    size_t             n;
} mkt_host_list_t;

/* "referrers". */
typedef struct {
    mkt_host_list_t    same_site;
    mkt_host_list_t    search;
    mkt_host_list_t    social;
} mkt_referrers_t;


/*
 * Loads and checks a config file.  path is also the FILE of messages.
 * Every error and warning goes to diag (may be NULL).  Returns NULL when
 * there was any error.  Not for the request path: allocates freely.
 */
mkt_config_t *mkt_config_load(const char *path, mkt_diag_pt diag,
    void *data);

/* The same from memory; name is the FILE of messages (tests, fuzzing). */
mkt_config_t *mkt_config_load_string(const char *name, const char *json,
    size_t len, mkt_diag_pt diag, void *data);

void mkt_config_free(mkt_config_t *cfg);

size_t mkt_config_experiment_count(const mkt_config_t *cfg);
const mkt_experiment_t *mkt_config_experiment(const mkt_config_t *cfg,
    size_t i);
size_t mkt_config_slot_count(const mkt_config_t *cfg);
const mkt_slot_t *mkt_config_slot(const mkt_config_t *cfg, size_t i);
size_t mkt_config_goal_count(const mkt_config_t *cfg);
const mkt_str_t *mkt_config_goal(const mkt_config_t *cfg, size_t i);

/* NULL when the file has no "holdout". */
const mkt_holdout_t *mkt_config_holdout(const mkt_config_t *cfg);

const mkt_attr_refs_t *mkt_config_attr_refs(const mkt_config_t *cfg);

/* "channels", "referrers", "plugins" as written (the first two are also
 * compiled, below); NULL when absent.  Borrowed. */
json_t *mkt_config_section(const mkt_config_t *cfg, const char *name);

/* The compiled "channels" and "referrers": never NULL, empty when the
 * file has no such section.  What utm.h and referrer.h take. */
const mkt_channels_t *mkt_config_channels(const mkt_config_t *cfg);
const mkt_referrers_t *mkt_config_referrers(const mkt_config_t *cfg);

/* The channel code with exactly these bytes, or NULL (ch may be NULL). */
const mkt_channel_code_t *mkt_channels_find_code(const mkt_channels_t *ch,
    const char *code, size_t len);

/* The name of the list that host (normalised) is or is under, the most
 * specific one; NULL if none (list may be NULL). */
const mkt_str_t *mkt_host_list_match(const mkt_host_list_t *list,
    const char *host, size_t len);

/* Index of the experiment with exactly this key, or -1. */
int mkt_config_find_experiment(const mkt_config_t *cfg, const char *key,
    size_t len);

/* Index of the experiment whose var_name is name (ASCII case-insensitive,
 * as nginx lowercases variable names), or -1: for $mkt_exp_NAME. */
int mkt_config_find_variable(const mkt_config_t *cfg, const char *name,
    size_t len);

/* The same for slots and $mkt_slot_NAME. */
int mkt_config_find_slot_variable(const mkt_config_t *cfg, const char *name,
    size_t len);

/* Whether an experiment of the config has this sticky id; which. */
int mkt_config_has_sticky_id(const mkt_config_t *cfg, uint32_t id);
const mkt_experiment_t *mkt_config_sticky_experiment(const mkt_config_t *cfg,
    uint32_t id);

/* Bytes that $mkt_experiments can take at most (no NUL). */
size_t mkt_config_experiments_str_max(const mkt_config_t *cfg);

/* The most experiments the index can offer one request (those of any
 * host plus those of the host with the most): enough results for
 * mkt_experiments_eval() without req->all. */
size_t mkt_config_candidates_max(const mkt_config_t *cfg);

/*
 * The index: calls found(data, i) for every experiment i that can match a
 * request for host and path (by match.host, and by the literal prefix of
 * match.path), in no particular order, each once.  An experiment without
 * "match" is always a candidate.  host is compared ASCII
 * case-insensitively, path byte by byte.
 */
void mkt_config_candidates(const mkt_config_t *cfg, const char *host,
    size_t host_len, const char *path, size_t path_len,
    void (*found)(void *data, uint32_t i), void *data);

/* An RFC 3339 time as "start" and "end" take it ("2026-11-01T00:00:00Z",
 * fractions dropped, offsets applied) to unix seconds; -1 if it is not
 * one. */
int mkt_config_parse_time(const char *s, size_t len, int64_t *out);

/*
 * A GrowthBook experiment object (`mkt eval`), read as GrowthBook's SDK
 * reads it: variations may be any values, bad weights mean equal weights,
 * conditions compile in MKT_COND_LENIENT mode.  NULL and a message in err
 * when it cannot be evaluated at all.  Free with mkt_experiment_free().
 */
mkt_experiment_t *mkt_experiment_from_json(json_t *exp, char *err,
    size_t err_len);
void mkt_experiment_free(mkt_experiment_t *e);

#endif
