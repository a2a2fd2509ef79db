/* Identifiers from the kernel's CSPRNG (never rand()). */
#ifndef MKT_RANDOM_H
#define MKT_RANDOM_H

#include <stddef.h>

/* 0 on success, -1 when the kernel could not supply n random bytes. */
int mkt_random_bytes(void *buf, size_t n);

#endif
