/* The config loader's tools: its arena, JSON paths and diagnostics, name
 * and RFC 3339 time checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "text.h"

#define ARENA_BLOCK   (16 * 1024)
#define ARENA_ALIGN   16
#define QUOTE_SHOWN   64            /* characters of a value in a message */

struct mkt_arena_block_s {
    mkt_arena_block_t  *next;
    size_t              used;
    size_t              cap;
    /* data follows, aligned */
};

#define BLOCK_HEADER  ((sizeof(mkt_arena_block_t) + ARENA_ALIGN - 1)          \
                       & ~(size_t) (ARENA_ALIGN - 1))


void *
mkt_arena_alloc(mkt_arena_t *a, size_t n)
{
    size_t              cap;
    unsigned char      *p;
    mkt_arena_block_t  *b;

    n = (n + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
    if (n == 0) {
        n = ARENA_ALIGN;
    }

    b = a->head;
    if (b == NULL || b->cap - b->used < n) {
        cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(BLOCK_HEADER + cap);
        if (b == NULL) {
            a->failed = 1;
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        /* a big allocation goes behind the current block, which keeps its
         * free room for the small ones */
        if (a->head != NULL && n > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }

    p = (unsigned char *) b + BLOCK_HEADER + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}


void
mkt_arena_free(mkt_arena_t *a)
{
    mkt_arena_block_t  *b, *next;

    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}


mkt_str_t
mkt_cfg_strdup(mkt_cfg_ctx_t *ctx, const char *s, size_t len)
{
    char       *p;
    mkt_str_t   r;

    r.data = "";
    r.len = 0;

    p = mkt_arena_alloc(ctx->arena, len + 1);
    if (p == NULL) {
        return r;
    }
    if (len) {
        memcpy(p, s, len);
    }
    r.data = p;
    r.len = len;
    return r;
}


static int
plain_key(const char *key)
{
    const char  *p;

    if (*key == '\0') {
        return 0;
    }
    for (p = key; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'
              || *p == '$'))
        {
            return 0;
        }
    }
    return 1;
}


size_t
mkt_cfg_push(mkt_cfg_ctx_t *ctx, const char *key, size_t index)
{
    char    q[QUOTE_SHOWN * 4 + 8];
    size_t  saved, room;
    int     n;

    saved = ctx->path_len;
    room = sizeof(ctx->path) - ctx->path_len;

    if (key == NULL) {
        n = snprintf(ctx->path + ctx->path_len, room, "[%zu]", index);

    } else if (plain_key(key)) {
        n = snprintf(ctx->path + ctx->path_len, room, "%s%s",
                     ctx->path_len ? "." : "", key);

    } else {
        n = snprintf(ctx->path + ctx->path_len, room, "[%s]",
                     mkt_cfg_quote(key, strlen(key), q, sizeof(q)));
    }

    if (n < 0 || (size_t) n >= room) {
        /* a path this deep is cut, never overflowing */
        ctx->path_len = sizeof(ctx->path) - 1;
        ctx->path[ctx->path_len] = '\0';
    } else {
        ctx->path_len += (size_t) n;
    }

    return saved;
}


void
mkt_cfg_pop(mkt_cfg_ctx_t *ctx, size_t saved)
{
    ctx->path_len = saved;
    ctx->path[saved] = '\0';
}


/* "FILE: path: text", leaving out what is NULL or empty, cut to fit. */
static void
compose(char *buf, size_t cap, const char *file, const char *path,
    const char *text)
{
    size_t  n;

    n = 0;
    buf[0] = '\0';
    if (file != NULL) {
        mkt_text_append(buf, cap, &n, file, strlen(file));
        mkt_text_append(buf, cap, &n, ": ", sizeof(": ") - 1);
    }
    if (path != NULL && *path) {
        mkt_text_append(buf, cap, &n, path, strlen(path));
        mkt_text_append(buf, cap, &n, ": ", sizeof(": ") - 1);
    }
    mkt_text_append(buf, cap, &n, text, strlen(text));
}


static void
emit(mkt_cfg_ctx_t *ctx, mkt_diag_level_e level, int with_path,
    const char *text)
{
    char  msg[MKT_CFG_MSG_MAX];

    if (ctx->gb) {
        if (level == MKT_DIAG_ERROR && ctx->errors == 0 && ctx->err) {
            compose(ctx->err, ctx->err_len, NULL,
                    with_path ? ctx->path : NULL, text);
        }

    } else if (ctx->diag != NULL) {
        if (level == MKT_DIAG_ERROR && ctx->errors == MKT_CONFIG_ERRORS_MAX) {
            compose(msg, sizeof(msg), ctx->file, NULL,
                    "too many errors, giving up");
            ctx->diag(ctx->data, level, msg);

        } else if (level == MKT_DIAG_WARN
                   || ctx->errors < MKT_CONFIG_ERRORS_MAX)
        {
            compose(msg, sizeof(msg), ctx->file,
                    with_path ? ctx->path : NULL, text);
            ctx->diag(ctx->data, level, msg);
        }
    }

    if (level == MKT_DIAG_ERROR) {
        ctx->errors++;
    } else {
        ctx->warnings++;
    }
}


void
mkt_cfg_error(mkt_cfg_ctx_t *ctx, const char *fmt, ...)
{
    char     text[MKT_CFG_MSG_MAX];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    emit(ctx, MKT_DIAG_ERROR, 1, text);
}


void
mkt_cfg_warn(mkt_cfg_ctx_t *ctx, const char *fmt, ...)
{
    char     text[MKT_CFG_MSG_MAX];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    emit(ctx, MKT_DIAG_WARN, 1, text);
}


void
mkt_cfg_error_raw(mkt_cfg_ctx_t *ctx, const char *text)
{
    emit(ctx, MKT_DIAG_ERROR, 0, text);
}


void
mkt_cfg_check_keys(mkt_cfg_ctx_t *ctx, json_t *obj, const char *const *known)
{
    char                 q[QUOTE_SHOWN * 4 + 8];
    size_t               i;
    const char          *key;
    json_t              *v;

    json_object_foreach(obj, key, v) {
        if (key[0] == '/' && key[1] == '/') {
            continue;
        }
        for (i = 0; known[i] != NULL; i++) {
            if (strcmp(key, known[i]) == 0) {
                break;
            }
        }
        if (known[i] == NULL && !ctx->gb) {
            mkt_cfg_warn(ctx, "unknown key %s ignored",
                         mkt_cfg_quote(key, strlen(key), q, sizeof(q)));
        }
    }
}


const char *
mkt_cfg_quote(const char *s, size_t len, char *buf, size_t cap)
{
    size_t          i, o, shown;
    unsigned char   c;

    o = 0;
    shown = 0;
    buf[o++] = '"';

    for (i = 0; i < len && o + 8 < cap; i++) {
        c = (unsigned char) s[i];
        if (shown == QUOTE_SHOWN) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if ((c & 0xc0) != 0x80) {
            shown++;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char) c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t) snprintf(buf + o, cap - o, "\\u%04x", c);
        } else {
            buf[o++] = (char) c;
        }
    }

    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}


