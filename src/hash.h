/* GrowthBook-compatible hashing and bucketing: the numbers that decide which
 * variation a visitor gets, identical to GrowthBook's SDKs. */

#ifndef MKT_HASH_H
#define MKT_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 32-bit FNV-1a.  Start with MKT_FNV32A_INIT and feed the pieces of a
 * string one after another: the result equals hashing their concatenation. */
#define MKT_FNV32A_INIT  0x811c9dc5u

/* FNV-1a over raw bytes. */
uint32_t mkt_fnv32a(uint32_t h, const void *p, size_t n);

/* FNV-1a over the UTF-16 code units of the UTF-8 text s, as GrowthBook's
 * JavaScript SDK (the reference implementation) hashes strings.  Equal to
 * mkt_fnv32a() for ASCII.  Invalid UTF-8 counts as U+FFFD per the WHATWG
 * decoder, as a browser would decode it. */
uint32_t mkt_fnv32a_utf16(uint32_t h, const char *s, size_t n);

/* GrowthBook hash(seed, value, version): a float in [0, 1).
 * Version 1: (fnv32a(value + seed) % 1000) / 1000.
 * Version 2: (fnv32a(decimal(fnv32a(seed + value))) % 10000) / 10000.
 * Any other version is GrowthBook's null: the result is negative.
 * Callers apply GrowthBook's defaults for a missing hashVersion. */
double mkt_hash(const char *seed, size_t seed_len,
    const char *value, size_t value_len, int version);

/* The end of mkt_hash() for a caller that fed the FNV-1a state itself
 * with mkt_fnv32a_utf16() from MKT_FNV32A_INIT: value then seed for
 * version 1, seed then value for version 2.  So a seed's state can be
 * kept for every value, or a value's for every seed. */
double mkt_hash_v1_end(uint32_t h);
double mkt_hash_v2_end(uint32_t h);

/* A bucket range [start, end). */
typedef struct {
    double  start;
    double  end;
} mkt_range_t;

/* Whether start <= n < end. */
int mkt_in_range(double n, const mkt_range_t *r);

/* GrowthBook inNamespace(id, [ns, start, end]):
 * start <= hash("__" + ns, id, 1) < end. */
int mkt_in_namespace(const char *id, size_t id_len,
    const char *ns, size_t ns_len, double start, double end);

/* GrowthBook getEqualWeights(n): writes n weights of 1/n to out. */
void mkt_equal_weights(size_t n, double *out);

/* GrowthBook getBucketRanges(n, coverage, weights): writes n ranges to out
 * and returns n.  Coverage is clamped to [0, 1] (NaN counts as 0); weights
 * that are NULL, not n long, or not summing to 1 within 0.01 are replaced by
 * equal weights. */
size_t mkt_bucket_ranges(size_t n, double coverage, const double *weights,
    size_t nweights, mkt_range_t *out);

/* GrowthBook chooseVariation(n, ranges): the index of the first range that
 * holds n, or -1. */
int mkt_choose_variation(double n, const mkt_range_t *ranges, size_t count);

/* The hashing part of GrowthBook's isIncludedInRollout(), once the caller has
 * looked up the hash attribute's value.  range and coverage may each be
 * NULL (absent); version 0 means absent and defaults to 1. */
int mkt_in_rollout(const char *seed, size_t seed_len,
    const char *value, size_t value_len, int version,
    const mkt_range_t *range, const double *coverage);

/* The hashing part of GrowthBook's isFilteredOut() for one filter: whether
 * the value hashes into one of the filter's ranges.  An empty value or an
 * unknown version is filtered out; version 0 means absent and defaults
 * to 2. */
int mkt_filter_passes(const char *seed, size_t seed_len,
    const char *value, size_t value_len, int version,
    const mkt_range_t *ranges, size_t nranges);

#endif /* MKT_HASH_H */
