/*
 * config — application.yml, then the environment, then defaults and checks (see config.h).
 *
 * Three steps, each small:
 *
 * 1. yaml_read() walks libyaml's event stream and flattens the nested mappings into a list
 *    of dotted keys with their scalar text and line ("oa.wx.app-id" = "wx..." at line 7).
 *    Sequences and aliases are recorded as "not a single value"; whatever lies inside a
 *    sequence is skipped. Only the first YAML document is allowed.
 *
 * 2. check_file_keys() refuses a key under `server` or `oa` that is not in KEYS (a typo
 *    must not pass silently) and a key given twice. Keys are compared the way Spring
 *    compares them: per dotted segment, case-insensitive, with '-' and '_' ignored, so
 *    `msgDataFormat`, `msg-data-format` and `app_secret` all find their entry.
 *
 * 3. For each entry of KEYS, in table order, the text is taken from the environment (two
 *    spellings, see env_name), else the file, else the default; then one kind-specific
 *    function converts and checks it into config_t. The first failure becomes the one-line
 *    error: "<key>: <what is wrong> (<where the value came from>)". The value itself is
 *    quoted only for keys that are not secret.
 *
 * Everything the file contributed is wiped before it is freed (it may hold secrets).
 * getenv() is used, so config_load belongs at start-up, before threads start.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "common/log.h"
#include "common/text.h"
#include "crypto/crypto.h"
#include "redis/redis_url.h"

/* ---- the keys ------------------------------------------------------------------------ */

typedef enum key_kind {
    KIND_STRING,     /* non-empty text without control characters */
    KIND_INT,        /* whole number in [min, max], stored in an int */
    KIND_SIZE,       /* whole number in [min, max], stored in a size_t */
    KIND_LEVEL,      /* error | warn | info | debug */
    KIND_FORMAT,     /* JSON | XML */
    KIND_URL,        /* http:// or https:// base, trailing '/' removed */
    KIND_FILE,       /* readable file path; empty = none */
    KIND_HEADER,     /* HTTP header field name (RFC 9110 token) */
    KIND_KEY32,      /* base64 of exactly 32 bytes, into data_key */
    KIND_KEY32_LIST, /* comma-separated KIND_KEY32 values, into a config_key_list_t */
    KIND_BOOL,       /* true | false, into a bool */
    KIND_TOKEN_API,  /* stable | token */
    KIND_TIME_ZONE,  /* an IANA zone name with a tzdata file (Asia/Shanghai), or UTC */
    KIND_PROXIES,    /* comma-separated IP addresses and CIDR ranges, into an ip_ranges_t */
} key_kind_t;

#define KEY_REQUIRED 1u
#define KEY_SECRET   2u

typedef struct key_def {
    const char *name;  /* as written in errors and in the README */
    const char *words; /* the name with its words split by '-', for the environment (NULL = name) */
    const char *alias; /* another spelling read when the name is absent (Spring's logging.level.root) */
    key_kind_t kind;
    unsigned flags;
    long long min, max; /* KIND_INT, KIND_SIZE */
    const char *def;    /* NULL = no default */
    size_t offset;      /* field in config_t */
} key_def_t;

#define F(field) offsetof(config_t, field)

