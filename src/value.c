/* Attribute values: constructors, member lookup, and deep copies of jansson
 * values for tests and the CLI. */
#include <stdlib.h>
#include <string.h>

#include "value.h"

/* What a jansson value needs once copied, so that the copy is one block. */
typedef struct {
    size_t  vals;
    size_t  pairs;
    size_t  chars;
} mkt_val_size_t;

/* Where the next piece of a copy goes inside its block. */
typedef struct {
    mkt_val_t       *vals;
    mkt_val_pair_t  *pairs;
    char            *chars;
} mkt_val_cursor_t;


mkt_val_t
mkt_val_null(void)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    v.type = MKT_VAL_NULL;
    return v;
}


mkt_val_t
mkt_val_bool(int b)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    v.type = MKT_VAL_BOOL;
    v.u.boolean = b != 0;
    return v;
}


mkt_val_t
mkt_val_number(double n)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    v.type = MKT_VAL_NUMBER;
    v.u.number = n;
    return v;
}


mkt_val_t
mkt_val_string(const char *s, size_t len)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    v.type = MKT_VAL_STRING;
    v.len = len;
    v.u.str = s;
    return v;
}


mkt_val_t
mkt_val_array(const mkt_val_t *items, size_t n)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    v.type = MKT_VAL_ARRAY;
    v.len = n;
    v.u.items = items;
    return v;
}


mkt_val_t
mkt_val_object(const mkt_val_pair_t *pairs, size_t n)
{
    mkt_val_t  v;

    memset(&v, 0, sizeof(v));
    v.type = MKT_VAL_OBJECT;
    v.len = n;
    v.u.pairs = pairs;
    return v;
}


const mkt_val_t *
mkt_val_get(const mkt_val_t *v, const char *key, size_t key_len)
{
    const mkt_val_pair_t  *p;
    size_t                 i;

    if (v == NULL || v->type != MKT_VAL_OBJECT) {
        return NULL;
    }

    for (i = v->len; i > 0; i--) {
        p = &v->u.pairs[i - 1];
        if (p->key_len == key_len
            && (key_len == 0 || memcmp(p->key, key, key_len) == 0))
        {
            return &p->val;
        }
    }

    return NULL;
}


const char *
mkt_val_type_name(const mkt_val_t *v)
{
    switch (v->type) {
    case MKT_VAL_NULL:
        return "null";
    case MKT_VAL_BOOL:
        return "boolean";
    case MKT_VAL_NUMBER:
        return "number";
    case MKT_VAL_STRING:
        return "string";
    case MKT_VAL_ARRAY:
        return "array";
    case MKT_VAL_OBJECT:
        return "object";
    default:
        return "undefined";
    }
}


/* Adds what j needs below its own mkt_val_t to *sz; -1 if a container
 * inside depth others nests too deep. */
static int
measure(json_t *j, int depth, mkt_val_size_t *sz)
{
    const char  *key;
    json_t      *e;
    size_t       i;

    if ((json_is_array(j) || json_is_object(j))
        && depth >= MKT_VAL_MAX_DEPTH)
    {
        return -1;
    }

    switch (json_typeof(j)) {
    case JSON_STRING:
        sz->chars += json_string_length(j) + 1;
        return 0;

    case JSON_ARRAY:
        sz->vals += json_array_size(j);
        json_array_foreach(j, i, e) {
            if (measure(e, depth + 1, sz) != 0) {
                return -1;
            }
        }
        return 0;

    case JSON_OBJECT:
        sz->pairs += json_object_size(j);
        json_object_foreach(j, key, e) {
            sz->chars += strlen(key) + 1;
            if (measure(e, depth + 1, sz) != 0) {
                return -1;
            }
        }
        return 0;

    default:
        return 0;
    }
}


static const char *
copy_chars(mkt_val_cursor_t *cur, const char *s, size_t len)
{
    char  *d;

    d = cur->chars;
    memcpy(d, s, len);
    d[len] = '\0';
    cur->chars += len + 1;
    return d;
}


/* Fills *v from j, taking room for children from *cur; measure() has
 * already checked the depth. */
static void
fill(json_t *j, mkt_val_t *v, mkt_val_cursor_t *cur)
{
    mkt_val_pair_t  *pairs;
    const char      *key;
    mkt_val_t       *items;
    json_t          *e;
    size_t           i;

    switch (json_typeof(j)) {
    case JSON_NULL:
        *v = mkt_val_null();
        break;

    case JSON_TRUE:
    case JSON_FALSE:
        *v = mkt_val_bool(json_is_true(j));
        break;

    case JSON_INTEGER:
    case JSON_REAL:
        *v = mkt_val_number(json_number_value(j));
        break;

    case JSON_STRING:
        *v = mkt_val_string(copy_chars(cur, json_string_value(j),
                                       json_string_length(j)),
                            json_string_length(j));
        break;

    case JSON_ARRAY:
        items = cur->vals;
        cur->vals += json_array_size(j);
        json_array_foreach(j, i, e) {
            fill(e, &items[i], cur);
        }
        *v = mkt_val_array(items, json_array_size(j));
        break;

    case JSON_OBJECT:
        pairs = cur->pairs;
        cur->pairs += json_object_size(j);
        i = 0;
        json_object_foreach(j, key, e) {
            pairs[i].key_len = strlen(key);
            pairs[i].key = copy_chars(cur, key, pairs[i].key_len);
            fill(e, &pairs[i].val, cur);
            i++;
        }
        *v = mkt_val_object(pairs, i);
        break;

    default:
        memset(v, 0, sizeof(*v));
        break;
    }
}


mkt_val_t *
mkt_val_from_json(json_t *j)
{
    mkt_val_cursor_t  cur;
    mkt_val_size_t    sz;
    mkt_val_t        *root;
    char             *block;

    if (j == NULL) {
        return NULL;
    }

    memset(&sz, 0, sizeof(sz));
    if (measure(j, 0, &sz) != 0) {
        return NULL;
    }

    /* values, then pairs (both 8-byte aligned), then the characters */
    block = malloc(sizeof(mkt_val_t) * (1 + sz.vals)
                   + sizeof(mkt_val_pair_t) * sz.pairs + sz.chars);
    if (block == NULL) {
        return NULL;
    }

    root = (mkt_val_t *) (void *) block;
    cur.vals = root + 1;
    cur.pairs = (mkt_val_pair_t *) (void *) (cur.vals + sz.vals);
    cur.chars = (char *) (cur.pairs + sz.pairs);

    fill(j, root, &cur);
    return root;
}


void
mkt_val_free(mkt_val_t *v)
{
    free(v);
}
