/* Compiling condition JSON into the tree mkt_cond_eval() walks: condition
 * objects, attribute paths and condition values, with errors that name the
 * JSON path; condition_operator.c compiles the operators' operands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition_compile.h"
#include "condition_js.h"


int
mkt_cond_fail(mkt_cond_ctx_t *ctx, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    n = snprintf(ctx->err, ctx->err_len, "%s%s: ", ctx->path,
                 ctx->path_len == sizeof(ctx->path) - 1 ? "..." : "");
    if (n >= 0 && (size_t) n < ctx->err_len) {
        va_start(ap, fmt);
        vsnprintf(ctx->err + n, ctx->err_len - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}


/* Appends to the JSON path (control bytes shown as "?"); returns the length
 * to restore. */
size_t
mkt_cond_push_path(mkt_cond_ctx_t *ctx, const char *key, size_t index)
{
    size_t  saved = ctx->path_len, room, i;
    char   *p;

    room = sizeof(ctx->path) - 1 - ctx->path_len;
    p = ctx->path + ctx->path_len;

    if (key == NULL) {
        i = (size_t) snprintf(p, room + 1, "[%zu]", index);
        ctx->path_len += i < room ? i : room;
        return saved;
    }

    if (ctx->path_len > 0 && room > 0) {
        *p++ = '.';
        room--;
        ctx->path_len++;
    }
    for (i = 0; i < room && key[i] != '\0'; i++) {
        *p++ = ((unsigned char) key[i] < 0x20 || key[i] == 0x7f) ? '?'
                                                                  : key[i];
    }
    ctx->path_len += i;
    *p = '\0';
    return saved;
}


void
mkt_cond_pop_path(mkt_cond_ctx_t *ctx, size_t saved)
{
    ctx->path_len = saved;
    ctx->path[saved] = '\0';
}


int
mkt_cond_too_deep(mkt_cond_ctx_t *ctx, int depth)
{
    if (depth > MKT_COND_MAX_DEPTH) {
        mkt_cond_fail(ctx, "nested deeper than %d levels",
                      MKT_COND_MAX_DEPTH);
        return 1;
    }
    return 0;
}


/* Whether a JSON literal at level depth nests past the bound. */
static int
literal_too_deep(json_t *j, int depth)
{
    const char  *key;
    json_t      *e;
    size_t       i;

    if (!json_is_array(j) && !json_is_object(j)) {
        return 0;
    }
    if (depth > MKT_COND_MAX_DEPTH) {
        return 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, e) {
            if (literal_too_deep(e, depth + 1)) {
                return 1;
            }
        }
    } else {
        json_object_foreach(j, key, e) {
            if (literal_too_deep(e, depth + 1)) {
                return 1;
            }
        }
    }
    return 0;
}


/* A JSON value taken as data (an $in list, a literal to compare with)
 * must fit the depth bound too. */
int
mkt_cond_check_literal(mkt_cond_ctx_t *ctx, json_t *j, int depth)
{
    if (literal_too_deep(j, depth)) {
        return mkt_cond_fail(ctx, "nested deeper than %d levels",
                             MKT_COND_MAX_DEPTH);
    }
    return 0;
}


int
mkt_cond_no_memory(mkt_cond_ctx_t *ctx)
{
    return mkt_cond_fail(ctx, "out of memory");
}


/* isOperatorObject(): not empty, and every key starts with "$". */
int
mkt_cond_is_operator_object(json_t *j, int *mixed)
{
    const char  *key;
    json_t      *e;
    size_t       ops = 0;

    json_object_foreach(j, key, e) {
        ops += key[0] == '$';
    }
    *mixed = ops > 0 && ops < json_object_size(j);
    return json_object_size(j) > 0 && ops == json_object_size(j);
}


