/* The experiment engine: which variation of each experiment a request
 * gets, and why, as GrowthBook's run() decides it plus the lifecycle of
 * the config file (status, schedule, match, holdout, sticky buckets, QA
 * forcing).  Allocates nothing: the caller owns every array.
 *
 * Per request, the glue:
 *   1. builds the attributes object, only those in mkt_config_attr_refs();
 *   2. decodes the _mkt_sb cookie into an mkt_sticky_t (mkt_sticky_decode;
 *      mkt_sticky_init without one; none at all when privacy forbids);
 *   3. if ?mkt_force= is present and the request is authorised (mkt_qa,
 *      mkt_qa_token), mkt_force_parse() it;
 *   4. mkt_experiments_eval() into mkt_config_candidates_max() results
 *      (request memory, or a worker buffer copied out: only the returned
 *      n matter);
 *   5. $mkt_exp_KEY: mkt_config_find_variable() then mkt_experiments_find();
 *      $mkt_experiments: mkt_experiments_format(); $mkt_cache_key:
 *      mkt_experiments_cache_key();
 *   6. if sticky.changed, mkt_sticky_encode(h, &sticky, cfg, ...) and send
 *      Set-Cookie (len 0: expire it);
 *   7. (M5) for results with exposure set, mkt_sticky_expose() decides
 *      whether today's exposure event is still to be written. */
#ifndef MKT_EXPERIMENT_H
#define MKT_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sticky.h"
#include "value.h"

#define MKT_FORCE_MAX        16         /* pairs taken from ?mkt_force= */
#define MKT_FORCE_INPUT_MAX  1024       /* bytes of it looked at */
#define MKT_CACHE_KEY_LEN    11         /* base64url of 64 bits */
#define MKT_HASH_VALUE_MAX   64         /* a number or boolean as text */

/* Why an experiment gave a request its variation, or none. */
typedef enum {
    MKT_REASON_ASSIGNED = 0,    /* hashed into a variation */
    MKT_REASON_STICKY,          /* kept from the _mkt_sb cookie */
    MKT_REASON_FORCED,          /* ?mkt_force= (QA), or mkt eval's force */
    MKT_REASON_STOPPED_WINNER,  /* stopped: everyone gets the winner */
    MKT_REASON_DRAFT,
    MKT_REASON_NOT_STARTED,
    MKT_REASON_ENDED,
    MKT_REASON_HOST_MISMATCH,
    MKT_REASON_PATH_MISMATCH,
    MKT_REASON_CONDITION_FALSE,
    MKT_REASON_HOLDOUT,
    MKT_REASON_NAMESPACE,
    MKT_REASON_FILTERED,        /* GrowthBook "filters" */
    MKT_REASON_COVERAGE,        /* hashed outside every variation's range */
    MKT_REASON_NO_HASH_ATTRIBUTE,
    MKT_REASON_BUCKET_VERSION,  /* sticky version below minBucketVersion */
    MKT_REASON_HASH_VERSION,    /* mkt eval: unknown hashVersion */
    MKT_REASON_INACTIVE,        /* mkt eval: disabled, inactive, qaMode,
                                 * fewer than 2 variations */
    MKT_REASON_NO_TRACKING,     /* privacy: the control (or winner) */
    MKT_REASON_COUNT
} mkt_reason_e;

/* "assigned", "sticky", ..., "no_hash_attribute": for mkt explain, logs. */
const char *mkt_reason_name(mkt_reason_e r);


/* The decision of one experiment. */
typedef struct {
    uint32_t      exp;          /* index in the config */
    int           variation;    /* -1: not in the experiment */
    mkt_reason_e  reason;
    unsigned      hash_used:1;  /* GrowthBook hashUsed (also when sticky) */
    unsigned      sticky:1;     /* came from the sticky cookie */
    unsigned      forced:1;
    unsigned      exposure:1;   /* worth an exposure event: in, by hash or
                                 * sticky bucket (never forced or winner) */
    unsigned      fallback:1;   /* hashed on fallbackAttribute */
    double        bucket;       /* hash value in [0, 1), -1: not hashed */
    /* the hash attribute's value when it is a string attribute (points
     * into the attributes), else NULL: see mkt_experiment_hash_value() */
    const char   *hash_value;
    size_t        hash_value_len;
} mkt_exp_result_t;


/* A forced variation, parsed and authorised by the caller. */
typedef struct {
    uint32_t      exp;
    uint32_t      variation;
} mkt_force_t;

/*
 * Parses "KEY:VAR[,KEY:VAR...]" (the ?mkt_force= value, percent-decoded
 * or with ":" and "," as %3A and %2C).  VAR is a variation name or index.
 * Pairs naming no experiment or variation of cfg are skipped; at most
 * MKT_FORCE_MAX pairs and MKT_FORCE_INPUT_MAX bytes are read.  Returns the
 * number of pairs written to out.
 */
size_t mkt_force_parse(const mkt_config_t *cfg, const char *s, size_t len,
    mkt_force_t out[MKT_FORCE_MAX]);


