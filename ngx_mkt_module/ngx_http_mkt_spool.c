/*
 * The spool of the Redis event sink (mkt_events_spool): per worker, the
 * file events are appended to while Redis fails, and the files it replays
 * (its own, and those it claimed from workers that are gone).  Appends are
 * buffered and written with one write and one fdatasync per flush; reads
 * are bounded chunks.  The format is in src/spool.h.  Also the directive
 * and the sink's rate-limited log.
 */

#include "ngx_http_mkt_events_redis.h"

#include <stdarg.h>

#include "event_id.h"


#define NGX_HTTP_MKT_SPOOL_CLAIMS  256     /* files claimed per scan */


typedef struct {
    uint64_t                   pid;
    uint64_t                   seq;
} ngx_http_mkt_spool_name_t;


static ngx_int_t ngx_http_mkt_spool_name_cmp(const void *one,
    const void *two);
static ngx_http_mkt_spool_file_t *ngx_http_mkt_spool_open(
    ngx_http_mkt_spool_t *sp, u_char *name, size_t len, ngx_uint_t create);
static ngx_int_t ngx_http_mkt_spool_claim(ngx_http_mkt_spool_t *sp,
    u_char *name, size_t len);
static ngx_int_t ngx_http_mkt_spool_write(ngx_fd_t fd, u_char *buf,
    size_t len, off_t offset);
static int64_t ngx_http_mkt_spool_first(ngx_http_mkt_spool_file_t *f);
static size_t ngx_http_mkt_spool_fresh(ngx_http_mkt_spool_t *sp,
    u_char *name, u_char *path);


