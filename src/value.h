/* JSON-like values that a request's targeting attributes are made of: cheap
 * to build in a request pool, read by the condition evaluator. */
#ifndef MKT_VALUE_H
#define MKT_VALUE_H

#include <stddef.h>

#include <jansson.h>

/* Most arrays and objects nested in one another (the outermost counts) that
 * mkt_val_from_json() accepts; code walking caller-built values descends no
 * further. */
#define MKT_VAL_MAX_DEPTH  32

/* JavaScript's value kinds, so that GrowthBook's semantics carry over. */
typedef enum {
    MKT_VAL_UNDEFINED = 0,         /* a zeroed mkt_val_t is undefined */
    MKT_VAL_NULL,
    MKT_VAL_BOOL,
    MKT_VAL_NUMBER,
    MKT_VAL_STRING,
    MKT_VAL_ARRAY,
    MKT_VAL_OBJECT
} mkt_val_type_e;

typedef struct mkt_val_s       mkt_val_t;
typedef struct mkt_val_pair_s  mkt_val_pair_t;

/*
 * Strings are (pointer, length), not NUL-terminated, and expected to be
 * UTF-8.  Arrays and objects point to arrays owned by whoever built the
 * value; nothing here copies or frees them, except for values made by
 * mkt_val_from_json().
 */
struct mkt_val_s {
    mkt_val_type_e               type;
    size_t                       len;  /* string bytes, items, pairs */
    union {
        int                      boolean;
        double                   number;
        const char              *str;
        const mkt_val_t         *items;
        const mkt_val_pair_t    *pairs;
    } u;
};

/* Object members in insertion order; keys should be unique. */
struct mkt_val_pair_s {
    const char                  *key;
    size_t                       key_len;
    mkt_val_t                    val;
};

mkt_val_t mkt_val_null(void);
mkt_val_t mkt_val_bool(int b);
mkt_val_t mkt_val_number(double n);
mkt_val_t mkt_val_string(const char *s, size_t len);
mkt_val_t mkt_val_array(const mkt_val_t *items, size_t n);
mkt_val_t mkt_val_object(const mkt_val_pair_t *pairs, size_t n);

/*
 * The member key of an object, or NULL when v is not an object or has no
 * such member.  With repeated keys the last one wins, so a later layer (a
 * plugin) can override an attribute by appending it.
 */
const mkt_val_t *mkt_val_get(const mkt_val_t *v, const char *key,
    size_t key_len);

/* GrowthBook's getType() name: "string", "number", "boolean", "array",
 * "object", "null" or "undefined". */
const char *mkt_val_type_name(const mkt_val_t *v);

/*
 * A deep copy of a jansson value in one malloc'd block (strings copied), for
 * tests and the CLI; NULL when nested deeper than MKT_VAL_MAX_DEPTH or out
 * of memory.  Free it with mkt_val_free().
 */
mkt_val_t *mkt_val_from_json(json_t *j);
void mkt_val_free(mkt_val_t *v);

#endif
