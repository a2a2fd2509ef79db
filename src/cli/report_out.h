/* The output formats of `mkt report`: an aligned text table, JSON (the
 * schema is docs/report.md's), CSV and a self-contained HTML page. */
#ifndef MKT_CLI_REPORT_OUT_H
#define MKT_CLI_REPORT_OUT_H

#include <stdio.h>

#include "report.h"

void mkt_report_print_table(FILE *f, const mkt_report_t *rp);
void mkt_report_print_json(FILE *f, const mkt_report_t *rp);
void mkt_report_print_csv(FILE *f, const mkt_report_t *rp);
void mkt_report_print_html(FILE *f, const mkt_report_t *rp);

#endif
