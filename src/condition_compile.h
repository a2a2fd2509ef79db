/* What the two halves of the condition compiler share: the compile context
 * with its JSON path for errors, and their entry points (internal). */
#ifndef MKT_CONDITION_COMPILE_H
#define MKT_CONDITION_COMPILE_H

#include <stddef.h>

#include <jansson.h>

#include "condition_tree.h"

#define MKT_COND_PATH_MAX  512     /* of the JSON path kept for errors */

typedef struct {
    json_t            *saved_groups;
    mkt_cond_mode_e    mode;
    char              *err;
    size_t             err_len;
    size_t             path_len;
    char               path[MKT_COND_PATH_MAX];
} mkt_cond_ctx_t;

/* Writes "PATH: message" to the caller's buffer; returns -1. */
int mkt_cond_fail(mkt_cond_ctx_t *ctx, const char *fmt, ...);
int mkt_cond_no_memory(mkt_cond_ctx_t *ctx);

/* Appends ".key" (or "[index]" when key is NULL) to the JSON path; returns
 * the length mkt_cond_pop_path() restores. */
size_t mkt_cond_push_path(mkt_cond_ctx_t *ctx, const char *key,
    size_t index);
void mkt_cond_pop_path(mkt_cond_ctx_t *ctx, size_t saved);

/* Depth checks (the condition object is level 1); both fail with an error
 * when the bound is passed. */
int mkt_cond_too_deep(mkt_cond_ctx_t *ctx, int depth);
int mkt_cond_check_literal(mkt_cond_ctx_t *ctx, json_t *j, int depth);

/* isOperatorObject(); *mixed when some keys start with "$" and some not. */
int mkt_cond_is_operator_object(json_t *j, int *mixed);

int mkt_cond_lookup_operator(const char *name, mkt_cond_op_e *code);

/* Compile j, at nesting level depth, into a condition object, a condition
 * value (fold: a string compares case-insensitively), or an operator;
 * 0, or -1 with the error written. */
int mkt_cond_compile_object(mkt_cond_ctx_t *ctx, json_t *j, mkt_cond_t *c,
    int depth);
int mkt_cond_compile_value(mkt_cond_ctx_t *ctx, json_t *j, int fold,
    mkt_cond_match_t *m, int depth);
int mkt_cond_compile_operator(mkt_cond_ctx_t *ctx, const char *name,
    json_t *j, mkt_cond_op_t *op, int depth);

/* Free what they hold, not the structure itself. */
void mkt_cond_free_value(mkt_cond_match_t *m);
void mkt_cond_free_operator(mkt_cond_op_t *op);

#endif
