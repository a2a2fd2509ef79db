/* libFuzzer target for src/useragent.c: any bytes must classify without a
 * crash or an out-of-bounds read, into a valid, consistent class. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "useragent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mkt_ua_t   ua;
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

    free(copy);
    return 0;
}
