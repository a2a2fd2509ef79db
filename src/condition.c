/* Evaluating compiled conditions against a request's attributes, as
 * GrowthBook's evalCondition() does, without allocating. */
#include <math.h>
#include <string.h>

#include "condition_js.h"
#include "condition_tree.h"

static const mkt_val_t  null_val = { MKT_VAL_NULL, 0, { 0 } };

static int eval_cond(const mkt_cond_t *c, const mkt_val_t *obj);
static int eval_match(const mkt_cond_match_t *m, const mkt_val_t *v);


/*
 * getPath(): follows the segments through objects and arrays (where "2"
 * and "length" are properties too); anything missing is null, not
 * undefined, as GrowthBook returns.  *scratch holds a length.
 */
static const mkt_val_t *
get_path(const mkt_cond_clause_t *cl, const mkt_val_t *obj,
    mkt_val_t *scratch)
{
    const mkt_cond_seg_t  *seg;
    const mkt_val_t       *cur = obj, *next;
    size_t                 i;

    for (i = 0; i < cl->nsegs; i++) {
        seg = &cl->segs[i];

        if (cur->type == MKT_VAL_OBJECT) {
            next = mkt_val_get(cur, seg->name, seg->len);

        } else if (cur->type == MKT_VAL_ARRAY && seg->is_index) {
            next = seg->index < cur->len ? &cur->u.items[seg->index] : NULL;

        } else if (cur->type == MKT_VAL_ARRAY && seg->is_length) {
            *scratch = mkt_val_number((double) cur->len);
            next = scratch;

        } else {
            next = NULL;
        }

        if (next == NULL) {
            return &null_val;
        }
        cur = next;
    }
    return cur;
}


/* JavaScript's actual < expected (and kin) for $lt $lte $gt $gte. */
static int
eval_relational(const mkt_cond_op_t *op, const mkt_val_t *v)
{
    double  a, b;
    int     r;

    if (op->is_string && (v->type == MKT_VAL_STRING
                          || v->type == MKT_VAL_ARRAY
                          || v->type == MKT_VAL_OBJECT))
    {
        r = mkt_js_compare_string_of(v, op->str, op->len, 0);

    } else {
        a = mkt_js_to_number(v);
        b = op->number;
        if (isnan(a) || isnan(b)) {
            return 0;
        }
        r = a < b ? -1 : a > b ? 1 : 0;
    }

    switch (op->code) {
    case MKT_OP_LT:
        return r < 0;
    case MKT_OP_LTE:
        return r <= 0;
    case MKT_OP_GT:
        return r > 0;
    default:
        return r >= 0;
    }
}


/* RegExp.test(v), which matches String(v). */
static int
eval_regex(const mkt_cond_op_t *op, const mkt_val_t *v)
{
    size_t  n;

    if (v->type == MKT_VAL_STRING) {
        return mkt_cond_regex_match(op->re, v->u.str, v->len);
    }

    n = mkt_js_string_of(v, op->subject, MKT_COND_SUBJECT_MAX);
    return n != (size_t) -1 && mkt_cond_regex_match(op->re, op->subject, n);
}


static int
eval_version(const mkt_cond_op_t *op, const mkt_val_t *v)
{
    int  r;

    /* GrowthBook throws on a non-string; no match here */
    if (v->type != MKT_VAL_STRING) {
        return 0;
    }

    r = mkt_cond_version_compare(v->u.str, v->len, &op->version);

    switch (op->code) {
    case MKT_OP_VEQ:
        return r == 0;
    case MKT_OP_VNE:
        return r != 0;
    case MKT_OP_VGT:
        return r > 0;
    case MKT_OP_VGTE:
        return r >= 0;
    case MKT_OP_VLT:
        return r < 0;
    default:
        return r <= 0;
    }
}


/* elemMatch(): some truthy item meets the condition. */
static int
eval_elem_match(const mkt_cond_op_t *op, const mkt_val_t *v)
{
    const mkt_val_t  *item;
    size_t            i;

    if (v->type != MKT_VAL_ARRAY) {
        return 0;
    }
    for (i = 0; i < v->len; i++) {
        item = &v->u.items[i];
        if (!mkt_js_truthy(item)) {
            continue;
        }
        if (op->match != NULL ? eval_match(op->match, item)
                              : eval_cond(op->cond, item))
        {
            return 1;
        }
    }
    return 0;
}


/* isInAll(): every condition value is met by some item. */
static int
eval_all(const mkt_cond_op_t *op, const mkt_val_t *v)
{
    size_t  i, k;

    if (v->type != MKT_VAL_ARRAY) {
        return 0;
    }
    for (i = 0; i < op->nall; i++) {
        for (k = 0; k < v->len; k++) {
            if (eval_match(&op->all[i], &v->u.items[k])) {
                break;
            }
        }
        if (k == v->len) {
            return 0;
        }
    }
    return 1;
}


