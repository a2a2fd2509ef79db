/* mkt: the command-line tool of ngx_mkt (DESIGN.md section 9).  Each command
 * is one entry of the table below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cookie.h"
#include "hmac.h"

#define MKT_CLI_VERSION  "0.1.0"

typedef struct {
    const char  *name;
    int        (*run)(int argc, char **argv);
    const char  *usage;
} mkt_cli_command_t;

static int cmd_cookie(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const mkt_cli_command_t  commands[] = {
    { "cookie", cmd_cookie,
      "cookie (--secret S | --secret-file F | --unsigned) [--now T] VALUE\n"
      "        decode and verify a visitor cookie value (exit 1 if bad)" },
    { "lint", mkt_cli_lint, MKT_CLI_LINT_USAGE },
    { "explain", mkt_cli_explain, MKT_CLI_EXPLAIN_USAGE },
    { "eval", mkt_cli_eval, MKT_CLI_EVAL_USAGE },
    { "report", mkt_cli_report, MKT_CLI_REPORT_USAGE },
    { "gen", mkt_cli_gen, MKT_CLI_GEN_USAGE },
    { "version", cmd_version, "version\n        print the version" },
    { "help", cmd_help, "help\n        this text" },
};

#define NCOMMANDS  (sizeof(commands) / sizeof(commands[0]))


static void
usage(FILE *f)
{
    size_t  i;

    fprintf(f, "usage: mkt COMMAND [ARGS]\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++) {
        fprintf(f, "  mkt %s\n", commands[i].usage);
    }
}


/* Reads a secret like nginx's mkt_secret_file: trailing whitespace dropped. */
static int
read_secret(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE    *f;
    size_t   n;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mkt: cannot open \"%s\": %s\n", path,
                strerror(errno));
        return -1;
    }

    n = fread(buf, 1, cap, f);
    fclose(f);

    if (n == cap) {
        fprintf(stderr, "mkt: secret file \"%s\" is too large\n", path);
        return -1;
    }

    while (n > 0 && strchr("\r\n\t ", buf[n - 1]) != NULL) {
        n--;
    }

    *len = n;
    return 0;
}


static int
cmd_cookie(int argc, char **argv)
{
    int                   i, unsigned_ok;
    char                  secret[4097];
    size_t                slen;
    int64_t               now;
    mkt_hmac_t           *h;
    const char           *value;
    mkt_visitor_t         v;
    mkt_cookie_status_e   rc;

    slen = 0;
    unsigned_ok = 0;
    value = NULL;
    now = (int64_t) time(NULL);

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc) {
            slen = strlen(argv[++i]);
            if (slen >= sizeof(secret)) {
                fprintf(stderr, "mkt: secret too long\n");
                return 2;
            }
            memcpy(secret, argv[i], slen);

        } else if (strcmp(argv[i], "--secret-file") == 0 && i + 1 < argc) {
            if (read_secret(argv[++i], secret, sizeof(secret), &slen) != 0) {
                return 2;
            }

        } else if (strcmp(argv[i], "--unsigned") == 0) {
            unsigned_ok = 1;

        } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            now = strtoll(argv[++i], NULL, 10);

        } else if (value == NULL && argv[i][0] != '-') {
            value = argv[i];

        } else {
            usage(stderr);
            return 2;
        }
    }

    if (value == NULL || (slen == 0 && !unsigned_ok)) {
        usage(stderr);
        return 2;
    }

    h = NULL;
    if (slen > 0) {
        h = mkt_hmac_create(secret, slen);
        if (h == NULL) {
            fprintf(stderr, "mkt: cannot create the HMAC key\n");
            return 2;
        }
    }

    rc = mkt_vcookie_decode(h, value, strlen(value), now, &v);
    mkt_hmac_destroy(h);

    if (rc != MKT_COOKIE_OK) {
        printf("{\"valid\":false,\"error\":\"%s\"}\n",
               mkt_cookie_status_name(rc));
        return 1;
    }

    printf("{\"valid\":true,\"vid\":\"%.*s\",\"issued\":%lld}\n",
           MKT_VID_LEN, v.vid, (long long) v.issued);
    return 0;
}


static int
cmd_version(int argc, char **argv)
{
    printf("mkt %s\n", MKT_CLI_VERSION);
    return 0;
}


static int
cmd_help(int argc, char **argv)
{
    usage(stdout);
    return 0;
}


int
main(int argc, char **argv)
{
    size_t  i;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }

    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 2, argv + 2);
        }
    }

    fprintf(stderr, "mkt: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
