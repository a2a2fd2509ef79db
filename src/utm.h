/* A request's campaign from its query string (DESIGN.md section 5):
 * utm_source ... utm_content, a click id (gclid, fbclid, ... and the
 * config's channels.click_ids) and the config's channel code. */
#ifndef MKT_UTM_H
#define MKT_UTM_H

#include <stddef.h>

#include "config.h"
#include "query.h"

#define MKT_CLICK_ID_MAX    256     /* bytes of a click id value */

typedef enum {
    MKT_UTM_SOURCE = 0,
    MKT_UTM_MEDIUM,
    MKT_UTM_CAMPAIGN,
    MKT_UTM_TERM,
    MKT_UTM_CONTENT,
    MKT_UTM_FIELDS
} mkt_utm_field_e;

/* What network a click id comes from, for channel grouping. */
typedef enum {
    MKT_CLICK_NONE = 0,
    MKT_CLICK_SEARCH,           /* gclid gbraid wbraid msclkid */
    MKT_CLICK_SOCIAL,           /* fbclid ttclid li_fat_id twclid */
    MKT_CLICK_OTHER             /* channels.click_ids */
} mkt_click_kind_e;

/*
 * Every value is percent-decoded ('+' is a space), cleaned as
 * mkt_text_clean() does (invalid UTF-8 becomes U+FFFD, control characters
 * go), cut to its capacity at a character boundary, and trimmed of
 * spaces at both ends.  A value that ends up empty counts as absent; of a
 * repeated parameter the first non-empty value wins.
 */
typedef struct {
    size_t                     len[MKT_UTM_FIELDS];
    char                       value[MKT_UTM_FIELDS][MKT_UTM_VALUE_MAX];

    mkt_click_kind_e           click_kind;
    const char                *click_name;      /* NUL-terminated, static
                                                 * or the config's; NULL:
                                                 * no click id */
    size_t                     click_name_len;
    const char                *click_source;    /* "google", ...; "" for
                                                 * configured names */
    size_t                     click_len;
    char                       click[MKT_CLICK_ID_MAX];

    const mkt_channel_code_t  *code;            /* the configured code
                                                 * found, or NULL */
} mkt_utm_t;

/*
 * Reads the query string args (the bytes after '?', as nginx's r->args;
 * any bytes) into out.  Parameter names are matched ASCII
 * case-insensitively and are not decoded, as nginx's $arg_NAME does.
 * ch (NULL: none) gives the channel-code parameter, its codes (matched
 * byte for byte after decoding) and extra click id names.  The first
 * click id in the query wins.  No allocation; bounded by
 * MKT_QUERY_SCAN_MAX.
 */
void mkt_utm_parse(const mkt_channels_t *ch, const char *args, size_t len,
    mkt_utm_t *out);

/* 1 when out carries any campaign data: a utm value, a click id or a
 * configured code. */
int mkt_utm_present(const mkt_utm_t *u);

/* "source", "medium", "campaign", "term", "content". */
const char *mkt_utm_field_name(mkt_utm_field_e f);

/* What a parameter name already is to the parser (ASCII
 * case-insensitively): 1 a utm_* name, 2 a built-in click id, 0 neither.
 * For the config's checks. */
int mkt_utm_builtin_param(const char *name, size_t len);

#endif
