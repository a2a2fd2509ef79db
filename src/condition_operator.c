/* Compiling each operator of a condition value: its operand checked, and
 * turned into what evaluation needs (a sorted set, a compiled regex, a
 * padded version, a primitive to compare with). */
#include <stdlib.h>
#include <string.h>

#include "condition_compile.h"
#include "condition_js.h"

static const struct {
    const char     *name;
    mkt_cond_op_e   code;
} operators[] = {
    { "$eq", MKT_OP_EQ },
    { "$ne", MKT_OP_NE },
    { "$lt", MKT_OP_LT },
    { "$lte", MKT_OP_LTE },
    { "$gt", MKT_OP_GT },
    { "$gte", MKT_OP_GTE },
    { "$exists", MKT_OP_EXISTS },
    { "$in", MKT_OP_IN },
    { "$nin", MKT_OP_NIN },
    { "$ini", MKT_OP_INI },
    { "$nini", MKT_OP_NINI },
    { "$inGroup", MKT_OP_IN_GROUP },
    { "$notInGroup", MKT_OP_NOT_IN_GROUP },
    { "$not", MKT_OP_NOT },
    { "$size", MKT_OP_SIZE },
    { "$elemMatch", MKT_OP_ELEM_MATCH },
    { "$all", MKT_OP_ALL },
    { "$alli", MKT_OP_ALLI },
    { "$regex", MKT_OP_REGEX },
    { "$regexi", MKT_OP_REGEXI },
    { "$type", MKT_OP_TYPE },
    { "$veq", MKT_OP_VEQ },
    { "$vne", MKT_OP_VNE },
    { "$vgt", MKT_OP_VGT },
    { "$vgte", MKT_OP_VGTE },
    { "$vlt", MKT_OP_VLT },
    { "$vlte", MKT_OP_VLTE },
};

static const char *const type_names[] = {
    "undefined", "null", "boolean", "number", "string", "array", "object"
};


int
mkt_cond_lookup_operator(const char *name, mkt_cond_op_e *code)
{
    size_t  i;

    for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        if (strcmp(operators[i].name, name) == 0) {
            *code = operators[i].code;
            return 1;
        }
    }
    return 0;
}


/* What the config loader rejects and GrowthBook evaluates to a constant:
 * in lenient mode op becomes that constant. */
static int
strict_or_constant(mkt_cond_ctx_t *ctx, mkt_cond_op_t *op, int holds,
    const char *msg)
{
    if (ctx->mode == MKT_COND_STRICT) {
        return mkt_cond_fail(ctx, "%s", msg);
    }
    op->code = holds ? MKT_OP_TRUE : MKT_OP_FALSE;
    return 0;
}


static int
is_scalar(json_t *j)
{
    return !json_is_array(j) && !json_is_object(j);
}


/* A string JavaScript would compare: String(j), malloc'd. */
static char *
string_of_json(json_t *j, size_t *len)
{
    mkt_val_t  *v;
    size_t      cap, n;
    char       *buf;

    v = mkt_val_from_json(j);
    if (v == NULL) {
        return NULL;
    }
    for (cap = 64; ; cap *= 2) {
        buf = malloc(cap);
        if (buf == NULL) {
            break;
        }
        n = mkt_js_string_of(v, buf, cap);
        if (n != (size_t) -1) {
            *len = n;
            break;
        }
        free(buf);
    }
    mkt_val_free(v);
    return buf;
}


/* $lt $lte $gt $gte: the operand as the primitive JavaScript compares. */
static int
compile_relational(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op,
    int depth)
{
    if (!json_is_string(j) && !json_is_number(j)
        && ctx->mode == MKT_COND_STRICT)
    {
        return mkt_cond_fail(ctx, "expected a number or a string");
    }
    if (mkt_cond_check_literal(ctx, j, depth) != 0) {
        return -1;
    }

    switch (json_typeof(j)) {
    case JSON_NULL:
    case JSON_FALSE:
        op->number = 0;
        return 0;
    case JSON_TRUE:
        op->number = 1;
        return 0;
    case JSON_INTEGER:
    case JSON_REAL:
        op->number = json_number_value(j);
        return 0;
    default:
        break;
    }

    op->is_string = 1;
    op->str = string_of_json(j, &op->len);
    if (op->str == NULL) {
        return mkt_cond_no_memory(ctx);
    }
    op->number = mkt_js_string_to_number(op->str, op->len);
    return 0;
}