static const key_def_t KEYS[] = {
    {"server.host", NULL, NULL, KIND_STRING, 0, 0, 0, "127.0.0.1", F(host)},
    {"server.port", NULL, NULL, KIND_INT, 0, 0, 65535, "8080", F(port)},
    {"server.threads", NULL, NULL, KIND_INT, 0, 0, 256, "0", F(threads)},
    {"server.trusted-proxies", NULL, NULL, KIND_PROXIES, 0, 0, 0, NULL, F(trusted_proxies)},
    {"server.max-body-bytes", NULL, NULL, KIND_SIZE, 0, 1024, 67108864, "65536", F(max_body_bytes)},
    {"server.max-connections", NULL, NULL, KIND_INT, 0, 1, 1000000, "10000", F(max_connections)},
    {"server.request-timeout-ms", NULL, NULL, KIND_INT, 0, 100, 600000, "10000", F(request_timeout_ms)},
    {"server.idle-timeout-ms", NULL, NULL, KIND_INT, 0, 100, 3600000, "30000", F(idle_timeout_ms)},
    {"management.server.port", NULL, NULL, KIND_INT, 0, -1, 65535, "-1", F(management_port)},
    {"management.server.address", NULL, NULL, KIND_STRING, 0, 0, 0, "127.0.0.1", F(management_address)},
    {"logging.level", NULL, "logging.level.root", KIND_LEVEL, 0, 0, 0, "info", F(log_level)},
    {"logging.file.name", NULL, "logging.file", KIND_STRING, 0, 0, 0, NULL, F(log_file)},
    {"logging.format", NULL, NULL, KIND_STRING, 0, 0, 0, "text", F(log_format)},
    {"oa.wx.app-id", NULL, NULL, KIND_STRING, KEY_REQUIRED, 0, 0, NULL, F(wx_app_id)},
    {"oa.wx.app-secret", NULL, NULL, KIND_STRING, KEY_REQUIRED | KEY_SECRET, 0, 0, NULL, F(wx_app_secret)},
    {"oa.wx.msgDataFormat", "oa.wx.msg-data-format", NULL, KIND_FORMAT, 0, 0, 0, "JSON", F(wx_msg_data_format)},
    {"oa.wx.api-base", NULL, NULL, KIND_URL, 0, 0, 0, "https://api.weixin.qq.com", F(wx_api_base)},
    {"oa.wx.timeout-ms", NULL, NULL, KIND_INT, 0, 100, 120000, "5000", F(wx_timeout_ms)},
    {"oa.wx.ca-file", NULL, NULL, KIND_FILE, 0, 0, 0, NULL, F(wx_ca_file)},
    {"oa.token.header", NULL, NULL, KIND_HEADER, 0, 0, 0, "X-OA-Token", F(token_header)},
    {"oa.token.expire-seconds", NULL, NULL, KIND_INT, 0, 1, 31536000, "7200", F(token_expire_seconds)},
    {"oa.token.cache-seconds", NULL, NULL, KIND_INT, 0, 0, 3600, "5", F(token_cache_seconds)},
    /* -1: a quarter of oa.token.expire-seconds (check_relations) */
    {"oa.token.renew-threshold-seconds", NULL, NULL, KIND_INT, 0, -1, 15768000, "-1", F(token_renew_threshold_seconds)},
    {"oa.auth.login-log-days", NULL, NULL, KIND_INT, 0, 1, 36500, "180", F(login_log_days)},
    {"oa.datasource.url", NULL, NULL, KIND_STRING, KEY_SECRET, 0, 0, "sqlite:data/meetoa.db", F(datasource_url)},
    {"oa.datasource.pool-size", NULL, NULL, KIND_INT, 0, 1, 64, "4", F(db_pool_size)},
    {"oa.security.data-key", NULL, NULL, KIND_KEY32, KEY_REQUIRED | KEY_SECRET, 0, 0, NULL, F(data_key)},
    {"oa.security.previous-data-keys", NULL, NULL, KIND_KEY32_LIST, KEY_SECRET, 0, 0, NULL, F(previous_data_keys)},
    {"oa.wx.token-api", NULL, NULL, KIND_TOKEN_API, 0, 0, 0, "stable", F(wx_token_api)},
    {"oa.time-zone", NULL, NULL, KIND_TIME_ZONE, 0, 0, 0, "Asia/Shanghai", F(time_zone)},
    {"oa.wx.push.token", NULL, NULL, KIND_STRING, KEY_SECRET, 0, 0, NULL, F(push_token)},
    {"oa.wx.push.aes-key", NULL, NULL, KIND_STRING, KEY_SECRET, 0, 0, NULL, F(push_aes_key)},
    {"oa.wx.push.previous-aes-key", NULL, NULL, KIND_STRING, KEY_SECRET, 0, 0, NULL, F(push_previous_aes_key)},
    {"oa.minutes.max-attachment-bytes", NULL, NULL, KIND_SIZE, 0, 1024, 67108864, "10485760",
     F(minutes_max_attachment_bytes)},
    {"oa.minutes.max-attachments", NULL, NULL, KIND_INT, 0, 1, 1000, "20", F(minutes_max_attachments)},
    {"oa.meeting.list-cache-bytes", NULL, NULL, KIND_SIZE, 0, 0, 4294967296, "67108864", F(meeting_list_cache_bytes)},
    {"oa.wx.content-check", NULL, NULL, KIND_BOOL, 0, 0, 0, "false", F(content_check)},
    {"oa.subscribe.invitation.template-id", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_template[1])},
    {"oa.subscribe.invitation.data", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_data[1])},
    {"oa.subscribe.approval.template-id", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_template[2])},
    {"oa.subscribe.approval.data", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_data[2])},
    {"oa.subscribe.starting.template-id", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_template[3])},
    {"oa.subscribe.starting.data", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_data[3])},
    {"oa.subscribe.changed.template-id", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_template[4])},
    {"oa.subscribe.changed.data", NULL, NULL, KIND_STRING, 0, 0, 0, NULL, F(subscribe_data[4])},
    {"oa.subscribe.page", NULL, NULL, KIND_STRING, 0, 0, 0, "pages/meeting/detail/detail", F(subscribe_page)},
    {"oa.subscribe.miniprogram-state", NULL, NULL, KIND_STRING, 0, 0, 0, "formal", F(subscribe_state)},
    {"oa.subscribe.lang", NULL, NULL, KIND_STRING, 0, 0, 0, "zh_CN", F(subscribe_lang)},
    {"oa.subscribe.poll-ms", NULL, NULL, KIND_INT, 0, 100, 600000, "1000", F(subscribe_poll_ms)},
    {"oa.checkin.open-minutes", NULL, NULL, KIND_INT, 0, 0, 1440, "30", F(checkin_open_minutes)},
    {"oa.checkin.rotate-seconds", NULL, NULL, KIND_INT, 0, 10, 3600, "30", F(checkin_rotate_seconds)},
    {"oa.checkin.overlap-seconds", NULL, NULL, KIND_INT, 0, 0, 3600, "10", F(checkin_overlap_seconds)},
    {"oa.checkin.page", NULL, NULL, KIND_STRING, 0, 0, 0, "pages/checkin/index", F(checkin_page)},
    {"oa.checkin.env-version", NULL, NULL, KIND_STRING, 0, 0, 0, "release", F(checkin_env_version)},
    {"oa.checkin.check-path", NULL, NULL, KIND_BOOL, 0, 0, 0, "true", F(checkin_check_path)},
    {"oa.phone.allow-shared", NULL, NULL, KIND_BOOL, 0, 0, 0, "false", F(phone_allow_shared)},
    {"oa.storage.dir", NULL, NULL, KIND_STRING, 0, 0, 0, "data/uploads", F(storage_dir)},
    {"oa.storage.max-bytes", NULL, NULL, KIND_SIZE, 0, 1024, 67108864, "2097152", F(storage_max_bytes)},
    {"oa.storage.base-url", NULL, NULL, KIND_URL, 0, 0, 0, NULL, F(storage_base_url)},
    {"oa.rate-limit.login-ip", NULL, NULL, KIND_INT, 0, 0, 1000000, "600", F(rate_login_ip)},
    {"oa.rate-limit.login-openid", NULL, NULL, KIND_INT, 0, 0, 1000000, "20", F(rate_login_openid)},
    {"oa.rate-limit.phone-ip", NULL, NULL, KIND_INT, 0, 0, 1000000, "120", F(rate_phone_ip)},
    {"oa.rate-limit.phone-openid", NULL, NULL, KIND_INT, 0, 0, 1000000, "10", F(rate_phone_openid)},
    {"oa.rate-limit.upload-ip", NULL, NULL, KIND_INT, 0, 0, 1000000, "120", F(rate_upload_ip)},
    {"oa.rate-limit.upload-openid", NULL, NULL, KIND_INT, 0, 0, 1000000, "20", F(rate_upload_openid)},
    {"oa.redis.url", NULL, NULL, KIND_STRING, KEY_SECRET, 0, 0, NULL, F(redis_url)},
    {"oa.redis.timeout-ms", NULL, NULL, KIND_INT, 0, 10, 10000, "250", F(redis_timeout_ms)},
};
#define KEY_COUNT (sizeof(KEYS) / sizeof(KEYS[0]))

