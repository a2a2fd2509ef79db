/* The commands of the mkt tool (lint, explain, eval, report), each an
 * entry of the command table in mkt.c. */
#ifndef MKT_CLI_H
#define MKT_CLI_H

#include "config.h"

#define MKT_CLI_LINT_USAGE                                                    \
    "lint FILE\n"                                                             \
    "        check an experiments file as nginx -t does (exit 1 on error)"

#define MKT_CLI_EXPLAIN_USAGE                                                 \
    "explain FILE [--attr K=V]... [--attr-json K=JSON]... [--host H]\n"       \
    "        [--path P] [--now T] [--force KEY:VAR]... [--sticky VALUE]\n"     \
    "        [--json]\n"                                                      \
    "        which experiments and slots a request gets, and why"

#define MKT_CLI_EVAL_USAGE                                                    \
    "eval FILE|-\n"                                                           \
    "        GrowthBook {\"context\":...,\"experiment\":...} lines on stdin,\n"\
    "        one {\"value\",\"inExperiment\",\"hashUsed\",\"variationId\"} "    \
    "line out"

#define MKT_CLI_REPORT_USAGE                                                  \
    "report [EVENTS...|-] [--redis HOST:PORT --stream KEY] [--config FILE]\n"\
    "        [--format table|json|csv|html] [--goal G] [--from T] [--to T]\n"\
    "        [--lookback DAYS] [--half-life DAYS] [--sequential [N]]\n"      \
    "        [-o FILE]\n"                                                     \
    "        experiment results, funnel and attribution from event files"

#define MKT_CLI_GEN_USAGE                                                     \
    "gen [--visitors N] [--seed S] [--exp KEY] [--variations K] [--rate P]\n"\
    "        [--uplift R] [--spread S] [--days D] [--start T]\n"             \
    "        synthetic events with a known uplift, one JSON line each"

int mkt_cli_lint(int argc, char **argv);
int mkt_cli_explain(int argc, char **argv);
int mkt_cli_eval(int argc, char **argv);
int mkt_cli_report(int argc, char **argv);
int mkt_cli_gen(int argc, char **argv);

/* Loads a config, printing its warnings and errors to stderr as
 * "warning: ..." and "error: ..." lines.  NULL on error. */
mkt_config_t *mkt_cli_load_config(const char *path, unsigned *warnings);

#endif
