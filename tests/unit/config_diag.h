/* Shared by the config tests: loading a config from a string while
 * collecting its diagnostics, and asserting exactly one error or warning.
 * Include after cmocka.h and config.h. */
#ifndef MKT_TEST_CONFIG_DIAG_H
#define MKT_TEST_CONFIG_DIAG_H

#include <stdio.h>
#include <string.h>

#define DIAG_MAX    64
#define MSG_MAX     1024

typedef struct {
    size_t  nerrors;
    size_t  nwarnings;
    char    errors[DIAG_MAX][MSG_MAX];
    char    warnings[DIAG_MAX][MSG_MAX];
} diag_t;

static diag_t  diag;


static void
collect(void *data, mkt_diag_level_e level, const char *msg)
{
    diag_t  *d = data;

    if (level == MKT_DIAG_ERROR) {
        if (d->nerrors < DIAG_MAX) {
            snprintf(d->errors[d->nerrors], MSG_MAX, "%s", msg);
        }
        d->nerrors++;
    } else {
        if (d->nwarnings < DIAG_MAX) {
            snprintf(d->warnings[d->nwarnings], MSG_MAX, "%s", msg);
        }
        d->nwarnings++;
    }
}


static mkt_config_t *
load(const char *json)
{
    memset(&diag, 0, sizeof(diag));
    return mkt_config_load_string("t.json", json, strlen(json), collect,
                                  &diag);
}


/* The load fails with exactly this one error. */
static void
check_error(const char *json, const char *want, int line)
{
    mkt_config_t  *cfg;

    cfg = load(json);
    if (cfg != NULL) {
        mkt_config_free(cfg);
        fail_msg("line %d: loaded, expected \"%s\"", line, want);
    }
    if (diag.nerrors != 1 || strcmp(diag.errors[0], want) != 0) {
        fail_msg("line %d: %zu errors, first \"%s\", expected \"%s\"", line,
                 diag.nerrors, diag.errors[0], want);
    }
}

#define assert_error(json, want)  check_error(json, want, __LINE__)


/* The load succeeds with exactly this one warning. */
static void
check_warning(const char *json, const char *want, int line)
{
    mkt_config_t  *cfg;

    cfg = load(json);
    if (cfg == NULL) {
        fail_msg("line %d: failed: \"%s\"", line, diag.errors[0]);
    }
    mkt_config_free(cfg);
    if (diag.nwarnings != 1 || strcmp(diag.warnings[0], want) != 0) {
        fail_msg("line %d: %zu warnings, first \"%s\", expected \"%s\"",
                 line, diag.nwarnings, diag.warnings[0], want);
    }
}

#define assert_warning(json, want)  check_warning(json, want, __LINE__)


static int
str_is(mkt_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

#endif