char *
ngx_http_mkt_events_spool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t  *mcf = conf;

    u_char      *p;
    ngx_str_t   *value, name;
    ngx_path_t  *path;

    if (mcf->events_spool) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    while (name.len > 1 && name.data[name.len - 1] == '/') {
        name.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    /* NUL-terminated, for opendir() */
    p = ngx_pnalloc(cf->pool, name.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, name.data, name.len);
    p[name.len] = '\0';

    path->name.data = p;
    path->name.len = name.len;
    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    /* created at start, owned by the worker user, like the temp paths */
    if (ngx_add_path(cf, &path) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mcf->events_spool = path;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_mkt_spool_init(ngx_http_mkt_spool_t *sp, ngx_path_t *dir,
    ngx_cycle_t *cycle)
{
    sp->dir = dir->name;
    ngx_queue_init(&sp->files);

    sp->wbuf = ngx_alloc(NGX_HTTP_MKT_SPOOL_WBUF, cycle->log);
    if (sp->wbuf == NULL) {
        return NGX_ERROR;
    }

    sp->wpos = sp->wbuf;
    sp->wend = sp->wbuf + NGX_HTTP_MKT_SPOOL_WBUF;

    /* files of earlier workers and of an earlier nginx */
    ngx_http_mkt_spool_scan(sp, 1);

    return NGX_OK;
}


/* Buffers an event line (with its "\n") for the next flush. */
ngx_int_t
ngx_http_mkt_spool_append(ngx_http_mkt_spool_t *sp, u_char *line, size_t len)
{
    int64_t      ms;
    const char  *id;

    if (len > (size_t) (sp->wend - sp->wpos)
        && ngx_http_mkt_spool_flush(sp) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (len > (size_t) (sp->wend - sp->wpos)) {
        return NGX_ERROR;
    }

    if (sp->wevents == 0) {
        id = mkt_spool_event_id((char *) line, len);
        ms = 0;
        if (id) {
            (void) mkt_event_id_time(id, MKT_EVENT_ID_LEN, &ms);
        }
        sp->wfirst = ms;
    }

    sp->wpos = ngx_cpymem(sp->wpos, line, len);
    sp->wevents++;

    return NGX_OK;
}


/* Buffers a mark: the next n events may be in the stream after "after". */
ngx_int_t
ngx_http_mkt_spool_mark(ngx_http_mkt_spool_t *sp, mkt_stream_id_t *after,
    ngx_uint_t n)
{
    if ((size_t) (sp->wend - sp->wpos) < MKT_SPOOL_MARK_MAX
        && ngx_http_mkt_spool_flush(sp) != NGX_OK)
    {
        return NGX_ERROR;
    }

    sp->wpos += mkt_spool_mark_format((char *) sp->wpos, after,
                                      ngx_min(n, MKT_SPOOL_N_MAX));
    sp->wmarks++;

    return NGX_OK;
}


/*
 * Writes the buffered lines to this worker's own spool file (created on
 * the first flush of an outage) with one write and one fdatasync: the
 * spool's whole fsync policy.  A failed write is cut off again, so that
 * the file keeps whole lines; its events are lost, counted and logged.
 */
ngx_int_t
ngx_http_mkt_spool_flush(ngx_http_mkt_spool_t *sp)
{
    size_t                      len;
    ngx_err_t                   err;
    ngx_http_mkt_spool_file_t  *f;
    u_char                      name[MKT_SPOOL_NAME_MAX];
    u_char                      path[NGX_MAX_PATH];

    len = sp->wpos - sp->wbuf;

    if (len == 0) {
        return NGX_OK;
    }

    f = sp->own;

    if (f == NULL) {
        len = ngx_http_mkt_spool_fresh(sp, name, path);
        f = len ? ngx_http_mkt_spool_open(sp, name, len, 1) : NULL;
        if (f == NULL) {
            err = ngx_errno;
            goto failed;
        }

        sp->own = f;
        f->first_ms = sp->wfirst;
        len = sp->wpos - sp->wbuf;
    }

    if (ngx_http_mkt_spool_write(f->fd, sp->wbuf, len, f->size) != NGX_OK
        || fdatasync(f->fd) == -1)
    {
        err = ngx_errno;

        if (ftruncate(f->fd, f->size) == -1) {
            /* the replay skips a line cut short */
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_errno,
                          "ftruncate() \"%s\" failed", f->path);
        }

        goto failed;
    }

    f->size += len;

    ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_spooled, sp->wevents);

    sp->wpos = sp->wbuf;
    sp->wevents = 0;
    sp->wmarks = 0;

    return NGX_OK;

failed:

    ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_dropped,
                                sp->wevents);
    ngx_http_mkt_events_redis_log(NGX_LOG_ALERT, err,
                                  "spool write to \"%V\" failed: %ui events "
                                  "lost", &sp->dir, sp->wevents);

    sp->wpos = sp->wbuf;
    sp->wevents = 0;
    sp->wmarks = 0;

    return NGX_ERROR;
}


/*
 * A name of this worker's, spool-PID-SEQ.jsonl, that no file has: files
 * of an earlier process with the same pid may still be there.  Only this
 * worker makes names with its pid, so none can appear meanwhile.  The
 * name's length, with DIR/name in path; 0 when none is found.
 */
static size_t
ngx_http_mkt_spool_fresh(ngx_http_mkt_spool_t *sp, u_char *name,
    u_char *path)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        tries;
    ngx_file_info_t   fi;

    if (sp->dir.len + 1 + MKT_SPOOL_NAME_MAX >= NGX_MAX_PATH) {
        return 0;
    }

    for (tries = 0; tries < 1000; tries++) {
        len = mkt_spool_name_format((char *) name, (uint64_t) ngx_pid,
                                    sp->seq++);

        p = ngx_cpymem(path, sp->dir.data, sp->dir.len);
        *p++ = '/';
        *ngx_cpymem(p, name, len) = '\0';

        if (ngx_link_info(path, &fi) == NGX_FILE_ERROR
            && ngx_errno == NGX_ENOENT)
        {
            return len;
        }
    }

    ngx_set_errno(NGX_EEXIST);

    return 0;
}