int
mkt_cfg_valid_name(const char *s, size_t len, int dot)
{
    size_t  i;
    char    c;

    if (len == 0 || len > MKT_KEY_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'
              || (dot && c == '.')))
        {
            return 0;
        }
    }
    return 1;
}


/* --- RFC 3339 --------------------------------------------------------- */

static int
digits(const char *s, size_t n, int *out)
{
    size_t  i;
    int     v;

    v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}


/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}


int
mkt_config_parse_time(const char *s, size_t len, int64_t *out)
{
    static const int  mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };
    int               y, mo, d, h, mi, sec, oh, om, leap, dim;
    size_t            i;
    int64_t           t;

    /* YYYY-MM-DDTHH:MM:SS */
    if (len < 20 || s[4] != '-' || s[7] != '-'
        || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':'
        || digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d)
        || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi)
        || digits(s + 17, 2, &sec))
    {
        return -1;
    }

    i = 19;
    if (s[i] == '.') {                      /* fractions are dropped */
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) { /* void */ }
        if (i == 20) {
            return -1;
        }
    }

    oh = om = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        /* UTC */
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-')
               && s[i + 3] == ':' && digits(s + i + 1, 2, &oh) == 0
               && digits(s + i + 4, 2, &om) == 0 && oh < 24 && om < 60)
    {
        if (s[i] == '-') {
            oh = -oh;
            om = -om;
        }
    } else {
        return -1;
    }

    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12) {
        return -1;
    }
    dim = mdays[mo - 1] + (mo == 2 && leap);
    if (y < 1970 || d < 1 || d > dim || h > 23 || mi > 59 || sec > 59) {
        return -1;
    }

    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *out = t - (int64_t) oh * 3600 - (int64_t) om * 60;
    return 0;
}