static int
compile_set(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op, int depth)
{
    json_t  *e;
    size_t   i;
    int      fold;

    if (!json_is_array(j)) {
        return strict_or_constant(ctx, op, 0, "expected an array");
    }
    if (mkt_cond_check_literal(ctx, j, depth) != 0) {
        return -1;
    }

    if (ctx->mode == MKT_COND_STRICT) {
        json_array_foreach(j, i, e) {
            if (!is_scalar(e)) {
                return mkt_cond_fail(ctx, "expected an array of strings, "
                                     "numbers, booleans or null (item %zu)",
                                     i);
            }
        }
    }

    fold = op->code == MKT_OP_INI || op->code == MKT_OP_NINI;
    op->set = mkt_cond_set_create(j, fold);
    return op->set ? 0 : mkt_cond_no_memory(ctx);
}


static int
compile_group(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op)
{
    json_t  *group = NULL, *none;

    if (json_is_string(j)) {
        group = json_object_get(ctx->saved_groups, json_string_value(j));
    }

    if (ctx->mode == MKT_COND_STRICT) {
        if (!json_is_string(j)) {
            return mkt_cond_fail(ctx, "expected the name of a saved group");
        }
        if (group == NULL) {
            return mkt_cond_fail(ctx, "unknown saved group \"%s\"",
                                 json_string_value(j));
        }
        if (!json_is_array(group)) {
            return mkt_cond_fail(ctx, "saved group \"%s\" is not an array",
                                 json_string_value(j));
        }
    }

    /* savedGroups[name] || []: an unknown group is empty */
    if (json_is_array(group)) {
        op->set = mkt_cond_set_create(group, 0);
    } else {
        none = json_array();
        op->set = none ? mkt_cond_set_create(none, 0) : NULL;
        json_decref(none);
    }
    return op->set ? 0 : mkt_cond_no_memory(ctx);
}


static int
compile_regex(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op)
{
    mkt_cond_regex_status_e  rc;
    char                     msg[256];

    if (!json_is_string(j)) {
        /* RegExp construction throws, which GrowthBook turns into false */
        return strict_or_constant(ctx, op, 0, "expected a string");
    }

    rc = mkt_cond_regex_compile(json_string_value(j), json_string_length(j),
                                op->code == MKT_OP_REGEXI, &op->re, msg,
                                sizeof(msg));

    if (rc == MKT_COND_REGEX_INVALID) {
        return strict_or_constant(ctx, op, 0, msg);
    }
    if (rc != MKT_COND_REGEX_OK) {
        return mkt_cond_fail(ctx, "%s", msg);
    }

    op->subject = malloc(MKT_COND_SUBJECT_MAX);
    return op->subject ? 0 : mkt_cond_no_memory(ctx);
}


static int
compile_type(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op)
{
    size_t  i;

    for (i = 0; json_is_string(j) && i < 7; i++) {
        if (strcmp(json_string_value(j), type_names[i]) == 0) {
            op->type = (mkt_val_type_e) i;
            return 0;
        }
    }

    return strict_or_constant(ctx, op, 0, "expected one of \"string\", "
                              "\"number\", \"boolean\", \"array\", "
                              "\"object\", \"null\", \"undefined\"");
}


/* $all $alli: each item is a condition value some attribute item meets. */
static int
compile_all(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op, int depth)
{
    json_t  *e;
    size_t   i, saved;
    int      rc;

    if (!json_is_array(j)) {
        return strict_or_constant(ctx, op, 0, "expected an array");
    }
    if (mkt_cond_too_deep(ctx, depth)) {
        return -1;
    }

    op->all = calloc(json_array_size(j) + 1, sizeof(mkt_cond_match_t));
    if (op->all == NULL) {
        return mkt_cond_no_memory(ctx);
    }

    json_array_foreach(j, i, e) {
        saved = mkt_cond_push_path(ctx, NULL, i);
        rc = mkt_cond_compile_value(ctx, e, op->code == MKT_OP_ALLI,
                                    &op->all[i], depth + 1);
        op->nall = i + 1;
        if (rc != 0) {
            return -1;
        }
        mkt_cond_pop_path(ctx, saved);
    }
    return 0;
}