static ngx_int_t
ngx_http_mkt_spool_write(ngx_fd_t fd, u_char *buf, size_t len, off_t offset)
{
    ssize_t  n;

    while (len) {
        n = pwrite(fd, buf, len, offset);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }
            return NGX_ERROR;
        }

        if (n == 0) {
            ngx_set_errno(NGX_ENOSPC);
            return NGX_ERROR;
        }

        buf += n;
        len -= n;
        offset += n;
    }

    return NGX_OK;
}


/*
 * Opens DIR/name: a new own file with its header, or a claimed one whose
 * header is read back.  Claimed files go first in the replay order, own
 * files last.
 */
static ngx_http_mkt_spool_file_t *
ngx_http_mkt_spool_open(ngx_http_mkt_spool_t *sp, u_char *name, size_t len,
    ngx_uint_t create)
{
    u_char                     *p;
    ngx_err_t                   err;
    ngx_file_info_t             fi;
    ngx_http_mkt_spool_file_t  *f;
    u_char                      header[MKT_SPOOL_HEADER_LEN];

    f = ngx_alloc(sizeof(ngx_http_mkt_spool_file_t) + sp->dir.len + 1 + len,
                  ngx_cycle->log);
    if (f == NULL) {
        return NULL;
    }

    ngx_memzero(f, sizeof(ngx_http_mkt_spool_file_t));

    p = ngx_cpymem(f->path, sp->dir.data, sp->dir.len);
    *p++ = '/';
    p = ngx_cpymem(p, name, len);
    *p = '\0';

    f->fd = open((char *) f->path, create ? O_RDWR|O_CREAT|O_EXCL : O_RDWR,
                 0600);
    if (f->fd == NGX_INVALID_FILE) {
        goto failed;
    }

    if (create) {
        f->header.done = MKT_SPOOL_HEADER_LEN;
        f->pos = MKT_SPOOL_HEADER_LEN;
        f->size = MKT_SPOOL_HEADER_LEN;
        f->own = 1;

        if (ngx_http_mkt_spool_save(f) != NGX_OK) {
            goto failed;
        }

        ngx_queue_insert_tail(&sp->files, &f->queue);

        return f;
    }

    if (ngx_fd_info(f->fd, &fi) == NGX_FILE_ERROR
        || pread(f->fd, header, sizeof(header), 0) != sizeof(header)
        || mkt_spool_header_parse((char *) header, sizeof(header),
                                  &f->header) != 0
        || (off_t) f->header.done > ngx_file_size(&fi))
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "mkt spool \"%s\" has no valid header: left as it is",
                      f->path);
        ngx_close_file(f->fd);
        ngx_free(f);
        return NULL;
    }

    f->size = ngx_file_size(&fi);
    f->pos = f->header.done;
    f->first_ms = ngx_http_mkt_spool_first(f);
    f->check_after = f->header.after;
    f->check_n = f->header.n;

    /* claimed files go before this worker's own, in the order claimed */
    ngx_queue_insert_tail(sp->own ? &sp->own->queue : &sp->files, &f->queue);

    return f;

failed:

    err = ngx_errno;

    if (f->fd != NGX_INVALID_FILE) {
        ngx_close_file(f->fd);
        (void) ngx_delete_file(f->path);
    }

    ngx_free(f);
    ngx_set_errno(err);

    return NULL;
}


/* The time of the first event from pos, for the age gauge: 0 when the
 * first lines read do not hold one. */
static int64_t
ngx_http_mkt_spool_first(ngx_http_mkt_spool_file_t *f)
{
    u_char       *p, *q, *last;
    ssize_t       n;
    int64_t       ms;
    const char   *id;
    u_char        buf[512];

    n = pread(f->fd, buf, sizeof(buf), f->pos);
    if (n <= 0) {
        return 0;
    }

    last = buf + n;

    for (p = buf; p < last; p = q + 1) {
        q = ngx_strlchr(p, last, '\n');
        if (q == NULL) {
            q = last;
        }

        id = mkt_spool_event_id((char *) p, q - p);

        if (id && mkt_event_id_time(id, MKT_EVENT_ID_LEN, &ms) == 0) {
            return ms;
        }
    }

    return 0;
}


