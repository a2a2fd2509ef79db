/* Shared by the tests that need a loaded config: a group setup that loads
 * one from a string (failing the group if it does not load) and the
 * teardown that frees it.  Include after cmocka.h and config.h. */
#ifndef MKT_TEST_CONFIG_FIXTURE_H
#define MKT_TEST_CONFIG_FIXTURE_H

#include <string.h>

static mkt_config_t  *cfg;


static int
load_fixture(const char *json)
{
    cfg = mkt_config_load_string("t.json", json, strlen(json), NULL, NULL);
    return cfg == NULL;
}


static int
free_fixture(void **state)
{
    mkt_config_free(cfg);
    return 0;
}

#endif
