/* What the pieces of the config loader share (internal): the parse
 * context with its JSON path and diagnostics, the arena the model lives
 * in, and the layout of the model and its index. */
#ifndef MKT_CONFIG_INT_H
#define MKT_CONFIG_INT_H

#include <stdarg.h>

#include "config.h"

#define MKT_CFG_PATH_MAX  512
#define MKT_CFG_MSG_MAX   1024


/* Everything the model points to lives in one arena, freed at once. */
typedef struct mkt_arena_block_s  mkt_arena_block_t;

typedef struct {
    mkt_arena_block_t  *head;
    int                 failed;         /* an allocation failed */
} mkt_arena_t;

void *mkt_arena_alloc(mkt_arena_t *a, size_t n);        /* zeroed */
void mkt_arena_free(mkt_arena_t *a);


/* Attribute references being collected. */
typedef struct {
    uint32_t            flags;
    mkt_str_t          *query;
    size_t              nquery;
    size_t              query_cap;
    mkt_str_t          *header;
    size_t              nheader;
    size_t              header_cap;
} mkt_attr_builder_t;


typedef struct {
    const char         *file;           /* FILE of messages */
    mkt_diag_pt         diag;
    void               *data;
    unsigned            errors;
    unsigned            warnings;
    int                 gb;             /* GrowthBook object for mkt eval:
                                         * lenient, first error to err */
    char               *err;
    size_t              err_len;
    mkt_arena_t        *arena;
    mkt_attr_builder_t *attrs;          /* NULL: not collected */
    json_t             *conditions;     /* experiments' conditions as
                                         * canonical JSON -> id */
    size_t              path_len;
    char                path[MKT_CFG_PATH_MAX];
} mkt_cfg_ctx_t;

/* Appends ".key" (or "[index]" when key is NULL) to the path; returns the
 * length to restore with mkt_cfg_pop(). */
size_t mkt_cfg_push(mkt_cfg_ctx_t *ctx, const char *key, size_t index);
void mkt_cfg_pop(mkt_cfg_ctx_t *ctx, size_t saved);

#if defined(__GNUC__)
#define MKT_PRINTF(a, b)  __attribute__((format(printf, a, b)))
#else
#define MKT_PRINTF(a, b)
#endif

/* "FILE: path: message" to the diagnostics. */
void mkt_cfg_error(mkt_cfg_ctx_t *ctx, const char *fmt, ...) MKT_PRINTF(2, 3);
void mkt_cfg_warn(mkt_cfg_ctx_t *ctx, const char *fmt, ...) MKT_PRINTF(2, 3);

/* A message naming a condition's own path (from mkt_cond_compile). */
void mkt_cfg_error_raw(mkt_cfg_ctx_t *ctx, const char *msg);

/* Warns about every member of obj not in known (NULL-terminated); keys
 * starting with "//" are comments and pass silently. */
void mkt_cfg_check_keys(mkt_cfg_ctx_t *ctx, json_t *obj,
    const char *const *known);

/* s quoted for a message: "\"...\"", escaped, cut to a readable length. */
const char *mkt_cfg_quote(const char *s, size_t len, char *buf, size_t cap);

/* 1 when s is 1..MKT_KEY_MAX of [A-Za-z0-9_-] (keys) or, with dot,
 * [A-Za-z0-9_.-] (names). */
int mkt_cfg_valid_name(const char *s, size_t len, int dot);

/* Copies into the arena, NUL-terminated. */
mkt_str_t mkt_cfg_strdup(mkt_cfg_ctx_t *ctx, const char *s, size_t len);

/* Attribute references of a condition object / of an attribute name. */
void mkt_cfg_attrs_condition(mkt_cfg_ctx_t *ctx, json_t *cond);
void mkt_cfg_attrs_name(mkt_cfg_ctx_t *ctx, const char *name, size_t len);
void mkt_cfg_attrs_free(mkt_attr_builder_t *b);

/* Literal prefix that every path matching the regex starts with. */
size_t mkt_cfg_regex_prefix(const char *re, size_t len, char *out,
    size_t cap);

/* The same, and in *end where the literal stops in re: at len, the regex
 * is "^" and the literal; at len - 1 before a final "$", exactly it (with
 * PCRE2_DOLLAR_ENDONLY).  Anything else at *end (or a prefix cut at cap)
 * means more regex follows. */
size_t mkt_cfg_regex_literal(const char *re, size_t len, char *out,
    size_t cap, size_t *end);


/* Runs stmt with the path extended by .name (or [i]). */
#define AT(ctx, name, stmt)                                                   \
    do {                                                                      \
        size_t  at_saved_ = mkt_cfg_push(ctx, name, 0);                       \
        stmt;                                                                 \
        mkt_cfg_pop(ctx, at_saved_);                                          \
    } while (0)

#define AT_INDEX(ctx, i, stmt)                                                \
    do {                                                                      \
        size_t  at_isaved_ = mkt_cfg_push(ctx, NULL, i);                      \
        stmt;                                                                 \
        mkt_cfg_pop(ctx, at_isaved_);                                         \
    } while (0)

#define MKT_CFG_QUOTE_MAX  (MKT_KEY_MAX * 4 + 16)
#define MKT_CFG_KEY_RULE   "1 to 64 characters A-Z a-z 0-9 _ -"
#define MKT_CFG_NAME_RULE  "1 to 64 characters A-Z a-z 0-9 _ . -"