/* ---- errors ---------------------------------------------------------------------------- */

static void set_err(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t size, const char *fmt, ...)
{
    if (err == NULL || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++) /* one line, whatever a file name or YAML message holds */
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

/* A short, printable rendering of a non-secret value for an error line. */
static void show_value(const char *value, char *out, size_t size)
{
    size_t i = 0, max = size - 1;
    bool cut = strlen(value) > max;
    if (cut)
        max -= 3;
    for (; i < max && value[i]; i++)
        out[i] = (unsigned char)value[i] < 0x20 || value[i] == '"' ? '?' : value[i];
    if (cut) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* ---- the file: a flat list of dotted keys ----------------------------------------------- */

typedef struct entry {
    char *key;   /* dotted, as spelled in the file */
    char *norm;  /* compared form, see norm_key */
    char *value; /* NULL when not a single value (a sequence or an alias) */
    int line;
    bool null; /* plain empty, ~ or null: as if absent */
} entry_t;

typedef struct doc {
    entry_t *v;
    size_t n, cap;
} doc_t;

/* Spring's comparison form: per segment lowercase, '-' and '_' dropped; '.' kept. */
static char *norm_key(const char *key)
{
    char *out = malloc(strlen(key) + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = key; *p; p++)
        if (*p != '-' && *p != '_')
            *o++ = (char)tolower((unsigned char)*p);
    *o = '\0';
    return out;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void doc_free(doc_t *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        free(doc->v[i].key);
        free(doc->v[i].norm);
        wipe_free(doc->v[i].value);
    }
    free(doc->v);
    memset(doc, 0, sizeof(*doc));
}

static bool doc_add(doc_t *doc, const char *key, const char *value, int line, bool null)
{
    if (doc->n == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 32;
        entry_t *v = realloc(doc->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        doc->v = v;
        doc->cap = cap;
    }
    entry_t *e = &doc->v[doc->n];
    *e = (entry_t){
        .key = strdup(key), .norm = norm_key(key), .value = value ? strdup(value) : NULL, .line = line, .null = null};
    doc->n++; /* counted even when half-built, so doc_free releases it */
    return e->key && e->norm && (value == NULL || e->value);
}

static const entry_t *doc_find(const doc_t *doc, const char *norm)
{
    for (size_t i = 0; i < doc->n; i++)
        if (strcmp(doc->v[i].norm, norm) == 0)
            return &doc->v[i];
    return NULL;
}

/* The event walker's state: where we are in the nesting, and the dotted path so far. */
#define YAML_MAX_DEPTH 32
#define YAML_MAX_KEY   256

typedef struct frame {
    size_t base;     /* length of the path of this mapping */
    bool want_value; /* a key was read, its value comes next */
    int key_line;
} frame_t;

typedef struct walker {
    doc_t *doc;
    const char *path;
    char *err;
    size_t err_size;
    frame_t frames[YAML_MAX_DEPTH];
    int depth; /* mapping frames open */
    int skip;  /* > 0 inside a sequence: everything is skipped */
    int documents;
    char key[YAML_MAX_KEY];
    size_t key_len;
} walker_t;

static bool plain_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
            strcmp(v, "NULL") == 0);
}

static bool walk_fail(walker_t *w, const yaml_event_t *ev, const char *what)
{
    set_err(w->err, w->err_size, "%s: line %zu: %s", w->path, ev->start_mark.line + 1, what);
    return false;
}

/* A scalar: the key of the current mapping, or its value (then it is recorded). */
static bool walk_scalar(walker_t *w, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    if (w->depth == 0)
        return plain_null(ev) ? true : walk_fail(w, ev, "the top level must be a mapping of keys");
    frame_t *f = &w->frames[w->depth - 1];
    if (memchr(text, '\0', ev->data.scalar.length) != NULL)
        return walk_fail(w, ev, "NUL character in a key or value");
    if (!f->want_value) {
        size_t len = ev->data.scalar.length;
        if (f->base + 1 + len >= sizeof(w->key))
            return walk_fail(w, ev, "key too long");
        w->key_len = f->base;
        if (f->base > 0)
            w->key[w->key_len++] = '.';
        memcpy(w->key + w->key_len, text, len);
        w->key_len += len;
        w->key[w->key_len] = '\0';
        f->want_value = true;
        f->key_line = (int)ev->start_mark.line + 1;
        return true;
    }
    f->want_value = false;
    w->key[w->key_len] = '\0';
    if (!doc_add(w->doc, w->key, text, f->key_line, plain_null(ev)))
        return walk_fail(w, ev, "out of memory");
    return true;
}

static bool walk_mapping_start(walker_t *w, const yaml_event_t *ev)
{
    if (w->depth > 0 && !w->frames[w->depth - 1].want_value)
        return walk_fail(w, ev, "a mapping used as a key is not supported");
    if (w->depth == YAML_MAX_DEPTH)
        return walk_fail(w, ev, "nested too deeply");
    w->frames[w->depth].base = w->depth > 0 ? w->key_len : 0;
    w->frames[w->depth].want_value = false;
    w->depth++;
    return true;
}

static void walk_mapping_end(walker_t *w)
{
    w->depth--;
    if (w->depth > 0) {
        w->frames[w->depth - 1].want_value = false;
        w->key_len = w->frames[w->depth - 1].base; /* back to the parent's path */
    }
}

/* A sequence or an alias where a value belongs: recorded as "not a single value". */
static bool walk_not_single(walker_t *w, const yaml_event_t *ev)
{
    if (w->depth == 0)
        return walk_fail(w, ev, "the top level must be a mapping of keys");
    frame_t *f = &w->frames[w->depth - 1];
    if (!f->want_value)
        return walk_fail(w, ev, "only plain keys are supported");
    f->want_value = false;
    w->key[w->key_len] = '\0';
    if (!doc_add(w->doc, w->key, NULL, f->key_line, false))
        return walk_fail(w, ev, "out of memory");
    return true;
}

static bool walk_event(walker_t *w, const yaml_event_t *ev)
{
    if (w->skip > 0) {
        if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT)
            w->skip++;
        else if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT)
            w->skip--;
        return true;
    }
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++w->documents > 1)
            return walk_fail(w, ev, "only one YAML document is supported");
        return true;
    case YAML_SCALAR_EVENT:
        return walk_scalar(w, ev);
    case YAML_MAPPING_START_EVENT:
        return walk_mapping_start(w, ev);
    case YAML_MAPPING_END_EVENT:
        walk_mapping_end(w);
        return true;
    case YAML_SEQUENCE_START_EVENT:
        if (!walk_not_single(w, ev))
            return false;
        w->skip = 1;
        return true;
    case YAML_ALIAS_EVENT:
        return walk_not_single(w, ev);
    default:
        return true;
    }
}

