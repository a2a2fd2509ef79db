/* The compiled form of a condition, shared by its compiler and evaluator
 * (internal). */
#ifndef MKT_CONDITION_TREE_H
#define MKT_CONDITION_TREE_H

#include <stddef.h>

#include "condition.h"
#include "condition_regex.h"
#include "condition_set.h"
#include "condition_version.h"
#include "value.h"

/* String(attribute) of a non-string is matched against a $regex only up to
 * this many bytes; a longer one does not match. */
#define MKT_COND_SUBJECT_MAX  1024

typedef struct mkt_cond_clause_s  mkt_cond_clause_t;
typedef struct mkt_cond_match_s   mkt_cond_match_t;
typedef struct mkt_cond_op_s      mkt_cond_op_t;

/* A condition object (evalCondition): every clause must hold. */
struct mkt_cond_s {
    mkt_cond_clause_t  *clauses;
    size_t              nclauses;
};

typedef enum {
    MKT_CLAUSE_PATH = 0,           /* "a.b": evalConditionValue */
    MKT_CLAUSE_AND,
    MKT_CLAUSE_OR,
    MKT_CLAUSE_NOR,
    MKT_CLAUSE_NOT
} mkt_cond_clause_e;

/* One part of a dotted path, with what it means as an array property. */
typedef struct {
    const char         *name;
    size_t              len;
    size_t              index;
    unsigned            is_index:1;
    unsigned            is_length:1;
} mkt_cond_seg_t;

struct mkt_cond_clause_s {
    mkt_cond_clause_e   kind;
    mkt_cond_t         *subs;      /* AND, OR, NOR; NOT has one */
    size_t              nsubs;
    char               *path;      /* PATH: the key, split into segs */
    mkt_cond_seg_t     *segs;
    size_t              nsegs;
    mkt_cond_match_t   *match;
};

typedef enum {
    MKT_MATCH_STRING = 0,          /* String(v) === s */
    MKT_MATCH_NUMBER,              /* v * 1 === n */
    MKT_MATCH_BOOL,                /* v !== null && !!v === b */
    MKT_MATCH_NULL,                /* v === null */
    MKT_MATCH_JSON,                /* JSON.stringify equality */
    MKT_MATCH_OPS                  /* every operator holds */
} mkt_cond_match_e;

/* A condition value (evalConditionValue) applied to one attribute. */
struct mkt_cond_match_s {
    mkt_cond_match_e    kind;
    int                 fold;      /* STRING: lowercased on both sides */
    char               *str;
    size_t              len;
    double              number;
    int                 boolean;
    mkt_val_t          *json;
    mkt_cond_op_t      *ops;
    size_t              nops;
};

typedef enum {
    MKT_OP_FALSE = 0,              /* lenient stand-in: never holds */
    MKT_OP_TRUE,                   /* lenient stand-in: always holds */
    MKT_OP_EQ,
    MKT_OP_NE,
    MKT_OP_LT,
    MKT_OP_LTE,
    MKT_OP_GT,
    MKT_OP_GTE,
    MKT_OP_EXISTS,
    MKT_OP_IN,
    MKT_OP_NIN,
    MKT_OP_INI,
    MKT_OP_NINI,
    MKT_OP_IN_GROUP,
    MKT_OP_NOT_IN_GROUP,
    MKT_OP_NOT,
    MKT_OP_SIZE,
    MKT_OP_ELEM_MATCH,
    MKT_OP_ALL,
    MKT_OP_ALLI,
    MKT_OP_REGEX,
    MKT_OP_REGEXI,
    MKT_OP_TYPE,
    MKT_OP_VEQ,
    MKT_OP_VNE,
    MKT_OP_VGT,
    MKT_OP_VGTE,
    MKT_OP_VLT,
    MKT_OP_VLTE
} mkt_cond_op_e;

struct mkt_cond_op_s {
    mkt_cond_op_e       code;
    mkt_val_t          *value;     /* $eq $ne */
    int                 is_string; /* $lt..$gte: the operand as a primitive */
    char               *str;
    size_t              len;
    double              number;
    int                 exists;    /* $exists: truthiness of the operand */
    mkt_cond_set_t     *set;       /* $in and kin */
    mkt_cond_match_t   *match;     /* $not $size; $elemMatch of operators */
    mkt_cond_t         *cond;      /* $elemMatch of attribute names */
    mkt_cond_match_t   *all;       /* $all $alli */
    size_t              nall;
    mkt_cond_regex_t   *re;
    char               *subject;   /* MKT_COND_SUBJECT_MAX bytes */
    mkt_val_type_e      type;      /* $type */
    mkt_cond_version_t  version;
};

#endif