/* evalConditionValue(j, ...) compiled: an equality, or operators. */
int
mkt_cond_compile_value(mkt_cond_ctx_t *ctx, json_t *j, int fold,
    mkt_cond_match_t *m, int depth)
{
    const char  *key;
    json_t      *e;
    size_t       i, saved;
    char        *p;
    int          mixed = 0;

    switch (json_typeof(j)) {
    case JSON_STRING:
        m->kind = MKT_MATCH_STRING;
        m->fold = fold;
        m->len = json_string_length(j);
        m->str = malloc(m->len + 1);
        if (m->str == NULL) {
            return mkt_cond_no_memory(ctx);
        }
        memcpy(m->str, json_string_value(j), m->len + 1);
        for (p = m->str; fold && p < m->str + m->len; p++) {
            *p = (char) ((*p >= 'A' && *p <= 'Z') ? *p + ('a' - 'A') : *p);
        }
        return 0;

    case JSON_INTEGER:
    case JSON_REAL:
        m->kind = MKT_MATCH_NUMBER;
        m->number = json_number_value(j);
        return 0;

    case JSON_TRUE:
    case JSON_FALSE:
        m->kind = MKT_MATCH_BOOL;
        m->boolean = json_is_true(j);
        return 0;

    case JSON_NULL:
        m->kind = MKT_MATCH_NULL;
        return 0;

    default:
        break;
    }

    if (json_is_object(j) && mkt_cond_is_operator_object(j, &mixed)) {
        if (mkt_cond_too_deep(ctx, depth)) {
            return -1;
        }
        m->kind = MKT_MATCH_OPS;
        m->ops = calloc(json_object_size(j), sizeof(mkt_cond_op_t));
        if (m->ops == NULL) {
            return mkt_cond_no_memory(ctx);
        }
        i = 0;
        json_object_foreach(j, key, e) {
            saved = mkt_cond_push_path(ctx, key, 0);
            m->nops = ++i;
            if (mkt_cond_compile_operator(ctx, key, e, &m->ops[i - 1],
                                          depth + 1) != 0)
            {
                return -1;
            }
            mkt_cond_pop_path(ctx, saved);
        }
        return 0;
    }

    if (mixed && ctx->mode == MKT_COND_STRICT) {
        return mkt_cond_fail(ctx, "an object mixing operators and attribute "
                             "names (GrowthBook would compare it as a "
                             "literal)");
    }
    if (mkt_cond_check_literal(ctx, j, depth) != 0) {
        return -1;
    }

    m->kind = MKT_MATCH_JSON;
    m->json = mkt_val_from_json(j);
    return m->json ? 0 : mkt_cond_no_memory(ctx);
}


/* A dotted attribute path, split as String.prototype.split(".") does. */
static int
compile_path(mkt_cond_ctx_t *ctx, const char *key, mkt_cond_clause_t *cl)
{
    size_t  n, i, len, start;

    len = strlen(key);
    cl->path = malloc(len + 1);
    for (n = 1, i = 0; i < len; i++) {
        n += key[i] == '.';
    }
    cl->segs = calloc(n, sizeof(mkt_cond_seg_t));
    if (cl->path == NULL || cl->segs == NULL) {
        return mkt_cond_no_memory(ctx);
    }
    memcpy(cl->path, key, len + 1);
    cl->nsegs = n;

    for (n = 0, start = 0, i = 0; i <= len; i++) {
        if (i < len && key[i] != '.') {
            continue;
        }
        cl->segs[n].name = cl->path + start;
        cl->segs[n].len = i - start;
        cl->segs[n].is_index = mkt_js_array_index(cl->segs[n].name,
                                                  cl->segs[n].len,
                                                  &cl->segs[n].index);
        cl->segs[n].is_length = cl->segs[n].len == 6
                                && memcmp(cl->segs[n].name, "length", 6) == 0;
        n++;
        start = i + 1;
    }
    return 0;
}


/* $and $or $nor: an array of condition objects. */
static int
compile_list(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_clause_t *cl,
    int depth)
{
    json_t  *e;
    size_t   i, saved;
    int      rc;

    if (!json_is_array(j)) {
        return mkt_cond_fail(ctx, "expected an array of conditions");
    }
    if (mkt_cond_too_deep(ctx, depth)) {
        return -1;
    }

    cl->subs = calloc(json_array_size(j) + 1, sizeof(mkt_cond_t));
    if (cl->subs == NULL) {
        return mkt_cond_no_memory(ctx);
    }

    json_array_foreach(j, i, e) {
        saved = mkt_cond_push_path(ctx, NULL, i);
        cl->nsubs = i + 1;
        rc = mkt_cond_compile_object(ctx, e, &cl->subs[i], depth + 1);
        if (rc != 0) {
            return -1;
        }
        mkt_cond_pop_path(ctx, saved);
    }
    return 0;
}


