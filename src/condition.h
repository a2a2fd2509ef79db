/* Targeting conditions, GrowthBook/Mongo style: compiled once from the JSON
 * of a config file, evaluated per request without allocating. */
#ifndef MKT_CONDITION_H
#define MKT_CONDITION_H

#include <stddef.h>

#include <jansson.h>

#include "value.h"

/* Arrays and objects nested in one another (the condition object itself
 * counts), beyond which a condition does not compile. */
#define MKT_COND_MAX_DEPTH  32

typedef struct mkt_cond_s  mkt_cond_t;

typedef enum {
    /*
     * For config files: what can never be what the author meant is an
     * error: an invalid $regex, $in without an array, $type "strnig", an
     * unknown saved group, an object mixing operators and attribute names,
     * a comparison operator where an attribute name belongs.
     */
    MKT_COND_STRICT = 0,

    /*
     * GrowthBook's own behaviour, for its conformance cases and `mkt eval`:
     * where its SDK defines a result for such a condition (usually false),
     * the condition compiles and gives that result.
     */
    MKT_COND_LENIENT
} mkt_cond_mode_e;

/*
 * Compiles a condition object.  saved_groups (may be NULL) is the object of
 * named value lists that $inGroup and $notInGroup refer to, read only
 * while compiling.
 * Both modes reject unknown operators, non-string version operands,
 * $and/$or/$nor without an array of objects, $not and $elemMatch without
 * an object, nesting deeper than MKT_COND_MAX_DEPTH, and regexes that are
 * too long or backtrack catastrophically.
 *
 * On error returns NULL and writes to err a message starting with the JSON
 * path of the problem, where being the path of the condition itself:
 * "experiments[3].condition.geo.country.$in: expected an array".
 */
mkt_cond_t *mkt_cond_compile(json_t *condition, json_t *saved_groups,
    mkt_cond_mode_e mode, const char *where, char *err, size_t err_len);

/*
 * Where evaluation knowingly differs from GrowthBook's JavaScript: $ini,
 * $nini, $alli and their string equality fold ASCII case only; $regex runs
 * PCRE2 (see condition_regex.h), and a non-string attribute whose String()
 * is over 1024 bytes does not match it; a version operator on a non-string
 * attribute is false where JavaScript throws; properties JavaScript objects
 * inherit ("constructor", "toString") are not attributes.
 *
 * 1 if the attributes (an object; NULL is an empty one) satisfy c, else 0.
 * Allocates nothing; recursion is bounded by the compiled depth.  Not
 * reentrant for one c: compiled regexes keep their match data.
 */
int mkt_cond_eval(const mkt_cond_t *c, const mkt_val_t *attributes);

void mkt_cond_free(mkt_cond_t *c);

#endif