/* Reads path into doc. On failure writes the error ("<path>: line N: ...") and returns false. */
static bool yaml_read(const char *path, doc_t *doc, char *err, size_t err_size)
{
    bool ok = false, done = false;
    yaml_parser_t parser;
    walker_t w = {.doc = doc, .path = path, .err = err, .err_size = err_size};
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, err_size, "%s: not a regular file", path);
        fclose(f);
        return false;
    }
    if (!yaml_parser_initialize(&parser)) {
        set_err(err, err_size, "%s: out of memory", path);
        fclose(f);
        return false;
    }
    yaml_parser_set_input_file(&parser, f);
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            set_err(err, err_size, "%s: line %zu: %s%s%s", path, parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                    parser.context ? parser.context : "");
            goto done;
        }
        bool step = walk_event(&w, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (!step)
            goto done;
    }
    ok = true;
done:
    yaml_parser_delete(&parser);
    fclose(f);
    return ok;
}

/* ---- file keys: unknown and repeated ---------------------------------------------------- */

static bool in_our_sections(const char *norm)
{
    return strncmp(norm, "server.", 7) == 0 || strncmp(norm, "oa.", 3) == 0 || strcmp(norm, "server") == 0 ||
           strcmp(norm, "oa") == 0;
}

/* True when norm is the compared form of a key of KEYS; *prefix set when it is the start of one. */
static bool known_key(const char *norm, bool *prefix)
{
    size_t len = strlen(norm);
    *prefix = false;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        char *k = norm_key(KEYS[i].name);
        if (k == NULL)
            return false;
        bool same = strcmp(k, norm) == 0;
        if (strncmp(k, norm, len) == 0 && k[len] == '.')
            *prefix = true;
        free(k);
        if (same)
            return true;
    }
    return false;
}

static bool check_file_keys(const doc_t *doc, const char *path, char *err, size_t err_size)
{
    for (size_t i = 0; i < doc->n; i++) {
        const entry_t *e = &doc->v[i];
        bool prefix = false, known = known_key(e->norm, &prefix);
        if (!known && in_our_sections(e->norm) && !(prefix && e->null)) {
            set_err(err, err_size, "%s: unknown key (%s line %d)", e->key, path, e->line);
            return false;
        }
        const entry_t *first = doc_find(doc, e->norm);
        if (known && first != e) {
            set_err(err, err_size, "%s: given twice (%s lines %d and %d)", e->key, path, first->line, e->line);
            return false;
        }
    }
    return true;
}

/* ---- resolving one key: environment, file, default -------------------------------------- */

typedef struct source {
    const char *value; /* NULL = not given anywhere */
    char where[300];   /* "environment OA_WX_APP_SECRET", "conf.yml line 4", "default" */
} source_t;

/* Spring's environment name of words: upper case, '.' -> '_', '-' removed or (dash_as_underscore) '_'. */
static void env_name(const char *words, bool dash_as_underscore, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = words; *p && o + 1 < size; p++) {
        if (*p == '-' && !dash_as_underscore)
            continue;
        out[o++] = *p == '.' || *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    }
    out[o] = '\0';
}