static int
compile_elem_match(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_op_t *op,
    int depth)
{
    int  mixed;

    if (!json_is_object(j)) {
        return mkt_cond_fail(ctx, "expected an object");
    }

    if (mkt_cond_is_operator_object(j, &mixed)) {
        op->match = calloc(1, sizeof(mkt_cond_match_t));
        return op->match ? mkt_cond_compile_value(ctx, j, 0, op->match, depth)
                         : mkt_cond_no_memory(ctx);
    }

    op->cond = calloc(1, sizeof(mkt_cond_t));
    return op->cond ? mkt_cond_compile_object(ctx, j, op->cond, depth)
                    : mkt_cond_no_memory(ctx);
}


int
mkt_cond_compile_operator(mkt_cond_ctx_t *ctx, const char *name, json_t *j,
    mkt_cond_op_t *op, int depth)
{
    if (!mkt_cond_lookup_operator(name, &op->code)) {
        return mkt_cond_fail(ctx, "unknown operator");
    }

    switch (op->code) {
    case MKT_OP_EQ:
    case MKT_OP_NE:
        if (!is_scalar(j)) {
            /* an array or object is === only to itself */
            return strict_or_constant(ctx, op, op->code == MKT_OP_NE,
                                      "expected a string, number, boolean "
                                      "or null (compare arrays and objects "
                                      "without an operator)");
        }
        op->value = mkt_val_from_json(j);
        return op->value ? 0 : mkt_cond_no_memory(ctx);

    case MKT_OP_LT:
    case MKT_OP_LTE:
    case MKT_OP_GT:
    case MKT_OP_GTE:
        return compile_relational(ctx, j, op, depth);

    case MKT_OP_EXISTS:
        op->exists = json_is_true(j)
                     || (json_is_number(j) && json_number_value(j) != 0)
                     || (json_is_string(j) && json_string_length(j) > 0)
                     || json_is_array(j) || json_is_object(j);
        return 0;

    case MKT_OP_IN:
    case MKT_OP_NIN:
    case MKT_OP_INI:
    case MKT_OP_NINI:
        return compile_set(ctx, j, op, depth);

    case MKT_OP_IN_GROUP:
    case MKT_OP_NOT_IN_GROUP:
        return compile_group(ctx, j, op);

    case MKT_OP_NOT:
    case MKT_OP_SIZE:
        op->match = calloc(1, sizeof(mkt_cond_match_t));
        return op->match ? mkt_cond_compile_value(ctx, j, 0, op->match, depth)
                         : mkt_cond_no_memory(ctx);

    case MKT_OP_ELEM_MATCH:
        return compile_elem_match(ctx, j, op, depth);

    case MKT_OP_ALL:
    case MKT_OP_ALLI:
        return compile_all(ctx, j, op, depth);

    case MKT_OP_REGEX:
    case MKT_OP_REGEXI:
        return compile_regex(ctx, j, op);

    case MKT_OP_TYPE:
        return compile_type(ctx, j, op);

    default:
        /* paddedVersionString() of anything but a string throws */
        if (!json_is_string(j)) {
            return mkt_cond_fail(ctx, "expected a version string");
        }
        if (mkt_cond_version_pad(json_string_value(j), json_string_length(j),
                                 &op->version) != 0)
        {
            return mkt_cond_no_memory(ctx);
        }
        return 0;
    }
}


void
mkt_cond_free_operator(mkt_cond_op_t *op)
{
    size_t  i;

    mkt_val_free(op->value);
    free(op->str);
    mkt_cond_set_free(op->set);
    if (op->match) {
        mkt_cond_free_value(op->match);
        free(op->match);
    }
    if (op->cond) {
        mkt_cond_free(op->cond);
    }
    for (i = 0; i < op->nall; i++) {
        mkt_cond_free_value(&op->all[i]);
    }
    free(op->all);
    mkt_cond_regex_free(op->re);
    free(op->subject);
    mkt_cond_version_free(&op->version);
}
