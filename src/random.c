/* Random bytes from getrandom(2); unbuffered so that forked nginx workers
 * never share state. */
#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

#include "random.h"


int
mkt_random_bytes(void *buf, size_t n)
{
    ssize_t         r;
    unsigned char  *p = buf;

    while (n > 0) {
        r = getrandom(p, n, 0);

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }

        p += r;
        n -= (size_t) r;
    }

    return 0;
}