/* The oldest event this worker holds in its spool: unix ms, or 0. */
int64_t
ngx_http_mkt_spool_oldest(ngx_http_mkt_spool_t *sp)
{
    int64_t                     ms;
    ngx_queue_t                *q;
    ngx_http_mkt_spool_file_t  *f;

    ms = sp->wevents ? sp->wfirst : 0;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_mkt_spool_file_t, queue);

        if (f->pos < f->size && f->first_ms
            && (ms == 0 || f->first_ms < ms))
        {
            ms = f->first_ms;
        }
    }

    return ms;
}


/* Rewrites the header in place: how far the file was replayed, and what
 * may already be in the stream.  Not synced: see docs/events.md. */
ngx_int_t
ngx_http_mkt_spool_save(ngx_http_mkt_spool_file_t *f)
{
    u_char  header[MKT_SPOOL_HEADER_LEN];

    mkt_spool_header_format((char *) header, &f->header);

    return ngx_http_mkt_spool_write(f->fd, header, sizeof(header), 0);
}


ssize_t
ngx_http_mkt_spool_read(ngx_http_mkt_spool_file_t *f, u_char *buf,
    size_t size)
{
    ssize_t  n;

    size = ngx_min(size, (size_t) (f->size - f->pos));

    do {
        n = pread(f->fd, buf, size, f->pos);
    } while (n == -1 && ngx_errno == NGX_EINTR);

    return n;
}


/* A file replayed to its end: gone. */
void
ngx_http_mkt_spool_remove(ngx_http_mkt_spool_t *sp,
    ngx_http_mkt_spool_file_t *f)
{
    if (ngx_delete_file(f->path) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, ngx_errno,
                      ngx_delete_file_n " \"%s\" failed", f->path);
    }

    ngx_close_file(f->fd);
    ngx_queue_remove(&f->queue);

    if (sp->own == f) {
        sp->own = NULL;
    }

    ngx_free(f);
}


/* At worker exit: the buffer written, the files closed and left for the
 * next worker to claim. */
void
ngx_http_mkt_spool_close(ngx_http_mkt_spool_t *sp)
{
    ngx_queue_t                *q;
    ngx_http_mkt_spool_file_t  *f;

    (void) ngx_http_mkt_spool_flush(sp);

    while (!ngx_queue_empty(&sp->files)) {
        q = ngx_queue_head(&sp->files);
        ngx_queue_remove(q);
        f = ngx_queue_data(q, ngx_http_mkt_spool_file_t, queue);
        ngx_close_file(f->fd);
        ngx_free(f);
    }

    sp->own = NULL;
}


/*
 * Claims the spool files of processes that are gone: a worker that
 * exited (reload, crash) or an earlier nginx.  At the first scan, files
 * named with this worker's own pid are an earlier process's too.
 */
