/* Sets of scalars for $in and its kin: JavaScript's includes() (strict
 * equality of scalars) as a binary search instead of a scan. */
#include <stdlib.h>
#include <string.h>

#include "condition_set.h"

typedef struct {
    const char  *p;
    size_t       len;
} mkt_set_str_t;

struct mkt_cond_set_s {
    mkt_set_str_t  *strs;          /* sorted by bytes (lowercased: fold) */
    size_t          nstrs;
    double         *nums;          /* sorted */
    size_t          nnums;
    char           *chars;
    unsigned        has_null:1;
    unsigned        has_true:1;
    unsigned        has_false:1;
    unsigned        fold:1;
};


static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* Byte order of a (lowercased first when fold) and b. */
static int
compare_bytes(const char *a, size_t a_len, const char *b, size_t b_len,
    int fold)
{
    size_t  i, n;
    int     ca, cb;

    n = a_len < b_len ? a_len : b_len;
    for (i = 0; i < n; i++) {
        ca = (unsigned char) a[i];
        cb = (unsigned char) b[i];
        if (fold) {
            ca = lower(ca);
        }
        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}


static int
order_strings(const void *x, const void *y)
{
    const mkt_set_str_t  *a = x, *b = y;

    return compare_bytes(a->p, a->len, b->p, b->len, 0);
}


static int
order_numbers(const void *x, const void *y)
{
    double  a = *(const double *) x, b = *(const double *) y;

    return a < b ? -1 : a > b ? 1 : 0;
}


mkt_cond_set_t *
mkt_cond_set_create(json_t *items, int fold)
{
    mkt_cond_set_t  *set;
    json_t          *e;
    size_t           i, j, n, chars = 0;
    char            *d;

    set = calloc(1, sizeof(*set));
    if (set == NULL) {
        return NULL;
    }
    set->fold = fold != 0;

    n = json_array_size(items);
    json_array_foreach(items, i, e) {
        if (json_is_string(e)) {
            chars += json_string_length(e);
        }
    }

    set->strs = malloc(sizeof(mkt_set_str_t) * (n ? n : 1));
    set->nums = malloc(sizeof(double) * (n ? n : 1));
    set->chars = malloc(chars ? chars : 1);
    if (set->strs == NULL || set->nums == NULL || set->chars == NULL) {
        mkt_cond_set_free(set);
        return NULL;
    }

    d = set->chars;
    json_array_foreach(items, i, e) {
        switch (json_typeof(e)) {
        case JSON_STRING:
            set->strs[set->nstrs].p = d;
            set->strs[set->nstrs].len = json_string_length(e);
            for (j = 0; j < json_string_length(e); j++) {
                *d++ = (char) (fold ? lower((unsigned char)
                                            json_string_value(e)[j])
                                    : json_string_value(e)[j]);
            }
            set->nstrs++;
            break;
        case JSON_INTEGER:
        case JSON_REAL:
            set->nums[set->nnums++] = json_number_value(e);
            break;
        case JSON_TRUE:
            set->has_true = 1;
            break;
        case JSON_FALSE:
            set->has_false = 1;
            break;
        case JSON_NULL:
            set->has_null = 1;
            break;
        default:
            break;                 /* never === to anything but itself */
        }
    }

    qsort(set->strs, set->nstrs, sizeof(mkt_set_str_t), order_strings);
    qsort(set->nums, set->nnums, sizeof(double), order_numbers);
    return set;
}


static int
has_string(const mkt_cond_set_t *set, const char *s, size_t len)
{
    size_t  lo = 0, hi = set->nstrs, mid;
    int     r;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        r = compare_bytes(s, len, set->strs[mid].p, set->strs[mid].len,
                          set->fold);
        if (r == 0) {
            return 1;
        }
        if (r < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return 0;
}


static int
has_number(const mkt_cond_set_t *set, double d)
{
    size_t  lo = 0, hi = set->nnums, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (d == set->nums[mid]) {
            return 1;
        }
        if (d < set->nums[mid]) {
            hi = mid;
        } else if (d > set->nums[mid]) {
            lo = mid + 1;
        } else {
            return 0;              /* NaN */
        }
    }
    return 0;
}


static int
has_scalar(const mkt_cond_set_t *set, const mkt_val_t *v)
{
    switch (v->type) {
    case MKT_VAL_STRING:
        return has_string(set, v->u.str, v->len);
    case MKT_VAL_NUMBER:
        return has_number(set, v->u.number);
    case MKT_VAL_BOOL:
        return v->u.boolean ? set->has_true : set->has_false;
    case MKT_VAL_NULL:
        return set->has_null;
    default:
        return 0;
    }
}


int
mkt_cond_set_match(const mkt_cond_set_t *set, const mkt_val_t *v)
{
    size_t  i;

    if (v->type != MKT_VAL_ARRAY) {
        return has_scalar(set, v);
    }

    /* an array attribute matches when the two intersect */
    for (i = 0; i < v->len; i++) {
        if (has_scalar(set, &v->u.items[i])) {
            return 1;
        }
    }
    return 0;
}


void
mkt_cond_set_free(mkt_cond_set_t *set)
{
    if (set == NULL) {
        return;
    }
    free(set->strs);
    free(set->nums);
    free(set->chars);
    free(set);
}
