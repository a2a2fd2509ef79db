/* mkt report's Redis stream input. */
#ifndef MKT_CLI_REPORT_REDIS_H
#define MKT_CLI_REPORT_REDIS_H

#include "report.h"

/* Adds every entry's field "e" of stream key at addr ("HOST:PORT") to the
 * report; an entry without one counts as a malformed line.  0, or -1 with
 * a message on stderr. */
int mkt_report_read_redis(mkt_report_t *rp, const char *addr,
    const char *key);

#endif