/* Looks words up in the environment under both spellings. Returns false on a conflict. */
static bool env_lookup(const key_def_t *k, const char *words, source_t *src, char *err, size_t err_size)
{
    char a[128], b[128];
    env_name(words, false, a, sizeof(a));
    env_name(words, true, b, sizeof(b));
    const char *va = getenv(a), *vb = strcmp(a, b) == 0 ? NULL : getenv(b);
    if (va && vb && strcmp(va, vb) != 0) {
        set_err(err, err_size, "%s: %s and %s are both set and differ", k->name, a, b);
        return false;
    }
    if (va || vb) {
        src->value = va ? va : vb;
        snprintf(src->where, sizeof(src->where), "environment %s", va ? a : b);
    }
    return true;
}

static bool file_lookup(const key_def_t *k, const char *name, const doc_t *doc, const char *path, source_t *src,
                        char *err, size_t err_size)
{
    char *norm = norm_key(name);
    if (norm == NULL) {
        set_err(err, err_size, "%s: out of memory", k->name);
        return false;
    }
    const entry_t *e = doc_find(doc, norm);
    free(norm);
    if (e == NULL || e->null)
        return true;
    if (e->value == NULL) {
        set_err(err, err_size, "%s: must be a single value, not a list or an alias (%s line %d)", k->name, path,
                e->line);
        return false;
    }
    src->value = e->value;
    snprintf(src->where, sizeof(src->where), "%s line %d", path, e->line);
    return true;
}

static bool resolve(const key_def_t *k, const doc_t *doc, const char *path, source_t *src, char *err, size_t err_size)
{
    src->value = NULL;
    if (!env_lookup(k, k->words ? k->words : k->name, src, err, err_size))
        return false;
    if (src->value == NULL && k->alias && !env_lookup(k, k->alias, src, err, err_size))
        return false;
    if (src->value == NULL && !file_lookup(k, k->name, doc, path, src, err, err_size))
        return false;
    if (src->value == NULL && k->alias && !file_lookup(k, k->alias, doc, path, src, err, err_size))
        return false;
    if (src->value == NULL && k->def) {
        src->value = k->def;
        snprintf(src->where, sizeof(src->where), "default");
    }
    return true;
}

/* ---- converting and checking one value -------------------------------------------------- */

