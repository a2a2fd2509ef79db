/* mkt lint FILE: the checks nginx -t makes of an experiments file, with
 * the same messages. */
#include <stdio.h>

#include "cli.h"


static void
print_diag(void *data, mkt_diag_level_e level, const char *msg)
{
    unsigned  *warnings = data;

    if (level == MKT_DIAG_WARN) {
        (*warnings)++;
        fprintf(stderr, "warning: %s\n", msg);
    } else {
        fprintf(stderr, "error: %s\n", msg);
    }
}


mkt_config_t *
mkt_cli_load_config(const char *path, unsigned *warnings)
{
    *warnings = 0;
    return mkt_config_load(path, print_diag, warnings);
}


int
mkt_cli_lint(int argc, char **argv)
{
    unsigned       warnings;
    mkt_config_t  *cfg;

    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: mkt " MKT_CLI_LINT_USAGE "\n");
        return 2;
    }

    cfg = mkt_cli_load_config(argv[0], &warnings);
    if (cfg == NULL) {
        return 1;
    }

    printf("%s: ok, %zu experiments, %zu slots\n", argv[0],
           mkt_config_experiment_count(cfg), mkt_config_slot_count(cfg));

    mkt_config_free(cfg);
    return 0;
}
