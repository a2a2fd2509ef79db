/* The JavaScript coercions and comparisons that GrowthBook's condition
 * evaluator inherits from its reference implementation (internal). */
#ifndef MKT_CONDITION_JS_H
#define MKT_CONDITION_JS_H

#include <stddef.h>

#include "value.h"

#define MKT_JS_NUMBER_MAX  32      /* room for any formatted number */

/* Boolean(v) */
int mkt_js_truthy(const mkt_val_t *v);

/* Number(v); v * 1 in GrowthBook's code */
double mkt_js_to_number(const mkt_val_t *v);

/* Number(s) for a string, NaN when it is not a numeric literal (or longer
 * than 511 bytes after trimming, which no sane attribute is). */
double mkt_js_string_to_number(const char *s, size_t len);

/* String(d) into buf, NUL-terminated; returns the length. */
size_t mkt_js_format_number(double d, char *buf);

/* a < b as JavaScript orders strings (by UTF-16 code unit): <0, 0, >0. */
int mkt_js_compare_strings(const char *a, size_t a_len, const char *b,
    size_t b_len);

/*
 * String(v) compared with s like mkt_js_compare_strings(), without building
 * String(v).  With fold, String(v) is lowercased (ASCII) first; s is taken
 * as already lowercased.
 */
int mkt_js_compare_string_of(const mkt_val_t *v, const char *s, size_t len,
    int fold);

/* String(v) into buf of cap bytes, not NUL-terminated; the length, or
 * (size_t) -1 when it does not fit. */
size_t mkt_js_string_of(const mkt_val_t *v, char *buf, size_t cap);

/* a === b: arrays and objects are never identical to each other's copies. */
int mkt_js_strict_equal(const mkt_val_t *a, const mkt_val_t *b);

/* JSON.stringify(a) === JSON.stringify(b), as JavaScript orders keys. */
int mkt_js_json_equal(const mkt_val_t *a, const mkt_val_t *b);

/* The code point at p (n > 0 bytes) and its length in *used; an invalid
 * byte stands for itself. */
unsigned long mkt_js_decode_utf8(const unsigned char *p, size_t n,
    size_t *used);

/* A key that orders code points as JavaScript orders strings. */
unsigned long mkt_js_utf16_key(unsigned long cp);

/* 1 and *idx when key is a canonical array index ("0", "17"; not "01"). */
int mkt_js_array_index(const char *key, size_t len, size_t *idx);

#endif