/* Whole decimal number, optional '-', no spaces or other characters. */
static bool parse_whole(const char *s, long long *out)
{
    const char *p = s;
    bool neg = *p == '-';
    long long v = 0;
    if (neg)
        p++;
    if (*p == '\0' || strlen(p) > 15)
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static bool valid_text(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static bool valid_header_name(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t len = strlen(s);
    if (len == 0 || len > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
            return false;
    return true;
}

/* Stores a copy of text into the char * field of cfg. */
static bool store_string(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    char *copy = strdup(text);
    if (copy == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    *(char **)((char *)cfg + k->offset) = copy;
    return true;
}

static bool apply_number(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    long long v = 0;
    if (!parse_whole(text, &v) || v < k->min || v > k->max) {
        snprintf(why, why_size, "must be a whole number from %lld to %lld", k->min, k->max);
        return false;
    }
    if (k->kind == KIND_INT)
        *(int *)((char *)cfg + k->offset) = (int)v;
    else
        *(size_t *)((char *)cfg + k->offset) = (size_t)v;
    return true;
}

static bool apply_url(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    size_t len = strlen(text), scheme = strncmp(text, "https://", 8) == 0  ? 8
                                        : strncmp(text, "http://", 7) == 0 ? 7
                                                                           : 0;
    while (len > scheme && text[len - 1] == '/')
        len--;
    bool spaces = strpbrk(text, " \t") != NULL;
    if (scheme == 0 || len == scheme || spaces || !valid_text(text)) {
        snprintf(why, why_size, "must be an http:// or https:// URL");
        return false;
    }
    char *copy = strndup(text, len);
    if (copy == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    *(char **)((char *)cfg + k->offset) = copy;
    return true;
}

static bool apply_file(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    if (*text == '\0')
        return true; /* empty: the system CA store */
    if (access(text, R_OK) != 0) {
        snprintf(why, why_size, "cannot read the file: %s", strerror(errno));
        return false;
    }
    return store_string(cfg, k, text, why, why_size);
}

static bool apply_key32(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    uint8_t key[33];
    long n = crypto_b64_decode(text, strlen(text), key, sizeof(key));
    bool ok = n == 32;
    if (ok)
        memcpy((char *)cfg + k->offset, key, 32);
    else
        snprintf(why, why_size, "must be the base64 of 32 bytes (e.g. openssl rand -base64 32)");
    explicit_bzero(key, sizeof(key));
    return ok;
}

/* Decodes entry n (text p[0..len)) of oa.security.previous-data-keys into key[0..32). False,
 * and why, when it is not a key, is data-key itself, or repeats an earlier entry of list. */
static bool key_list_entry(const config_t *cfg, const config_key_list_t *list, int n, const char *p, size_t len,
                           uint8_t key[33], char *why, size_t why_size)
{
    if (n > CONFIG_PREVIOUS_DATA_KEYS_MAX) {
        snprintf(why, why_size, "at most %d keys", CONFIG_PREVIOUS_DATA_KEYS_MAX);
        return false;
    }
    if (crypto_b64_decode(p, len, key, 33) != 32) {
        snprintf(why, why_size, "entry %d must be the base64 of 32 bytes (e.g. openssl rand -base64 32)", n);
        return false;
    }
    if (crypto_equal(key, cfg->data_key, 32)) {
        snprintf(why, why_size, "entry %d is oa.security.data-key itself", n);
        return false;
    }
    for (int i = 0; i < list->count; i++) {
        if (crypto_equal(key, list->key[i], 32)) {
            snprintf(why, why_size, "entry %d repeats entry %d", n, i + 1);
            return false;
        }
    }
    return true;
}

/*
 * oa.security.previous-data-keys: base64 32-byte keys separated by commas (spaces around
 * them ignored), into a config_key_list_t; an empty or blank text is no key (the operator's
 * last step of a rotation). data-key is loaded before (the order of KEYS). Errors say which
 * entry, never its text.
 */
static bool apply_key32_list(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    config_key_list_t *list = (config_key_list_t *)((char *)cfg + k->offset);
    size_t len = strlen(text), pos = 0, entry_len;
    const char *entry;
    if (text_blank(text, len))
        return true;
    for (int n = 1; text_list_next(text, len, &pos, &entry, &entry_len); n++) {
        uint8_t key[33];
        bool ok = key_list_entry(cfg, list, n, entry, entry_len, key, why, why_size);
        if (ok)
            memcpy(list->key[list->count++], key, 32);
        explicit_bzero(key, sizeof(key));
        if (!ok) {
            explicit_bzero(list, sizeof(*list));
            return false;
        }
    }
    return true;
}

static bool apply_value(config_t *cfg, const key_def_t *k, const char *text, char *why, size_t why_size)
{
    switch (k->kind) {
    case KIND_INT:
    case KIND_SIZE:
        return apply_number(cfg, k, text, why, why_size);
    case KIND_LEVEL: {
        int level = log_level_parse(text);
        if (level < 0) {
            snprintf(why, why_size, "must be one of error, warn, info, debug");
            return false;
        }
        static const char *const names[] = {"error", "warn", "info", "debug"};
        return store_string(cfg, k, names[level], why, why_size);
    }
    case KIND_FORMAT:
        if (strcasecmp(text, "JSON") != 0 && strcasecmp(text, "XML") != 0) {
            snprintf(why, why_size, "must be JSON or XML");
            return false;
        }
        return store_string(cfg, k, strcasecmp(text, "JSON") == 0 ? "JSON" : "XML", why, why_size);
    case KIND_URL:
        return apply_url(cfg, k, text, why, why_size);
    case KIND_FILE:
        return apply_file(cfg, k, text, why, why_size);
    case KIND_HEADER:
        if (!valid_header_name(text)) {
            snprintf(why, why_size, "must be an HTTP header name (letters, digits, and !#$%%&'*+-.^_`|~)");
            return false;
        }
        return store_string(cfg, k, text, why, why_size);
    case KIND_KEY32:
        return apply_key32(cfg, k, text, why, why_size);
    case KIND_KEY32_LIST:
        return apply_key32_list(cfg, k, text, why, why_size);
    case KIND_BOOL:
        if (strcasecmp(text, "true") != 0 && strcasecmp(text, "false") != 0) {
            snprintf(why, why_size, "must be true or false");
            return false;
        }
        *(bool *)((char *)cfg + k->offset) = strcasecmp(text, "true") == 0;
        return true;
    case KIND_TOKEN_API:
        if (strcmp(text, "stable") != 0 && strcmp(text, "token") != 0) {
            snprintf(why, why_size, "must be stable (POST /cgi-bin/stable_token) or token (GET /cgi-bin/token)");
            return false;
        }
        return store_string(cfg, k, text, why, why_size);
    case KIND_TIME_ZONE: {
        char file[256];
        bool plain = text[0] != '\0' && text[0] != '/' && strstr(text, "..") == NULL && strlen(text) < 128;
        for (const char *c = text; plain && *c; c++)
            plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '/' ||
                    *c == '_' || *c == '-' || *c == '+';
        snprintf(file, sizeof file, "/usr/share/zoneinfo/%s", plain ? text : "");
        if (!plain || (strcmp(text, "UTC") != 0 && access(file, R_OK) != 0)) {
            snprintf(why, why_size,
                     "must be a time zone name of the tz database (Asia/Shanghai, UTC) with its file "
                     "under /usr/share/zoneinfo (package tzdata)");
            return false;
        }
        return store_string(cfg, k, text, why, why_size);
    }
    case KIND_PROXIES:
        return ip_ranges_parse(text, (ip_ranges_t *)((char *)cfg + k->offset), why, why_size);
    case KIND_STRING:
        if (!valid_text(text)) {
            snprintf(why, why_size, "must not be empty or hold control characters");
            return false;
        }
        return store_string(cfg, k, text, why, why_size);
    }
    return false;
}

/* Resolves and applies one key; on failure writes the one-line error. */
static bool load_key(config_t *cfg, const key_def_t *k, const doc_t *doc, const char *path, char *err, size_t err_size)
{
    source_t src;
    char why[160];
    if (!resolve(k, doc, path, &src, err, err_size))
        return false;
    if (src.value == NULL) {
        if (!(k->flags & KEY_REQUIRED))
            return true;
        char a[128], b[128];
        env_name(k->words ? k->words : k->name, true, a, sizeof(a));
        env_name(k->words ? k->words : k->name, false, b, sizeof(b));
        set_err(err, err_size, "%s: required (set it in the file or in the environment as %s or %s)", k->name, a, b);
        return false;
    }
    if (strstr(src.value, "${") != NULL) {
        set_err(err, err_size, "%s: ${...} placeholders are not supported; set the environment variable instead (%s)",
                k->name, src.where);
        return false;
    }
    if (apply_value(cfg, k, src.value, why, sizeof(why)))
        return true;
    if (k->flags & KEY_SECRET) {
        set_err(err, err_size, "%s: %s (%s)", k->name, why, src.where);
    } else {
        char shown[48];
        show_value(src.value, shown, sizeof(shown));
        set_err(err, err_size, "%s: %s, got \"%s\" (%s)", k->name, why, shown, src.where);
    }
    return false;
}

/* ---- public ----------------------------------------------------------------------------- */

/* An EncodingAESKey: 43 characters of [A-Za-z0-9] (NULL: not set). */
static bool aes_key_shape(const char *key)
{
    if (key == NULL)
        return true;
    size_t n = 0;
    for (; key[n]; n++)
        if (!((key[n] >= 'A' && key[n] <= 'Z') || (key[n] >= 'a' && key[n] <= 'z') || (key[n] >= '0' && key[n] <= '9')))
            return false;
    return n == 43;
}

/* Rules between keys, and of values whose kind is plain text. */
static bool check_relations(config_t *cfg, char *err, size_t err_size)
{
    int format = log_format_parse(cfg->log_format);
    if (format < 0) {
        char shown[48];
        show_value(cfg->log_format, shown, sizeof(shown));
        set_err(err, err_size, "logging.format: must be text or json, got \"%s\"", shown);
        return false;
    }
    strcpy(cfg->log_format, format == LOG_FORMAT_JSON ? "json" : "text"); /* as long as the text it replaces */
    if (cfg->redis_url != NULL) {
        redis_url_t url;
        char why[160];
        bool ok = redis_url_parse(cfg->redis_url, &url, why, sizeof why);
        redis_url_wipe(&url);
        if (!ok) { /* why never repeats the password */
            set_err(err, err_size, "oa.redis.url: %s", why);
            return false;
        }
    }
    if (cfg->token_renew_threshold_seconds < 0)
        cfg->token_renew_threshold_seconds = cfg->token_expire_seconds / 4;
    else if (cfg->token_renew_threshold_seconds > cfg->token_expire_seconds / 2) {
        /* a fresh token would be renewed at once, and its successor too: tokens would change all the time */
        set_err(err, err_size, "oa.token.renew-threshold-seconds: at most half of oa.token.expire-seconds (%d)",
                cfg->token_expire_seconds / 2);
        return false;
    }
    if (!aes_key_shape(cfg->push_aes_key) || !aes_key_shape(cfg->push_previous_aes_key)) {
        set_err(err, err_size, "oa.wx.push.%s: an EncodingAESKey is 43 letters and digits",
                aes_key_shape(cfg->push_aes_key) ? "previous-aes-key" : "aes-key");
        return false;
    }
    if ((cfg->push_aes_key != NULL || cfg->push_previous_aes_key != NULL) && cfg->push_token == NULL) {
        set_err(err, err_size, "oa.wx.push.token: required with oa.wx.push.aes-key");
        return false;
    }
    if (cfg->push_previous_aes_key != NULL && cfg->push_aes_key == NULL) {
        set_err(err, err_size, "oa.wx.push.aes-key: required with oa.wx.push.previous-aes-key");
        return false;
    }
    const char *page = cfg->checkin_page;
    if (page[0] == '/' || strchr(page, '?') != NULL || strlen(page) > 127) {
        set_err(err, err_size,
                "oa.checkin.page: a mini program page path without a leading '/' or a query, e.g. pages/checkin/index");
        return false;
    }
    const char *env = cfg->checkin_env_version;
    if (strcmp(env, "release") != 0 && strcmp(env, "trial") != 0 && strcmp(env, "develop") != 0) {
        set_err(err, err_size, "oa.checkin.env-version: release, trial or develop");
        return false;
    }
    static const char *const kinds[] = {"", "invitation", "approval", "starting", "changed"};
    for (int k = 1; k <= 4; k++) {
        const char *id = cfg->subscribe_template[k];
        if (id != NULL &&
            (strlen(id) > 128 ||
             strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(id))) {
            set_err(err, err_size,
                    "oa.subscribe.%s.template-id: a template id is up to 128 letters, digits, '-' and '_'", kinds[k]);
            return false;
        }
        if ((id == NULL) != (cfg->subscribe_data[k] == NULL)) {
            set_err(err, err_size, "oa.subscribe.%s.%s: required with oa.subscribe.%s.%s", kinds[k],
                    id == NULL ? "template-id" : "data", kinds[k], id == NULL ? "data" : "template-id");
            return false;
        }
    }
    const char *sp = cfg->subscribe_page;
    if (sp[0] == '/' || strchr(sp, '?') != NULL || strlen(sp) > 100) {
        set_err(err, err_size, "oa.subscribe.page: a mini program page path without a leading '/' or a query");
        return false;
    }
    const char *st = cfg->subscribe_state;
    if (strcmp(st, "formal") != 0 && strcmp(st, "trial") != 0 && strcmp(st, "developer") != 0) {
        set_err(err, err_size, "oa.subscribe.miniprogram-state: formal, trial or developer");
        return false;
    }
    const char *lang = cfg->subscribe_lang;
    if (strcmp(lang, "zh_CN") != 0 && strcmp(lang, "en_US") != 0 && strcmp(lang, "zh_HK") != 0 &&
        strcmp(lang, "zh_TW") != 0) {
        set_err(err, err_size, "oa.subscribe.lang: zh_CN, en_US, zh_HK or zh_TW");
        return false;
    }
    if (cfg->checkin_overlap_seconds >= cfg->checkin_rotate_seconds) {
        set_err(err, err_size, "oa.checkin.overlap-seconds: must be shorter than oa.checkin.rotate-seconds (%d)",
                cfg->checkin_rotate_seconds);
        return false;
    }
    return true;
}

int config_load(config_t *cfg, const char *path, char *err, size_t err_size)
{
    doc_t doc = {0};
    memset(cfg, 0, sizeof(*cfg));
    if (err && err_size)
        err[0] = '\0';
    if (path && !yaml_read(path, &doc, err, err_size))
        goto fail;
    if (!check_file_keys(&doc, path, err, err_size))
        goto fail;
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (!load_key(cfg, &KEYS[i], &doc, path ? path : "", err, err_size))
            goto fail;
    if (!check_relations(cfg, err, err_size))
        goto fail;
    doc_free(&doc);
    return 0;
fail:
    doc_free(&doc);
    config_free(cfg);
    return -1;
}

void config_free(config_t *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->host);
    free(cfg->management_address);
    free(cfg->log_level);
    free(cfg->log_file);
    free(cfg->log_format);
    free(cfg->wx_app_id);
    wipe_free(cfg->wx_app_secret);
    free(cfg->wx_msg_data_format);
    free(cfg->wx_api_base);
    free(cfg->wx_ca_file);
    free(cfg->token_header);
    wipe_free(cfg->datasource_url);
    wipe_free(cfg->redis_url);
    free(cfg->wx_token_api);
    free(cfg->time_zone);
    wipe_free(cfg->push_token);
    wipe_free(cfg->push_aes_key);
    wipe_free(cfg->push_previous_aes_key);
    for (int k = 0; k < 5; k++) {
        free(cfg->subscribe_template[k]);
        free(cfg->subscribe_data[k]);
    }
    free(cfg->subscribe_page);
    free(cfg->subscribe_state);
    free(cfg->subscribe_lang);
    free(cfg->checkin_page);
    free(cfg->checkin_env_version);
    free(cfg->storage_dir);
    free(cfg->storage_base_url);
    ip_ranges_free(&cfg->trusted_proxies);
    explicit_bzero(cfg, sizeof(*cfg));
}

/* ---- meetoa check-config ---------------------------------------------------------------- */

/* A secret text as check-config shows it: a URL (scheme:...) with the password of its user info
 * replaced by ****, anything else ********. */
static void mask_secret_text(const char *value, char *out, size_t size)
{
    const char *colon = strchr(value, ':');
    bool url = colon != NULL && colon > value;
    for (const char *p = value; url && p < colon; p++)
        url = isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.';
    if (!url) {
        snprintf(out, size, "********");
        return;
    }
    const char *auth = strstr(value, "://");
    const char *host = auth != NULL ? auth + 3 : NULL;
    const char *end = host != NULL ? host + strcspn(host, "/?#") : NULL;
    const char *at = NULL;
    for (const char *p = host; p != NULL && p < end; p++)
        if (*p == '@')
            at = p;
    const char *pass = NULL;
    for (const char *p = host; at != NULL && p < at; p++)
        if (*p == ':') {
            pass = p + 1;
            break;
        }
    char shown[256];
    if (pass != NULL)
        snprintf(shown, sizeof shown, "%.*s****%s", (int)(pass - value), value, at);
    else
        snprintf(shown, sizeof shown, "%s", value);
    show_value(shown, out, size);
}

/* The effective value of k in cfg, as text (secrets masked); raw is the text it came from. */
static void show_effective(const config_t *cfg, const key_def_t *k, const char *raw, char *out, size_t size)
{
    const char *field = (const char *)cfg + k->offset;
    if (raw == NULL) {
        snprintf(out, size, "(not set)");
        return;
    }
    switch (k->kind) {
    case KIND_INT:
        snprintf(out, size, "%d", *(const int *)field);
        return;
    case KIND_SIZE:
        snprintf(out, size, "%zu", *(const size_t *)field);
        return;
    case KIND_BOOL:
        snprintf(out, size, "%s", *(const bool *)field ? "true" : "false");
        return;
    case KIND_KEY32:
        snprintf(out, size, "******** (32 bytes)");
        return;
    case KIND_KEY32_LIST:
        snprintf(out, size, "******** (%d keys)", ((const config_key_list_t *)field)->count);
        return;
    case KIND_PROXIES:
        show_value(raw, out, size);
        return;
    default: {
        const char *text = *(char *const *)field;
        if (text == NULL)
            snprintf(out, size, "(not set)");
        else if (k->flags & KEY_SECRET)
            mask_secret_text(text, out, size);
        else
            show_value(text, out, size);
        return;
    }
    }
}

int config_print(const char *path, FILE *out, char *err, size_t err_size)
{
    config_t cfg;
    if (config_load(&cfg, path, err, err_size) != 0)
        return -1;
    doc_t doc = {0};
    if (path != NULL && !yaml_read(path, &doc, err, err_size)) {
        config_free(&cfg);
        return -1;
    }
    fprintf(out, "# %s: valid; the effective configuration (secrets masked), each key with where its value came from\n",
            path != NULL ? path : "(no file)");
    int rc = 0;
    for (size_t i = 0; i < KEY_COUNT && rc == 0; i++) {
        source_t src;
        char shown[256];
        if (!resolve(&KEYS[i], &doc, path != NULL ? path : "", &src, err, err_size)) {
            rc = -1;
            break;
        }
        show_effective(&cfg, &KEYS[i], src.value, shown, sizeof shown);
        if (src.value == NULL)
            fprintf(out, "%-40s %s\n", KEYS[i].name, shown);
        else
            fprintf(out, "%-40s %s  (%s)\n", KEYS[i].name, shown, src.where);
    }
    doc_free(&doc);
    config_free(&cfg);
    return rc;
}