/* One request, as the glue sees it. */
typedef struct {
    const mkt_val_t    *attributes;     /* an object; NULL: none */
    const char         *host;           /* for match.host: $host */
    size_t              host_len;
    const char         *path;           /* for match.path: the path, no */
    size_t              path_len;       /* query string ($uri) */
    int64_t             now;            /* unix seconds: start/end */
    mkt_sticky_t       *sticky;         /* NULL: no sticky bucketing */
    const mkt_force_t  *forced;         /* authorised by the caller */
    size_t              nforced;
    int                 all;            /* 1: every experiment (explain);
                                         * 0: only those that can match */
    int                 no_tracking;    /* privacy: controls and winners,
                                         * sticky untouched */
} mkt_request_t;

/*
 * Decides every experiment that can match the request (all of them with
 * req->all) into out, in config order, and returns how many it wrote.
 * out must hold mkt_config_candidates_max(cfg) results, or with req->all
 * mkt_config_experiment_count(cfg) (always enough).  Hash
 * assignments are stored in req->sticky (whose changed flag then tells
 * the caller to send the cookie).  Not reentrant per config (compiled
 * regexes keep their match data): one worker, one thread.
 */
size_t mkt_experiments_eval(const mkt_config_t *cfg, const mkt_request_t *req,
    mkt_exp_result_t *out);

/* The result for experiment index exp among n results, or NULL. */
const mkt_exp_result_t *mkt_experiments_find(const mkt_exp_result_t *res,
    size_t n, uint32_t exp);

/*
 * $mkt_experiments: "key:variation" of every result with a variation,
 * joined by ",", in config order.  Writes at most cap bytes (no NUL) and
 * returns the length; mkt_config_experiments_str_max() is always enough.
 */
size_t mkt_experiments_format(const mkt_config_t *cfg,
    const mkt_exp_result_t *res, size_t n, char *out, size_t cap);

/*
 * $mkt_cache_key: MKT_CACHE_KEY_LEN base64url characters of a 64-bit
 * FNV-1a over every (experiment key, variation name) decided, in config
 * order, or "" when no experiment gave a variation, so pages outside
 * every experiment keep their plain cache key.  Equal decisions give
 * equal keys.  out holds MKT_CACHE_KEY_LEN bytes; returns 0 or
 * MKT_CACHE_KEY_LEN.
 */
size_t mkt_experiments_cache_key(const mkt_config_t *cfg,
    const mkt_exp_result_t *res, size_t n, char *out);

/* How a slot's variant was chosen. */
typedef enum {
    MKT_SLOT_DEFAULT = 0,       /* no rule matched */
    MKT_SLOT_RULE,              /* the first rule whose "if" holds */
    MKT_SLOT_HOLDOUT,           /* held out: the default */
    MKT_SLOT_CONTROL,           /* control of an experiment on the slot */
    MKT_SLOT_PLUGIN,            /* a plugin's choose() (M6) */
    MKT_SLOT_NO_TRACKING        /* privacy: the default */
} mkt_slot_reason_e;

typedef struct {
    size_t             variant;  /* index in the slot's variants */
    int                rule;     /* index of the rule, -1 */
    int                exp;      /* experiment on the slot that decided
                                  * for this visitor, -1 */
    mkt_slot_reason_e  reason;
} mkt_slot_result_t;

/*
 * Every slot's variant, into out (mkt_config_slot_count() of them): the
 * first rule whose condition holds for attrs, else the default; the
 * default for holdout visitors; and for visitors in the control of an
 * experiment naming the slot, the default too.  res/n: the experiments'
 * results from mkt_experiments_eval().
 */
void mkt_slots_choose(const mkt_config_t *cfg, const mkt_val_t *attrs,
    int holdout, const mkt_exp_result_t *res, size_t n,
    mkt_slot_result_t *out);
const char *mkt_slot_reason_name(mkt_slot_reason_e r);

/* $mkt_cache_key with slots: as mkt_experiments_cache_key(), also over the
 * slots not on their default (slots: NULL for none). */
size_t mkt_decisions_cache_key(const mkt_config_t *cfg,
    const mkt_exp_result_t *res, size_t n, const mkt_slot_result_t *slots,
    char *out);

/* Whether the config's holdout holds this visitor out (by attribute id):
 * computed per experiment by mkt_experiments_eval(); slots (M4) ask
 * here. */
int mkt_holdout_contains(const mkt_config_t *cfg, const mkt_val_t *attrs);

/*
 * GrowthBook run() steps 6 to 10 for one experiment: hash attribute (with
 * fallback), sticky bucket, filters or namespace, condition, bucketing.
 * The steps before (enabled, overrides, forcing, active) and after
 * (experiment.force, qaMode) are the caller's.  cfg, the config of e (or
 * NULL), tells a full sticky state what to drop.  Returns r->variation.
 */
int mkt_experiment_run(const mkt_config_t *cfg, const mkt_experiment_t *e,
    const mkt_val_t *attrs, mkt_sticky_t *sticky, mkt_exp_result_t *r);

/*
 * The value e hashes on for attrs as GrowthBook takes it (the attribute,
 * else the fallback, as String(value); falsy values count as missing),
 * written to buf if it is not a string.  NULL when there is none.
 */
const char *mkt_experiment_hash_value(const mkt_experiment_t *e,
    const mkt_val_t *attrs, char buf[MKT_HASH_VALUE_MAX], size_t *len,
    int *fallback);

#endif
