/* libFuzzer target for the condition compiler and evaluator: the input is
 * a condition JSON, a newline (or NUL), and an attributes JSON. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "condition.h"
#include "value.h"

#define GROUPS  "{\"g\": [1, \"2\", \"a\", null, true], \"h\": \"x\"}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
run(json_t *cond, json_t *groups, mkt_cond_mode_e mode, const mkt_val_t *a)
{
    mkt_cond_t  *c;
    char         err[256];

    c = mkt_cond_compile(cond, groups, mode, "fuzz", err, sizeof(err));
    if (c == NULL) {
        /* an error always says something, and ends */
        if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
            __builtin_trap();
        }
        return;
    }
    if (a != NULL) {
        (void) mkt_cond_eval(c, a);
    }
    (void) mkt_cond_eval(c, NULL);
    mkt_cond_free(c);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t  *split;
    mkt_val_t      *a = NULL;
    json_t         *cond, *attrs, *groups;
    size_t          n;
    int             flags;

    split = memchr(data, '\n', size);
    if (split == NULL) {
        split = memchr(data, '\0', size);
    }
    n = split ? (size_t) (split - data) : size;

    flags = JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL;
    cond = json_loadb((const char *) data, n, flags, NULL);
    if (cond == NULL) {
        return 0;
    }
    attrs = split ? json_loadb((const char *) split + 1, size - n - 1, flags,
                               NULL)
                  : NULL;
    groups = json_loads(GROUPS, 0, NULL);

    if (attrs != NULL) {
        a = mkt_val_from_json(attrs);
    }

    run(cond, groups, MKT_COND_STRICT, a);
    run(cond, groups, MKT_COND_LENIENT, a);

    mkt_val_free(a);
    json_decref(attrs);
    json_decref(groups);
    json_decref(cond);
    return 0;
}