/* A JSON string's bytes ("" for anything else). */
mkt_str_t mkt_cfg_str(json_t *v);

/* v is a number in [lo, hi]: 1 and *out. */
int mkt_cfg_number_in(json_t *v, double lo, double hi, double *out);

/* A string of 1..max bytes without control characters: 1 and *out, or an
 * error and 0. */
int mkt_cfg_plain_string(mkt_cfg_ctx_t *ctx, json_t *v, size_t max,
    mkt_str_t *out);

/* The variable name of a key: lowercased, "-" written "_". */
mkt_str_t mkt_cfg_var_name(mkt_cfg_ctx_t *ctx, mkt_str_t key);

/* Compiles a condition (strict for the config, lenient for GrowthBook's
 * objects) and collects its attribute references; an error if it does
 * not compile. */
void mkt_cfg_condition(mkt_cfg_ctx_t *ctx, json_t *v, mkt_cond_t **out);

/* The id of an experiment's condition: equal conditions (as canonical
 * JSON) share one, so that a request evaluates each once. */
uint32_t mkt_cfg_condition_id(mkt_cfg_ctx_t *ctx, json_t *v);

/* The defaults of an experiment; the fields GrowthBook's experiments have
 * too (weights, coverage, ranges, hashing, namespace, filters, condition);
 * the bucket ranges run() uses, once the rest is read. */
void mkt_cfg_experiment_init(mkt_experiment_t *e);
void mkt_cfg_experiment_common(mkt_cfg_ctx_t *ctx, json_t *obj,
    mkt_experiment_t *e);
int mkt_cfg_experiment_buckets(mkt_cfg_ctx_t *ctx, mkt_experiment_t *e);

/* Top-level sections (config_sections.c). */
void mkt_cfg_parse_goals(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *v);
void mkt_cfg_parse_holdout(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *v);
void mkt_cfg_parse_channels(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *v);
void mkt_cfg_parse_referrers(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg,
    json_t *v);
void mkt_cfg_parse_plugins(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *v);

/* Experiments and slots, parsed into the arena; 0 on success. */
int mkt_cfg_parse_experiment(mkt_cfg_ctx_t *ctx, json_t *obj,
    const mkt_config_t *cfg, mkt_experiment_t *e);
int mkt_cfg_parse_slot(mkt_cfg_ctx_t *ctx, json_t *obj, mkt_slot_t *s);
void mkt_cfg_experiment_release(mkt_experiment_t *e);
void mkt_cfg_slot_release(mkt_slot_t *s);

/* The bounded regex of match.path (condition_regex.c). */
int mkt_cfg_path_matches(const mkt_experiment_t *e, const char *path,
    size_t len);


/* The host/path index. */
typedef struct {
    const char         *prefix;
    size_t              len;
    uint32_t            exp;
} mkt_idx_entry_t;

typedef struct {
    mkt_str_t           host;           /* lowercased; empty: any host */
    uint32_t           *always;         /* no usable prefix */
    size_t              nalways;
    size_t              always_cap;
    mkt_idx_entry_t    *pfx;            /* sorted by (len, bytes, exp) */
    size_t              npfx;
    size_t              pfx_cap;
    size_t             *lens;           /* distinct prefix lengths, and */
    size_t             *len_start;      /* where each starts in pfx */
    size_t              nlens;
} mkt_idx_group_t;

typedef struct {
    mkt_idx_group_t     any;
    mkt_idx_group_t    *hosts;
    size_t              nhosts;
    size_t              hosts_cap;
    uint32_t           *table;          /* open addressing: host + 1 */
    size_t              table_size;     /* a power of 2 */
    size_t              candidates_max;
} mkt_index_t;

int mkt_cfg_index_build(mkt_index_t *idx, const mkt_experiment_t *exps,
    size_t n);
void mkt_cfg_index_free(mkt_index_t *idx);

/* An experiment by its sticky id (the _mkt_sb key). */
typedef struct {
    uint32_t            id;
    uint32_t            exp;            /* index in exps */
} mkt_sticky_ref_t;


struct mkt_config_s {
    mkt_arena_t         arena;
    json_t             *root;           /* strings of the model point here */
    mkt_experiment_t   *exps;
    size_t              nexps;
    mkt_slot_t         *slots;
    size_t              nslots;
    size_t              nslot_exps;     /* experiments naming a slot */
    mkt_str_t          *goals;
    size_t              ngoals;
    mkt_holdout_t       holdout;
    int                 has_holdout;
    json_t             *channels;
    json_t             *referrers;
    mkt_channels_t      channels_model;
    mkt_referrers_t     referrers_model;
    json_t             *plugins;
    mkt_attr_refs_t     refs;
    mkt_attr_builder_t  attrs;
    mkt_index_t         index;
    uint32_t           *exp_table;      /* var_name hash -> index + 1 */
    uint32_t           *slot_table;
    size_t              exp_table_size;
    size_t              slot_table_size;
    mkt_sticky_ref_t   *sticky_refs;    /* sorted by id */
    size_t              experiments_str_max;
    size_t              ncondition_ids; /* distinct experiment conditions */
};

/* Case-insensitive hash and lookup of var_names in the tables above. */
uint32_t mkt_cfg_name_hash(const char *s, size_t len);

#endif