void
ngx_http_mkt_spool_scan(ngx_http_mkt_spool_t *sp, ngx_uint_t first)
{
    size_t                     len;
    uint64_t                   pid, seq;
    ngx_dir_t                  dir;
    ngx_uint_t                 i, n;
    ngx_http_mkt_spool_name_t  found[NGX_HTTP_MKT_SPOOL_CLAIMS];
    u_char                     name[MKT_SPOOL_NAME_MAX];

    sp->scanned = ngx_current_msec;

    /* sp->dir is NUL-terminated (ngx_http_mkt_events_spool) */
    if (ngx_open_dir(&sp->dir, &dir) == NGX_ERROR) {
        ngx_http_mkt_events_redis_log(NGX_LOG_ERR, ngx_errno,
                                      ngx_open_dir_n " \"%V\" failed",
                                      &sp->dir);
        return;
    }

    /* names first, claims after: a claim adds a name to the directory */
    n = 0;

    while (n < NGX_HTTP_MKT_SPOOL_CLAIMS) {
        ngx_set_errno(0);

        if (ngx_read_dir(&dir) == NGX_ERROR) {
            break;
        }

        len = ngx_de_namelen(&dir);

        if (mkt_spool_name_parse((char *) ngx_de_name(&dir), len, &pid, &seq)
            != 0)
        {
            continue;
        }

        if (pid == (uint64_t) ngx_pid ? !first
            : (pid <= (uint64_t) NGX_MAX_INT_T_VALUE
               && (kill((pid_t) pid, 0) == 0 || ngx_errno != NGX_ESRCH)))
        {
            continue;
        }

        found[n].pid = pid;
        found[n].seq = seq;
        n++;
    }

    (void) ngx_close_dir(&dir);

    /* a process's files in the order it wrote them */
    ngx_sort(found, n, sizeof(ngx_http_mkt_spool_name_t),
             ngx_http_mkt_spool_name_cmp);

    for (i = 0; i < n; i++) {
        len = mkt_spool_name_format((char *) name, found[i].pid,
                                    found[i].seq);
        (void) ngx_http_mkt_spool_claim(sp, name, len);
    }
}


static ngx_int_t
ngx_http_mkt_spool_name_cmp(const void *one, const void *two)
{
    const ngx_http_mkt_spool_name_t  *a = one, *b = two;

    if (a->pid != b->pid) {
        return a->pid < b->pid ? -1 : 1;
    }

    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }

    return 0;
}


/* Renames the file to this worker's name: of two workers claiming it,
 * one rename succeeds and the other finds it gone. */
static ngx_int_t
ngx_http_mkt_spool_claim(ngx_http_mkt_spool_t *sp, u_char *name, size_t len)
{
    u_char                     *p;
    size_t                      nlen;
    u_char                      from[NGX_MAX_PATH], to[NGX_MAX_PATH];
    u_char                      mine[MKT_SPOOL_NAME_MAX];
    ngx_http_mkt_spool_file_t  *f;

    if (sp->dir.len + 1 + ngx_max(len, MKT_SPOOL_NAME_MAX) >= NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(from, sp->dir.data, sp->dir.len);
    *p++ = '/';
    *ngx_cpymem(p, name, len) = '\0';

    /* never onto a file: rename() would replace it */
    nlen = ngx_http_mkt_spool_fresh(sp, mine, to);
    if (nlen == 0) {
        return NGX_ERROR;
    }

    if (ngx_rename_file(from, to) == NGX_FILE_ERROR) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_http_mkt_events_redis_log(NGX_LOG_ERR, ngx_errno,
                                          ngx_rename_file_n " \"%s\" to "
                                          "\"%s\" failed", from, to);
        }
        return NGX_ERROR;
    }

    f = ngx_http_mkt_spool_open(sp, mine, nlen, 0);
    if (f == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_events_spool_files_claimed);

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "mkt spool: claimed \"%s\" as \"%s\" for replay, %O bytes "
                  "from offset %O", from, to, f->size, f->pos);

    return NGX_OK;
}


/* At most one message every 10 seconds per worker: an outage must not
 * write a line per event. */
void
ngx_http_mkt_events_redis_log(ngx_uint_t level, ngx_err_t err,
    const char *fmt, ...)
{
    u_char             *p;
    va_list             args;
    static time_t       logged;
    static ngx_uint_t   suppressed;
    u_char              msg[NGX_MAX_ERROR_STR];

    if (ngx_time() - logged < NGX_HTTP_MKT_RSINK_LOG_EVERY) {
        suppressed++;
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg) - 1, fmt, args);
    va_end(args);

    ngx_log_error(level, ngx_cycle->log, err,
                  "mkt events redis: %*s (%ui similar messages suppressed)",
                  p - msg, msg, suppressed);

    logged = ngx_time();
    suppressed = 0;
}