static int
compile_clause(mkt_cond_ctx_t *ctx, const char *key, json_t *j,
    mkt_cond_clause_t *cl, int depth)
{
    mkt_cond_op_e  code;

    if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0
        || strcmp(key, "$nor") == 0)
    {
        cl->kind = key[1] == 'a' ? MKT_CLAUSE_AND
                   : key[2] == 'r' ? MKT_CLAUSE_OR : MKT_CLAUSE_NOR;
        return compile_list(ctx, j, cl, depth);
    }

    if (strcmp(key, "$not") == 0) {
        cl->kind = MKT_CLAUSE_NOT;
        cl->subs = calloc(1, sizeof(mkt_cond_t));
        if (cl->subs == NULL) {
            return mkt_cond_no_memory(ctx);
        }
        cl->nsubs = 1;
        return mkt_cond_compile_object(ctx, j, cl->subs, depth);
    }

    /* any other key is an attribute path, even "$groups" */
    if (ctx->mode == MKT_COND_STRICT
        && mkt_cond_lookup_operator(key, &code))
    {
        return mkt_cond_fail(ctx, "operator where an attribute name belongs "
                             "(only $and, $or, $nor and $not go here)");
    }

    cl->kind = MKT_CLAUSE_PATH;
    if (compile_path(ctx, key, cl) != 0) {
        return -1;
    }
    cl->match = calloc(1, sizeof(mkt_cond_match_t));
    if (cl->match == NULL) {
        return mkt_cond_no_memory(ctx);
    }
    return mkt_cond_compile_value(ctx, j, 0, cl->match, depth);
}


int
mkt_cond_compile_object(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_t *c,
    int depth)
{
    const char  *key;
    json_t      *e;
    size_t       i, saved;

    if (!json_is_object(j)) {
        return mkt_cond_fail(ctx, "expected an object");
    }
    if (mkt_cond_too_deep(ctx, depth)) {
        return -1;
    }

    c->clauses = calloc(json_object_size(j) + 1, sizeof(mkt_cond_clause_t));
    if (c->clauses == NULL) {
        return mkt_cond_no_memory(ctx);
    }

    i = 0;
    json_object_foreach(j, key, e) {
        saved = mkt_cond_push_path(ctx, key, 0);
        c->nclauses = ++i;
        if (compile_clause(ctx, key, e, &c->clauses[i - 1], depth + 1) != 0)
        {
            return -1;
        }
        mkt_cond_pop_path(ctx, saved);
    }
    return 0;
}


mkt_cond_t *
mkt_cond_compile(json_t *condition, json_t *saved_groups,
    mkt_cond_mode_e mode, const char *where, char *err, size_t err_len)
{
    mkt_cond_ctx_t  *ctx;
    mkt_cond_t      *c;
    char             dummy[1];

    if (err == NULL || err_len == 0) {
        err = dummy;
        err_len = sizeof(dummy);
    }
    err[0] = '\0';

    /* the context holds the path buffer: keep it off small stacks */
    ctx = calloc(1, sizeof(*ctx));
    c = calloc(1, sizeof(*c));
    if (ctx == NULL || c == NULL) {
        snprintf(err, err_len, "out of memory");
        free(ctx);
        free(c);
        return NULL;
    }

    ctx->saved_groups = json_is_object(saved_groups) ? saved_groups : NULL;
    ctx->mode = mode;
    ctx->err = err;
    ctx->err_len = err_len;
    mkt_cond_push_path(ctx, (where && where[0]) ? where : "condition", 0);

    if (mkt_cond_compile_object(ctx, condition, c, 1) != 0) {
        mkt_cond_free(c);
        c = NULL;
    }

    free(ctx);
    return c;
}


void
mkt_cond_free_value(mkt_cond_match_t *m)
{
    size_t  i;

    free(m->str);
    mkt_val_free(m->json);
    for (i = 0; i < m->nops; i++) {
        mkt_cond_free_operator(&m->ops[i]);
    }
    free(m->ops);
}


/* Frees what a (possibly half-built) condition object holds, not c. */
static void
free_members(mkt_cond_t *c)
{
    mkt_cond_clause_t  *cl;
    size_t              i, k;

    for (i = 0; i < c->nclauses; i++) {
        cl = &c->clauses[i];
        for (k = 0; k < cl->nsubs; k++) {
            free_members(&cl->subs[k]);
        }
        free(cl->subs);
        free(cl->path);
        free(cl->segs);
        if (cl->match) {
            mkt_cond_free_value(cl->match);
            free(cl->match);
        }
    }
    free(c->clauses);
}


void
mkt_cond_free(mkt_cond_t *c)
{
    if (c == NULL) {
        return;
    }
    free_members(c);
    free(c);
}
