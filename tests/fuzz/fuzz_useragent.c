/* libFuzzer target for src/useragent.c: any bytes must classify without a
 * crash or an out-of-bounds read, into a valid, consistent class, and the
 * per-worker cache must answer the same (kept across inputs, as a worker
 * keeps it across requests). */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "useragent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static mkt_ua_cache_t  cache;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int        k;
    mkt_ua_t   ua, cached;
    char      *copy;

    /* an exact-size heap copy, so ASan sees any read past len */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    if (size) {
        memcpy(copy, data, size);
    }

    mkt_ua_classify(size ? copy : NULL, size, &ua);

    if ((unsigned) ua.device >= MKT_UA_DEVICE_COUNT
        || (unsigned) ua.browser >= MKT_UA_BROWSER_COUNT
        || ua.bot != (ua.device == MKT_UA_BOT)
        || ua.bot != (ua.browser == MKT_UA_BROWSER_BOT)
        || mkt_ua_device_name(ua.device) == NULL
        || mkt_ua_browser_name(ua.browser) == NULL)
    {
        abort();
    }

    for (k = 0; k < 2; k++) {
        mkt_ua_classify_cached(&cache, size ? copy : NULL, size, &cached);
        if (cached.device != ua.device || cached.browser != ua.browser
            || cached.bot != ua.bot)
        {
            abort();
        }
    }

    free(copy);
    return 0;
}