/* evalOperatorCondition() */
static int
eval_op(const mkt_cond_op_t *op, const mkt_val_t *v)
{
    mkt_val_t  len;

    switch (op->code) {
    case MKT_OP_FALSE:
        return 0;
    case MKT_OP_TRUE:
        return 1;

    case MKT_OP_EQ:
        return mkt_js_strict_equal(v, op->value);
    case MKT_OP_NE:
        return !mkt_js_strict_equal(v, op->value);

    case MKT_OP_LT:
    case MKT_OP_LTE:
    case MKT_OP_GT:
    case MKT_OP_GTE:
        return eval_relational(op, v);

    case MKT_OP_EXISTS:
        return (v->type != MKT_VAL_NULL && v->type != MKT_VAL_UNDEFINED)
               == op->exists;

    case MKT_OP_IN:
    case MKT_OP_INI:
    case MKT_OP_IN_GROUP:
        return mkt_cond_set_match(op->set, v);
    case MKT_OP_NIN:
    case MKT_OP_NINI:
    case MKT_OP_NOT_IN_GROUP:
        return !mkt_cond_set_match(op->set, v);

    case MKT_OP_NOT:
        return !eval_match(op->match, v);

    case MKT_OP_SIZE:
        if (v->type != MKT_VAL_ARRAY) {
            return 0;
        }
        len = mkt_val_number((double) v->len);
        return eval_match(op->match, &len);

    case MKT_OP_ELEM_MATCH:
        return eval_elem_match(op, v);

    case MKT_OP_ALL:
    case MKT_OP_ALLI:
        return eval_all(op, v);

    case MKT_OP_REGEX:
    case MKT_OP_REGEXI:
        return eval_regex(op, v);

    case MKT_OP_TYPE:
        return v->type == op->type;

    default:
        return eval_version(op, v);
    }
}


/* evalConditionValue() */
static int
eval_match(const mkt_cond_match_t *m, const mkt_val_t *v)
{
    size_t  i;

    switch (m->kind) {
    case MKT_MATCH_STRING:
        return mkt_js_compare_string_of(v, m->str, m->len, m->fold) == 0;

    case MKT_MATCH_NUMBER:
        return mkt_js_to_number(v) == m->number;

    case MKT_MATCH_BOOL:
        return v->type != MKT_VAL_NULL && mkt_js_truthy(v) == m->boolean;

    case MKT_MATCH_NULL:
        return v->type == MKT_VAL_NULL;

    case MKT_MATCH_JSON:
        return mkt_js_json_equal(m->json, v);

    default:
        for (i = 0; i < m->nops; i++) {
            if (!eval_op(&m->ops[i], v)) {
                return 0;
            }
        }
        return 1;
    }
}


/* evalOr(): true when empty. */
static int
eval_or(const mkt_cond_clause_t *cl, const mkt_val_t *obj)
{
    size_t  i;

    if (cl->nsubs == 0) {
        return 1;
    }
    for (i = 0; i < cl->nsubs; i++) {
        if (eval_cond(&cl->subs[i], obj)) {
            return 1;
        }
    }
    return 0;
}


/* evalCondition() */
static int
eval_cond(const mkt_cond_t *c, const mkt_val_t *obj)
{
    const mkt_cond_clause_t  *cl;
    mkt_val_t                 scratch;
    size_t                    i, k;

    for (i = 0; i < c->nclauses; i++) {
        cl = &c->clauses[i];

        switch (cl->kind) {
        case MKT_CLAUSE_AND:
            for (k = 0; k < cl->nsubs; k++) {
                if (!eval_cond(&cl->subs[k], obj)) {
                    return 0;
                }
            }
            break;

        case MKT_CLAUSE_OR:
            if (!eval_or(cl, obj)) {
                return 0;
            }
            break;

        case MKT_CLAUSE_NOR:
            if (eval_or(cl, obj)) {
                return 0;
            }
            break;

        case MKT_CLAUSE_NOT:
            if (eval_cond(&cl->subs[0], obj)) {
                return 0;
            }
            break;

        default:
            if (!eval_match(cl->match, get_path(cl, obj, &scratch))) {
                return 0;
            }
            break;
        }
    }
    return 1;
}


int
mkt_cond_eval(const mkt_cond_t *c, const mkt_val_t *attributes)
{
    mkt_val_t  empty;

    if (attributes == NULL) {
        empty = mkt_val_object(NULL, 0);
        attributes = &empty;
    }
    return eval_cond(c, attributes);
}
