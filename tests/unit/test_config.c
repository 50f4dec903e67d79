/*
 * test_config — config_load() against files in tests/data/config and small YAML texts
 * written to temporary files, with the environment cleared before each test:
 * defaults, file values, Spring-shaped files, environment over file (both spellings),
 * every range and format rule (table-driven: each bad value must give one line that
 * starts with its key), unknown and repeated keys, missing file, YAML syntax errors,
 * required keys, and that no secret value ever appears in an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* base64 of the bytes 0..31 and of the bytes 100..131 */
#define KEY_0_31    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_100_131 "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="

/* Every environment name config_load may read (both spellings). */
static const char *const ENV_NAMES[] = {
    "SERVER_HOST",
    "SERVER_PORT",
    "SERVER_THREADS",
    "SERVER_MAXBODYBYTES",
    "SERVER_MAX_BODY_BYTES",
    "LOGGING_LEVEL",
    "LOGGING_LEVEL_ROOT",
    "OA_WX_APPID",
    "OA_WX_APP_ID",
    "OA_WX_APPSECRET",
    "OA_WX_APP_SECRET",
    "OA_WX_MSGDATAFORMAT",
    "OA_WX_MSG_DATA_FORMAT",
    "OA_WX_APIBASE",
    "OA_WX_API_BASE",
    "OA_WX_TIMEOUTMS",
    "OA_WX_TIMEOUT_MS",
    "OA_WX_CAFILE",
    "OA_WX_CA_FILE",
    "OA_TOKEN_HEADER",
    "OA_TOKEN_EXPIRESECONDS",
    "OA_TOKEN_EXPIRE_SECONDS",
    "OA_TOKEN_CACHESECONDS",
    "OA_TOKEN_CACHE_SECONDS",
    "OA_DATASOURCE_URL",
    "OA_DATASOURCE_POOLSIZE",
    "OA_DATASOURCE_POOL_SIZE",
    "OA_SECURITY_DATAKEY",
    "OA_SECURITY_DATA_KEY",
    "SERVER_TRUSTEDPROXIES",
    "SERVER_TRUSTED_PROXIES",
    "OA_RATELIMIT_LOGINIP",
    "OA_RATE_LIMIT_LOGIN_IP",
    "OA_RATELIMIT_UPLOADOPENID",
    "OA_RATE_LIMIT_UPLOAD_OPENID",
    "OA_SECURITY_PREVIOUSDATAKEYS",
    "OA_SECURITY_PREVIOUS_DATA_KEYS",
    "LOGGING_FILE_NAME",
    "LOGGING_FILE",
    "OA_REDIS_URL",
    "OA_REDIS_TIMEOUTMS",
    "OA_REDIS_TIMEOUT_MS",
};

static int clear_env(void **state)
{
    for (size_t i = 0; i < COUNT(ENV_NAMES); i++)
        unsetenv(ENV_NAMES[i]);
    return 0;
}

/* tests/data/config/<name>, from MEETOA_SOURCE_DIR (set by CTest) or, by hand, this file's folder. */
static const char *data_path(const char *name)
{
    static char path[1024];
    const char *src = getenv("MEETOA_SOURCE_DIR");
    if (src)
        snprintf(path, sizeof(path), "%s/tests/data/config/%s", src, name);
    else
        snprintf(path, sizeof(path), "%.*s../data/config/%s", (int)(strrchr(__FILE__, '/') + 1 - __FILE__), __FILE__,
                 name);
    return path;
}

/* The required keys, to which a test appends what it checks. */
#define REQUIRED_YAML                                                                                                  \
    "oa.wx.app-id: wx-test-app\n"                                                                                      \
    "oa.wx.app-secret: TOPSECRET-app-secret\n"                                                                         \
    "oa.security.data-key: " KEY_0_31 "\n"

/* Writes yaml to a temporary file and loads it. */
static int load_text(config_t *cfg, const char *yaml, char *err, size_t err_size)
{
    char path[] = "/tmp/meetoa-test-config-XXXXXX.yml";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    size_t len = strlen(yaml);
    assert_int_equal(write(fd, yaml, len), (ssize_t)len);
    close(fd);
    int rc = config_load(cfg, path, err, err_size);
    unlink(path);
    return rc;
}

/* Asserts err is one line that starts with "<key>: ". */
static void assert_err_names(const char *err, const char *key)
{
    size_t len = strlen(key);
    if (strncmp(err, key, len) != 0 || err[len] != ':' || err[len + 1] != ' ')
        fail_msg("error \"%s\" does not start with \"%s: \"", err, key);
    assert_null(strchr(err, '\n'));
}

static void assert_default_except_required(const config_t *c)
{
    assert_string_equal(c->host, "127.0.0.1");
    assert_int_equal(c->port, 8080);
    assert_int_equal(c->threads, 0);
    assert_int_equal(c->max_body_bytes, 65536);
    assert_string_equal(c->log_level, "info");
    assert_string_equal(c->wx_msg_data_format, "JSON");
    assert_string_equal(c->wx_api_base, "https://api.weixin.qq.com");
    assert_int_equal(c->wx_timeout_ms, 5000);
    assert_null(c->wx_ca_file);
    assert_string_equal(c->token_header, "X-OA-Token");
    assert_int_equal(c->token_expire_seconds, 7200);
    assert_int_equal(c->token_cache_seconds, 5);
    assert_string_equal(c->datasource_url, "sqlite:data/meetoa.db");
    assert_int_equal(c->db_pool_size, 4);
}

static void assert_key_0_31(const config_t *c)
{
    for (int i = 0; i < 32; i++)
        assert_int_equal(c->data_key[i], i);
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    config_t c;
    char err[256] = "";
    assert_int_equal(config_load(&c, data_path("minimal.yml"), err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_default_except_required(&c);
    assert_string_equal(c.wx_app_id, "wx-minimal-app");
    assert_string_equal(c.wx_app_secret, "minimal-app-secret-value");
    assert_key_0_31(&c);
    config_free(&c);
    assert_null(c.host); /* freed and cleared */
}

static void test_file_values(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(config_load(&c, data_path("full.yml"), err, sizeof(err)), 0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.port, 9090);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.max_body_bytes, 131072);
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.wx_app_id, "wx4f4bc4dec97d474b");
    assert_string_equal(c.wx_app_secret, "full-app-secret-value");
    assert_string_equal(c.wx_msg_data_format, "XML");
    assert_string_equal(c.wx_api_base, "http://127.0.0.1:9999"); /* trailing '/' removed */
    assert_int_equal(c.wx_timeout_ms, 2500);
    assert_null(c.wx_ca_file); /* "" = system store */
    assert_string_equal(c.token_header, "X-Custom-Token");
    assert_int_equal(c.token_expire_seconds, 3600);
    assert_int_equal(c.token_cache_seconds, 0);
    assert_string_equal(c.datasource_url, "mysql://meetoa:db-password@127.0.0.1:3306/meetoa");
    assert_int_equal(c.db_pool_size, 8);
    for (int i = 0; i < 32; i++)
        assert_int_equal(c.data_key[i], 100 + i);
    config_free(&c);
}

static void test_spring_shaped_file(void **state)
{
    config_t c;
    char err[256];
    if (config_load(&c, data_path("spring.yml"), err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.port, 8082);                                  /* quoted string */
    assert_string_equal(c.log_level, "warn");                        /* logging.level.root, any case */
    assert_string_equal(c.wx_app_id, "wx-spring-app");               /* oa.wx.appId */
    assert_string_equal(c.wx_app_secret, "spring-app-secret-value"); /* oa.wx.app_secret */
    assert_string_equal(c.wx_msg_data_format, "JSON");               /* msg-data-format: json */
    assert_key_0_31(&c);
    assert_int_equal(c.token_expire_seconds, 7200); /* `token: ~` is no value */
    config_free(&c);
}

static void test_no_file_environment_only(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(config_load(&c, NULL, err, sizeof(err)), -1);
    assert_err_names(err, "oa.wx.app-id");
    assert_non_null(strstr(err, "required"));
    assert_non_null(strstr(err, "OA_WX_APP_ID"));

    setenv("OA_WX_APPID", "wx-env-app", 1);
    setenv("OA_WX_APPSECRET", "env-app-secret", 1);
    setenv("OA_SECURITY_DATAKEY", KEY_0_31, 1);
    assert_int_equal(config_load(&c, NULL, err, sizeof(err)), 0);
    assert_default_except_required(&c);
    assert_string_equal(c.wx_app_id, "wx-env-app");
    assert_string_equal(c.wx_app_secret, "env-app-secret");
    assert_key_0_31(&c);
    config_free(&c);
}

static void test_missing_file(void **state)
{
    config_t c;
    char err[256];
    const char *path = "/nonexistent/meetoa/application.yml";
    assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));

    const char *dir = "/tmp"; /* exists but is no file */
    assert_int_equal(config_load(&c, dir, err, sizeof(err)), -1);
    assert_string_equal(err, "/tmp: not a regular file");
}

static void test_syntax_error_names_line(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(config_load(&c, data_path("bad-syntax.yml"), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bad-syntax.yml: line 4: "));
    assert_null(strchr(err, '\n'));

    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        {"a: 1\n---\nb: 2\n", "line 2: only one YAML document"},
        {"just a scalar\n", "line 1: the top level must be a mapping"},
        {"- a\n- b\n", "line 1: the top level must be a mapping"},
        {"server:\n  port: 1\n\t\n  host: x\n", "line 3: "},
        {"? [a, b]\n: c\n", "line 1: only plain keys"},
        {"? {a: 1}\n: c\n", "line 1: a mapping used as a key"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        assert_int_equal(load_text(&c, cases[i].yaml, err, sizeof(err)), -1);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
    }
}

/* ---- environment ------------------------------------------------------------------------- */

static void test_env_overrides_file(void **state)
{
    config_t c;
    char err[256];
    setenv("SERVER_PORT", "7070", 1);
    setenv("OA_DATASOURCE_URL", "sqlite:/tmp/env.db", 1);
    setenv("LOGGING_LEVEL", "ERROR", 1);
    setenv("OA_WX_MSGDATAFORMAT", "xml", 1);
    setenv("OA_WX_APP_ID", "wx-from-env", 1);
    assert_int_equal(config_load(&c, data_path("full.yml"), err, sizeof(err)), 0);
    assert_int_equal(c.port, 7070);
    assert_string_equal(c.datasource_url, "sqlite:/tmp/env.db");
    assert_string_equal(c.log_level, "error");
    assert_string_equal(c.wx_msg_data_format, "XML");
    assert_string_equal(c.wx_app_id, "wx-from-env");
    assert_int_equal(c.threads, 3); /* not overridden: from the file */
    config_free(&c);

    /* LOGGING_LEVEL_ROOT, Spring's spelling, when LOGGING_LEVEL is absent */
    unsetenv("LOGGING_LEVEL");
    setenv("LOGGING_LEVEL_ROOT", "warn", 1);
    assert_int_equal(config_load(&c, data_path("full.yml"), err, sizeof(err)), 0);
    assert_string_equal(c.log_level, "warn");
    config_free(&c);
}

static void test_env_both_spellings(void **state)
{
    static const struct {
        const char *env;
        const char *value;
        size_t offset;
        int want; /* for int fields; -1 = a string field compared with value */
    } cases[] = {
        {"OA_WX_APP_SECRET", "secret-underscores", offsetof(config_t, wx_app_secret), -1},
        {"OA_WX_APPSECRET", "secret-joined", offsetof(config_t, wx_app_secret), -1},
        {"OA_WX_APP_ID", "wx-underscores", offsetof(config_t, wx_app_id), -1},
        {"OA_WX_APPID", "wx-joined", offsetof(config_t, wx_app_id), -1},
        {"OA_WX_MSG_DATA_FORMAT", "XML", offsetof(config_t, wx_msg_data_format), -1},
        {"OA_WX_MSGDATAFORMAT", "XML", offsetof(config_t, wx_msg_data_format), -1},
        {"OA_WX_API_BASE", "http://a.test", offsetof(config_t, wx_api_base), -1},
        {"OA_WX_APIBASE", "http://b.test", offsetof(config_t, wx_api_base), -1},
        {"OA_TOKEN_HEADER", "X-Env", offsetof(config_t, token_header), -1},
        {"SERVER_HOST", "::1", offsetof(config_t, host), -1},
        {"SERVER_PORT", "1234", offsetof(config_t, port), 1234},
        {"SERVER_THREADS", "7", offsetof(config_t, threads), 7},
        {"OA_WX_TIMEOUT_MS", "777", offsetof(config_t, wx_timeout_ms), 777},
        {"OA_WX_TIMEOUTMS", "778", offsetof(config_t, wx_timeout_ms), 778},
        {"OA_TOKEN_EXPIRE_SECONDS", "600", offsetof(config_t, token_expire_seconds), 600},
        {"OA_TOKEN_EXPIRESECONDS", "601", offsetof(config_t, token_expire_seconds), 601},
        {"OA_TOKEN_CACHE_SECONDS", "9", offsetof(config_t, token_cache_seconds), 9},
        {"OA_TOKEN_CACHESECONDS", "10", offsetof(config_t, token_cache_seconds), 10},
        {"OA_DATASOURCE_POOL_SIZE", "11", offsetof(config_t, db_pool_size), 11},
        {"OA_DATASOURCE_POOLSIZE", "12", offsetof(config_t, db_pool_size), 12},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        config_t c;
        char err[256];
        clear_env(NULL);
        setenv(cases[i].env, cases[i].value, 1);
        if (config_load(&c, data_path("minimal.yml"), err, sizeof(err)) != 0)
            fail_msg("%s: %s", cases[i].env, err);
        if (cases[i].want < 0) {
            const char *got = *(char **)((char *)&c + cases[i].offset);
            if (strcmp(got, cases[i].value) != 0)
                fail_msg("%s: got \"%s\"", cases[i].env, got);
        } else if (*(int *)((char *)&c + cases[i].offset) != cases[i].want)
            fail_msg("%s: not applied", cases[i].env);
        config_free(&c);
    }
    /* size_t and the data key */
    static const char *const body[] = {"SERVER_MAX_BODY_BYTES", "SERVER_MAXBODYBYTES"};
    static const char *const key[] = {"OA_SECURITY_DATA_KEY", "OA_SECURITY_DATAKEY"};
    for (int i = 0; i < 2; i++) {
        config_t c;
        char err[256];
        clear_env(NULL);
        setenv(body[i], "2048", 1);
        setenv(key[i], KEY_100_131, 1);
        assert_int_equal(config_load(&c, data_path("minimal.yml"), err, sizeof(err)), 0);
        assert_int_equal(c.max_body_bytes, 2048);
        assert_int_equal(c.data_key[0], 100);
        assert_int_equal(c.data_key[31], 131);
        config_free(&c);
    }
}

static void test_env_spellings_must_agree(void **state)
{
    config_t c;
    char err[256];
    setenv("OA_WX_APP_SECRET", "TOPSECRET-one", 1);
    setenv("OA_WX_APPSECRET", "TOPSECRET-two", 1);
    assert_int_equal(config_load(&c, data_path("minimal.yml"), err, sizeof(err)), -1);
    assert_err_names(err, "oa.wx.app-secret");
    assert_non_null(strstr(err, "OA_WX_APPSECRET"));
    assert_non_null(strstr(err, "OA_WX_APP_SECRET"));
    assert_null(strstr(err, "TOPSECRET"));

    /* The same value twice is fine. */
    setenv("OA_WX_APPSECRET", "TOPSECRET-one", 1);
    assert_int_equal(config_load(&c, data_path("minimal.yml"), err, sizeof(err)), 0);
    assert_string_equal(c.wx_app_secret, "TOPSECRET-one");
    config_free(&c);
}

static void test_env_bad_value_names_variable(void **state)
{
    config_t c;
    char err[256];
    setenv("SERVER_PORT", "80x", 1);
    assert_int_equal(config_load(&c, data_path("minimal.yml"), err, sizeof(err)), -1);
    assert_err_names(err, "server.port");
    assert_non_null(strstr(err, "\"80x\""));
    assert_non_null(strstr(err, "environment SERVER_PORT"));

    setenv("SERVER_PORT", "", 1); /* set but empty is a bad value, not a missing one */
    assert_int_equal(config_load(&c, data_path("minimal.yml"), err, sizeof(err)), -1);
    assert_err_names(err, "server.port");
}

/* ---- rules: table of bad values -------------------------------------------------------------- */

static void test_bad_values_name_their_key(void **state)
{
    static const struct {
        const char *yaml; /* added to the required keys */
        const char *key;
    } cases[] = {
        {"server.port: 80x\n", "server.port"},
        {"server.port: \"\"\n", "server.port"},
        {"server.port: -1\n", "server.port"},
        {"server.port: 65536\n", "server.port"},
        {"server.port: 80.0\n", "server.port"},
        {"server.port: +80\n", "server.port"},
        {"server.port: \" 80\"\n", "server.port"},
        {"server.port: 0x50\n", "server.port"},
        {"server.port: 99999999999999999999\n", "server.port"},
        {"server.port: [80, 81]\n", "server.port"},
        {"server.port: &p 80\nserver.threads: *p\n", "server.threads"},
        {"server.threads: 257\n", "server.threads"},
        {"server.threads: -1\n", "server.threads"},
        {"server.max-body-bytes: 1023\n", "server.max-body-bytes"},
        {"server.max-body-bytes: 67108865\n", "server.max-body-bytes"},
        {"server.host: \"\"\n", "server.host"},
        {"logging.level: verbose\n", "logging.level"},
        {"logging.level: \"\"\n", "logging.level"},
        {"oa.wx.msgDataFormat: YAML\n", "oa.wx.msgDataFormat"},
        {"oa.wx.api-base: ftp://api.weixin.qq.com\n", "oa.wx.api-base"},
        {"oa.wx.api-base: api.weixin.qq.com\n", "oa.wx.api-base"},
        {"oa.wx.token-api: cgi\n", "oa.wx.token-api"},
        {"oa.phone.allow-shared: yes please\n", "oa.phone.allow-shared"},
        {"oa.storage.max-bytes: 1023\n", "oa.storage.max-bytes"},
        {"oa.storage.base-url: files.example.com\n", "oa.storage.base-url"},
        {"oa.storage.dir: \"\"\n", "oa.storage.dir"},
        {"oa.wx.api-base: https://\n", "oa.wx.api-base"},
        {"oa.wx.api-base: https:///\n", "oa.wx.api-base"},
        {"oa.wx.api-base: \"https://a b\"\n", "oa.wx.api-base"},
        {"oa.wx.timeout-ms: 99\n", "oa.wx.timeout-ms"},
        {"oa.wx.timeout-ms: 120001\n", "oa.wx.timeout-ms"},
        {"oa.wx.ca-file: /nonexistent/ca.pem\n", "oa.wx.ca-file"},
        {"oa.token.header: \"X OA\"\n", "oa.token.header"},
        {"oa.token.header: \"X-OA:Token\"\n", "oa.token.header"},
        {"oa.token.header: \"\"\n", "oa.token.header"},
        {"oa.token.header: \"X-\xc3\xa9\"\n", "oa.token.header"},
        {"oa.token.expire-seconds: 0\n", "oa.token.expire-seconds"},
        {"oa.token.expire-seconds: 31536001\n", "oa.token.expire-seconds"},
        {"oa.token.cache-seconds: -1\n", "oa.token.cache-seconds"},
        {"oa.token.cache-seconds: 3601\n", "oa.token.cache-seconds"},
        {"oa.datasource.pool-size: 0\n", "oa.datasource.pool-size"},
        {"oa.datasource.pool-size: 65\n", "oa.datasource.pool-size"},
        {"oa.datasource.url: \"\"\n", "oa.datasource.url"},
        {"oa.wx.app-id: \"\"\n", "oa.wx.app-id"},
        {"oa.wx.app-secret: \"\"\n", "oa.wx.app-secret"},
        {"oa.security.data-key: \"not base64!\"\n", "oa.security.data-key"},
        {"oa.security.data-key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", "oa.security.data-key"}, /* 31 */
        {"oa.security.data-key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "oa.security.data-key"}, /* 33 */
        {"oa.security.data-key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", "oa.security.data-key"},
        {"oa.wx.app-secret: ${WX_SECRET}\n", "oa.wx.app-secret"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        /* The case's key replaces the required one of the same name (not appended twice). */
        char yaml[1024] = "";
        const char *req[] = {"oa.wx.app-id: wx-test-app\n", "oa.wx.app-secret: TOPSECRET-app-secret\n",
                             "oa.security.data-key: " KEY_0_31 "\n"};
        for (size_t r = 0; r < COUNT(req); r++) {
            size_t klen = (size_t)(strchr(req[r], ':') - req[r]);
            if (strncmp(cases[i].yaml, req[r], klen + 1) != 0)
                strcat(yaml, req[r]);
        }
        strcat(yaml, cases[i].yaml);
        config_t c;
        char err[256];
        if (load_text(&c, yaml, err, sizeof(err)) != -1)
            fail_msg("case %zu accepted: %s", i, cases[i].yaml);
        assert_err_names(err, cases[i].key);
        assert_non_null(strstr(err, " line ")); /* says where */
        assert_null(strstr(err, "TOPSECRET"));
    }
}

/* Boundary values are accepted and stored. */
static void test_bounds_accepted(void **state)
{
    static const struct {
        const char *yaml;
        size_t offset;
        long long want;
        bool is_size;
    } cases[] = {
        {"server.port: 0\n", offsetof(config_t, port), 0, false},
        {"server.port: 65535\n", offsetof(config_t, port), 65535, false},
        {"server.port: \"443\"\n", offsetof(config_t, port), 443, false},
        {"server.port: '8081'\n", offsetof(config_t, port), 8081, false},
        {"server.port: ~\n", offsetof(config_t, port), 8080, false},
        {"server.port:\n", offsetof(config_t, port), 8080, false},
        {"server.threads: 256\n", offsetof(config_t, threads), 256, false},
        {"server.threads: 0\n", offsetof(config_t, threads), 0, false},
        {"server.max-body-bytes: 1024\n", offsetof(config_t, max_body_bytes), 1024, true},
        {"server.max-body-bytes: 67108864\n", offsetof(config_t, max_body_bytes), 67108864, true},
        {"oa.wx.timeout-ms: 100\n", offsetof(config_t, wx_timeout_ms), 100, false},
        {"oa.wx.timeout-ms: 120000\n", offsetof(config_t, wx_timeout_ms), 120000, false},
        {"oa.token.expire-seconds: 1\n", offsetof(config_t, token_expire_seconds), 1, false},
        {"oa.token.expire-seconds: 31536000\n", offsetof(config_t, token_expire_seconds), 31536000, false},
        {"oa.token.cache-seconds: 0\n", offsetof(config_t, token_cache_seconds), 0, false},
        {"oa.token.cache-seconds: 3600\n", offsetof(config_t, token_cache_seconds), 3600, false},
        {"oa.datasource.pool-size: 1\n", offsetof(config_t, db_pool_size), 1, false},
        {"oa.datasource.pool-size: 64\n", offsetof(config_t, db_pool_size), 64, false},
        {"oa.storage.max-bytes: 1024\n", offsetof(config_t, storage_max_bytes), 1024, true},
        {"oa.storage.max-bytes: 67108864\n", offsetof(config_t, storage_max_bytes), 67108864, true},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char yaml[1024];
        snprintf(yaml, sizeof(yaml), "%s%s", REQUIRED_YAML, cases[i].yaml);
        config_t c;
        char err[256];
        if (load_text(&c, yaml, err, sizeof(err)) != 0)
            fail_msg("case %zu refused: %s", i, err);
        long long got = cases[i].is_size ? (long long)*(size_t *)((char *)&c + cases[i].offset)
                                         : *(int *)((char *)&c + cases[i].offset);
        if (got != cases[i].want)
            fail_msg("case %zu: %s gave %lld", i, cases[i].yaml, got);
        config_free(&c);
    }
}

static void test_issue3_keys(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_string_equal(c.wx_token_api, "stable");
    assert_false(c.phone_allow_shared);
    assert_string_equal(c.storage_dir, "data/uploads");
    assert_int_equal(c.storage_max_bytes, 2097152);
    assert_null(c.storage_base_url);
    config_free(&c);
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "%s%s", REQUIRED_YAML,
             "oa.wx.token-api: token\noa.phone.allow-shared: true\noa.storage.dir: /tmp/up\n"
             "oa.storage.base-url: https://files.example.com/\n");
    assert_int_equal(load_text(&c, yaml, err, sizeof(err)), 0);
    assert_string_equal(c.wx_token_api, "token");
    assert_true(c.phone_allow_shared);
    assert_string_equal(c.storage_dir, "/tmp/up");
    assert_string_equal(c.storage_base_url, "https://files.example.com");
    config_free(&c);
}

/* oa.subscribe: off by default; a kind needs both its template id and its data; values checked. */
static void test_subscribe_keys(void **state)
{
    (void)state;
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    for (int k = 1; k <= 4; k++) {
        assert_null(c.subscribe_template[k]);
        assert_null(c.subscribe_data[k]);
    }
    assert_string_equal(c.subscribe_page, "pages/meeting/detail/detail");
    assert_string_equal(c.subscribe_state, "formal");
    assert_string_equal(c.subscribe_lang, "zh_CN");
    assert_int_equal(c.subscribe_poll_ms, 1000);
    config_free(&c);
    assert_int_equal(load_text(&c,
                               REQUIRED_YAML
                               "oa:\n  subscribe:\n    starting: {template-id: Tpl_1-x, data: \"thing1=title\"}\n"
                               "    miniprogram-state: trial\n    lang: en_US\n    poll-ms: 100\n"
                               "    page: pages/x/y\n",
                               err, sizeof(err)),
                     0);
    assert_string_equal(c.subscribe_template[3], "Tpl_1-x");
    assert_string_equal(c.subscribe_data[3], "thing1=title");
    assert_null(c.subscribe_template[1]);
    assert_string_equal(c.subscribe_state, "trial");
    assert_string_equal(c.subscribe_lang, "en_US");
    assert_int_equal(c.subscribe_poll_ms, 100);
    assert_string_equal(c.subscribe_page, "pages/x/y");
    config_free(&c);
    static const struct {
        const char *yaml, *key;
    } bad[] = {
        {"oa.subscribe.invitation.template-id: abc\n", "oa.subscribe.invitation.data"},
        {"oa.subscribe.changed.data: \"thing1=title\"\n", "oa.subscribe.changed.template-id"},
        {"oa.subscribe.approval.template-id: \"a b\"\noa.subscribe.approval.data: x\n",
         "oa.subscribe.approval.template-id"},
        {"oa.subscribe.miniprogram-state: release\n", "oa.subscribe.miniprogram-state"},
        {"oa.subscribe.lang: fr_FR\n", "oa.subscribe.lang"},
        {"oa.subscribe.page: /pages/x\n", "oa.subscribe.page"},
        {"oa.subscribe.poll-ms: 99\n", "oa.subscribe.poll-ms"},
        {"oa.subscribe.other.template-id: x\n", "oa.subscribe.other.template-id"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml, "%s%s", REQUIRED_YAML, bad[i].yaml);
        if (load_text(&c, yaml, err, sizeof(err)) != -1)
            fail_msg("case %zu accepted: %s", i, bad[i].yaml);
        assert_err_names(err, bad[i].key);
    }
}

static void test_string_rules_accepted(void **state)
{
    config_t c;
    char err[256];
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "oa.wx.api-base: https://example.test/base//\n"
             "oa.token.header: \"X-Token_1.v2!#$%%&'*+^`|~\"\n"
             "oa.wx.ca-file: %s\n"
             "logging.level: Debug\n"
             "oa.wx.msgDataFormat: json\n",
             REQUIRED_YAML, data_path("minimal.yml"));
    if (load_text(&c, yaml, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.wx_api_base, "https://example.test/base");
    assert_string_equal(c.token_header, "X-Token_1.v2!#$%&'*+^`|~");
    assert_string_equal(c.wx_ca_file, data_path("minimal.yml"));
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.wx_msg_data_format, "JSON");
    config_free(&c);
}

/* ---- keys ---------------------------------------------------------------------------------- */

static void test_unknown_keys_refused(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(config_load(&c, data_path("unknown-key.yml"), err, sizeof(err)), -1);
    assert_err_names(err, "server.prot");
    assert_non_null(strstr(err, "unknown key"));
    assert_non_null(strstr(err, "line 3"));

    static const struct {
        const char *yaml;
        const char *key;
    } cases[] = {
        {"oa.wx.appsecrett: x\n", "oa.wx.appsecrett"},
        {"oa:\n  foo:\n    bar: 1\n", "oa.foo.bar"},
        {"oa:\n  wx: 1\n", "oa.wx"},
        {"server:\n  servlet:\n    context-path: /oa\n", "server.servlet.context-path"},
        {"server.ssl.enabled: true\n", "server.ssl.enabled"},
        {"Server:\n  Prot: 1\n", "Server.Prot"},
        {"oa.wx.app-id.x: 1\n", "oa.wx.app-id.x"},
        {"server: 8080\n", "server"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char yaml[1024];
        snprintf(yaml, sizeof(yaml), "%s%s", REQUIRED_YAML, cases[i].yaml);
        assert_int_equal(load_text(&c, yaml, err, sizeof(err)), -1);
        assert_err_names(err, cases[i].key);
        assert_non_null(strstr(err, "unknown key"));
    }
}

static void test_other_sections_ignored(void **state)
{
    config_t c;
    char err[256];
    const char *yaml = REQUIRED_YAML "spring:\n  anything: [1, 2]\n"
                                     "mybatis:\n  configuration:\n    map-underscore-to-camel-case: true\n"
                                     "logging:\n  file:\n    name: x.log\n  pattern: '%d'\n"
                                     "other: value\n"
                                     "server:\n"
                                     "oa:\n  token:\n";
    if (load_text(&c, yaml, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_default_except_required(&c);
    config_free(&c);
}

static void test_repeated_key_refused(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML "server:\n  port: 1\nserver.port: 2\n", err, sizeof(err)), -1);
    assert_err_names(err, "server.port");
    assert_non_null(strstr(err, "given twice"));
    /* Different spellings of one key are the same key. */
    assert_int_equal(
        load_text(&c, REQUIRED_YAML "oa.wx.msgDataFormat: JSON\noa.wx.msg-data-format: XML\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "given twice"));
}

static void test_required_keys(void **state)
{
    static const struct {
        const char *yaml;
        const char *missing;
        const char *env;
    } cases[] = {
        {"oa.wx.app-secret: TOPSECRET-s\noa.security.data-key: " KEY_0_31 "\n", "oa.wx.app-id", "OA_WX_APPID"},
        {"oa.wx.app-id: wx\noa.security.data-key: " KEY_0_31 "\n", "oa.wx.app-secret", "OA_WX_APPSECRET"},
        {"oa.wx.app-id: wx\noa.wx.app-secret: TOPSECRET-s\n", "oa.security.data-key", "OA_SECURITY_DATA_KEY"},
        {"oa.wx.app-id: wx\noa.wx.app-secret:\noa.security.data-key: " KEY_0_31 "\n", "oa.wx.app-secret",
         "OA_WX_APP_SECRET"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        config_t c;
        char err[256];
        assert_int_equal(load_text(&c, cases[i].yaml, err, sizeof(err)), -1);
        assert_err_names(err, cases[i].missing);
        assert_non_null(strstr(err, "required"));
        assert_non_null(strstr(err, cases[i].env));
        assert_null(strstr(err, "TOPSECRET"));
    }
}

/* ---- secrets --------------------------------------------------------------------------------- */

static void test_secrets_never_in_errors(void **state)
{
    static const struct {
        const char *yaml;
        const char *env_name, *env_value;
        const char *key;
    } cases[] = {
        /* a bad data key: its text is not shown */
        {"oa.wx.app-id: wx\noa.wx.app-secret: TOPSECRET-s\noa.security.data-key: VE9QU0VDUkVULWRhdGEta2V5LTI0Ynl0\n",
         NULL, NULL, "oa.security.data-key"},
        {REQUIRED_YAML, "OA_SECURITY_DATA_KEY", "VE9QU0VDUkVULWRhdGEta2V5LTI0Ynl0", "oa.security.data-key"},
        {REQUIRED_YAML, "OA_SECURITY_DATA_KEY", "TOPSECRET not base64", "oa.security.data-key"},
        /* a bad app secret (control character) */
        {REQUIRED_YAML, "OA_WX_APP_SECRET", "TOPSECRET\x01-app", "oa.wx.app-secret"},
        {"oa.wx.app-id: wx\noa.wx.app-secret: \"TOPSECRET\\t\"\noa.security.data-key: " KEY_0_31 "\n", NULL, NULL,
         "oa.wx.app-secret"},
        /* a datasource url holding a password */
        {REQUIRED_YAML "oa.datasource.url: \"mysql://u:TOPSECRET@h/\\x01\"\n", NULL, NULL, "oa.datasource.url"},
        /* a placeholder in a secret */
        {REQUIRED_YAML, "OA_WX_APPSECRET", "TOPSECRET${X}", "oa.wx.app-secret"},
        /* an error on another key, with secrets all around */
        {REQUIRED_YAML "oa.datasource.url: mysql://u:TOPSECRET@h/db\n", "SERVER_PORT", "99999", "server.port"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        config_t c;
        char err[512];
        clear_env(NULL);
        if (cases[i].env_name)
            setenv(cases[i].env_name, cases[i].env_value, 1);
        assert_int_equal(load_text(&c, cases[i].yaml, err, sizeof(err)), -1);
        assert_err_names(err, cases[i].key);
        if (strstr(err, "TOPSECRET") || strstr(err, "VE9QU0VDUkVU"))
            fail_msg("case %zu leaks a secret: %s", i, err);
    }
}

static void test_error_buffer_small_or_null(void **state)
{
    config_t c;
    char err[8];
    assert_int_equal(load_text(&c, "server.port: 80x\n", err, sizeof(err)), -1);
    assert_int_equal(strlen(err), 7); /* cut, terminated */
    assert_int_equal(load_text(&c, "server.port: 80x\n", NULL, 0), -1);
}

/* ---- oa.security.previous-data-keys ---------------------------------------------------------- */

/* base64 of the bytes 200..231, and of 32 bytes 0xab */
#define KEY_200_231 "yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc="
#define KEY_AB      "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="

static void assert_key_from(const uint8_t key[32], int first)
{
    for (int i = 0; i < 32; i++)
        assert_int_equal(key[i], (uint8_t)(first + i));
}

static void test_previous_data_keys(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_int_equal(c.previous_data_keys.count, 0); /* default: none */
    config_free(&c);

    assert_int_equal(load_text(&c, REQUIRED_YAML "oa.security.previous-data-keys: \"\"\n", err, sizeof(err)), 0);
    assert_int_equal(c.previous_data_keys.count, 0); /* empty = none */
    config_free(&c);
    assert_int_equal(load_text(&c, REQUIRED_YAML "oa.security.previous-data-keys: \"  \"\n", err, sizeof(err)), 0);
    assert_int_equal(c.previous_data_keys.count, 0); /* blank = none */
    config_free(&c);

    assert_int_equal(load_text(&c,
                               REQUIRED_YAML "oa.security.previous-data-keys: \" " KEY_100_131 " , " KEY_200_231 "\"\n",
                               err, sizeof(err)),
                     0);
    assert_int_equal(c.previous_data_keys.count, 2);
    assert_key_from(c.previous_data_keys.key[0], 100);
    assert_key_from(c.previous_data_keys.key[1], 200);
    assert_key_0_31(&c);
    config_free(&c);

    /* the environment, under either spelling, wins over the file */
    setenv("OA_SECURITY_PREVIOUS_DATA_KEYS", KEY_200_231, 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML "oa.security.previous-data-keys: " KEY_100_131 "\n", err, sizeof(err)),
                     0);
    assert_int_equal(c.previous_data_keys.count, 1);
    assert_key_from(c.previous_data_keys.key[0], 200);
    config_free(&c);
    unsetenv("OA_SECURITY_PREVIOUS_DATA_KEYS");
    setenv("OA_SECURITY_PREVIOUSDATAKEYS", KEY_100_131 "," KEY_AB "," KEY_200_231, 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_int_equal(c.previous_data_keys.count, 3);
    assert_key_from(c.previous_data_keys.key[2], 200);
    config_free(&c);
}

/* Each bad list names the key and never shows a key's text, good or bad. */
static void test_previous_data_keys_refused(void **state)
{
    static const char *const values[] = {
        "VE9QU0VDUkVULWRhdGEta2V5LTI0Ynl0",              /* 24 bytes */
        KEY_100_131 ",VE9QU0VDUkVULWRhdGEta2V5LTI0Ynl0", /* the second is bad */
        KEY_100_131 ",",                                 /* an empty entry */
        "," KEY_100_131,                                 /* an empty entry first */
        KEY_100_131 ";" KEY_200_231,                     /* not a comma */
        KEY_0_31,                                        /* data-key itself */
        KEY_100_131 "," KEY_200_231 "," KEY_100_131,     /* repeated */
        KEY_100_131 "," KEY_200_231 "," KEY_AB ",eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=,"
                    "eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXk=", /* five */
    };
    static const char *const secrets[] = {"VE9QU0VDUkVU", "ZGVmZ2hp", "yMnKy8zN", "q6urq6ur",
                                          "AAECAwQF",     "eHh4eHh4", "eXl5eXl5"};
    for (size_t i = 0; i < COUNT(values); i++) {
        config_t c;
        char err[512];
        clear_env(NULL);
        setenv("OA_SECURITY_PREVIOUS_DATA_KEYS", values[i], 1);
        assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), -1);
        assert_err_names(err, "oa.security.previous-data-keys");
        for (size_t j = 0; j < COUNT(secrets); j++)
            if (strstr(err, secrets[j]) != NULL)
                fail_msg("case %zu shows a key: %s", i, err);
    }
}

/* logging.file.name: default none; Spring Boot 1.x's plain logging.file read when it is absent;
 * LOGGING_FILE_NAME wins over the file; logging.file.path (a folder) stays ignored. */
static void test_logging_file(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_null(c.log_file);
    config_free(&c);
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"logging:\n  file:\n    name: /var/log/meetoa/meetoa.log\n", "/var/log/meetoa/meetoa.log"},
        {"logging.file.name: a.log\n", "a.log"},
        {"logging:\n  file: old-spring.log\n", "old-spring.log"},
        {"logging.file: old.log\nlogging.file.name: new.log\n", "new.log"},
        {"logging:\n  file:\n    path: /var/log\n", NULL},
        {"logging:\n  file:\n    name:\n", NULL},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml), "%s%s", REQUIRED_YAML, cases[i].yaml);
        if (load_text(&c, yaml, err, sizeof(err)) != 0)
            fail_msg("case %zu: %s", i, err);
        if (cases[i].want == NULL)
            assert_null(c.log_file);
        else
            assert_string_equal(c.log_file, cases[i].want);
        config_free(&c);
    }
    setenv("LOGGING_FILE_NAME", "env.log", 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML "logging.file.name: file.log\n", err, sizeof(err)), 0);
    assert_string_equal(c.log_file, "env.log");
    config_free(&c);
    unsetenv("LOGGING_FILE_NAME");
    setenv("LOGGING_FILE", "spring1.log", 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_string_equal(c.log_file, "spring1.log");
    config_free(&c);
    unsetenv("LOGGING_FILE");
    assert_int_equal(load_text(&c, REQUIRED_YAML "logging.file.name: \"a\\tb\"\n", err, sizeof(err)), -1);
    assert_err_names(err, "logging.file.name");
}

/* ---- oa.rate-limit.* and server.trusted-proxies ------------------------------------------- */

static void test_rate_limits(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_int_equal(c.rate_login_ip, 600);
    assert_int_equal(c.rate_login_openid, 20);
    assert_int_equal(c.rate_phone_ip, 120);
    assert_int_equal(c.rate_phone_openid, 10);
    assert_int_equal(c.rate_upload_ip, 120);
    assert_int_equal(c.rate_upload_openid, 20);
    config_free(&c);

    assert_int_equal(load_text(&c,
                               REQUIRED_YAML "oa.rate-limit.login-ip: 0\noa.rate-limit.login-openid: 1000000\n"
                                             "oa.rate-limit.phone-ip: 1\noa.rate-limit.phone-openid: 2\n"
                                             "oa.rate-limit.upload-ip: 3\noa.rate-limit.upload-openid: 4\n",
                               err, sizeof(err)),
                     0);
    assert_int_equal(c.rate_login_ip, 0);
    assert_int_equal(c.rate_login_openid, 1000000);
    assert_int_equal(c.rate_phone_ip, 1);
    assert_int_equal(c.rate_phone_openid, 2);
    assert_int_equal(c.rate_upload_ip, 3);
    assert_int_equal(c.rate_upload_openid, 4);
    config_free(&c);

    setenv("OA_RATE_LIMIT_LOGIN_IP", "7", 1);
    setenv("OA_RATELIMIT_UPLOADOPENID", "0", 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML "oa.rate-limit.login-ip: 5\n", err, sizeof(err)), 0);
    assert_int_equal(c.rate_login_ip, 7);
    assert_int_equal(c.rate_upload_openid, 0);
    config_free(&c);
    unsetenv("OA_RATE_LIMIT_LOGIN_IP");
    unsetenv("OA_RATELIMIT_UPLOADOPENID");

    static const char *const bad[] = {"login-ip: -1",      "login-openid: 1000001", "phone-ip: ten",
                                      "phone-openid: 1.5", "upload-ip: \"\"",       "upload-openid: 1e3"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        char yaml[512], key[64];
        snprintf(yaml, sizeof(yaml), REQUIRED_YAML "oa.rate-limit.%s\n", bad[i]);
        snprintf(key, sizeof(key), "oa.rate-limit.%.*s", (int)(strchr(bad[i], ':') - bad[i]), bad[i]);
        if (load_text(&c, yaml, err, sizeof(err)) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_err_names(err, key);
    }
}

static void test_trusted_proxies(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_int_equal(c.trusted_proxies.n, 0);
    config_free(&c);

    assert_int_equal(
        load_text(&c, REQUIRED_YAML "server.trusted-proxies: \"127.0.0.1, 10.0.0.0/8, ::1\"\n", err, sizeof(err)), 0);
    assert_int_equal(c.trusted_proxies.n, 3);
    ip_addr_t in, out;
    assert_true(ip_addr_parse("10.20.30.40", 11, &in));
    assert_true(ip_addr_parse("11.0.0.1", 8, &out));
    assert_true(ip_ranges_contains(&c.trusted_proxies, &in));
    assert_false(ip_ranges_contains(&c.trusted_proxies, &out));
    config_free(&c);
    assert_null(c.trusted_proxies.v); /* freed */

    setenv("SERVER_TRUSTED_PROXIES", "192.168.0.0/16", 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML "server.trusted-proxies: 127.0.0.1\n", err, sizeof(err)), 0);
    assert_int_equal(c.trusted_proxies.n, 1);
    assert_int_equal(c.trusted_proxies.v[0].bits, 16);
    config_free(&c);
    setenv("SERVER_TRUSTED_PROXIES", "", 1); /* empty: none */
    assert_int_equal(load_text(&c, REQUIRED_YAML "server.trusted-proxies: 127.0.0.1\n", err, sizeof(err)), 0);
    assert_int_equal(c.trusted_proxies.n, 0);
    config_free(&c);
    unsetenv("SERVER_TRUSTED_PROXIES");

    static const char *const bad[] = {"\"127.0.0.1, 10.0.0.1/8\"", "localhost", "\"127.0.0.1,\"", "10.0.0.0/33",
                                      "\"::1 ::2\""};
    for (size_t i = 0; i < COUNT(bad); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml), REQUIRED_YAML "server.trusted-proxies: %s\n", bad[i]);
        if (load_text(&c, yaml, err, sizeof(err)) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_err_names(err, "server.trusted-proxies");
        assert_non_null(strstr(err, " line "));
    }
    assert_int_equal(
        load_text(&c, REQUIRED_YAML "server.trusted-proxies: \"127.0.0.1, 10.0.0.1/8\"\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"10.0.0.1/8\" has host bits set"));
}

static void test_connection_limits(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_int_equal(c.max_connections, 10000);
    assert_int_equal(c.request_timeout_ms, 10000);
    assert_int_equal(c.idle_timeout_ms, 30000);
    config_free(&c);

    assert_int_equal(load_text(&c,
                               REQUIRED_YAML "server:\n  max-connections: 1\n  request-timeout-ms: 600000\n"
                                             "  idle-timeout-ms: 100\n",
                               err, sizeof(err)),
                     0);
    assert_int_equal(c.max_connections, 1);
    assert_int_equal(c.request_timeout_ms, 600000);
    assert_int_equal(c.idle_timeout_ms, 100);
    config_free(&c);

    setenv("SERVER_MAX_CONNECTIONS", "1000000", 1);
    setenv("SERVER_REQUESTTIMEOUTMS", "100", 1);
    setenv("SERVER_IDLE_TIMEOUT_MS", "3600000", 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML "server.max-connections: 5\n", err, sizeof(err)), 0);
    assert_int_equal(c.max_connections, 1000000);
    assert_int_equal(c.request_timeout_ms, 100);
    assert_int_equal(c.idle_timeout_ms, 3600000);
    config_free(&c);
    unsetenv("SERVER_MAX_CONNECTIONS");
    unsetenv("SERVER_REQUESTTIMEOUTMS");
    unsetenv("SERVER_IDLE_TIMEOUT_MS");

    static const char *const bad[] = {
        "max-connections: 0",  "max-connections: 1000001", "request-timeout-ms: 99", "request-timeout-ms: 600001",
        "idle-timeout-ms: 99", "idle-timeout-ms: 3600001", "idle-timeout-ms: 1s"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        char yaml[512], key[64];
        snprintf(yaml, sizeof(yaml), REQUIRED_YAML "server.%s\n", bad[i]);
        snprintf(key, sizeof(key), "server.%.*s", (int)(strchr(bad[i], ':') - bad[i]), bad[i]);
        if (load_text(&c, yaml, err, sizeof(err)) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_err_names(err, key);
    }
}

/* oa.redis: off by default; the URL checked at load (redis/redis_url.h), a secret in errors; the environment. */
static void test_redis_keys(void **state)
{
    config_t c;
    char err[256];
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_null(c.redis_url);
    assert_int_equal(c.redis_timeout_ms, 250);
    config_free(&c);
    assert_int_equal(
        load_text(&c, REQUIRED_YAML "oa.redis.url: redis://:hunter2@10.0.0.20:6380/2\noa.redis.timeout-ms: 40\n", err,
                  sizeof(err)),
        0);
    assert_string_equal(c.redis_url, "redis://:hunter2@10.0.0.20:6380/2");
    assert_int_equal(c.redis_timeout_ms, 40);
    config_free(&c);
    static const char *const bad[] = {"redis://:hunter2@h:99999", "rediss://:hunter2@h", "http://hunter2"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "%soa.redis.url: \"%s\"\n", REQUIRED_YAML, bad[i]);
        assert_int_equal(load_text(&c, yaml, err, sizeof(err)), -1);
        assert_err_names(err, "oa.redis.url");
        assert_null(strstr(err, "hunter2"));
    }
    assert_int_equal(load_text(&c, REQUIRED_YAML "oa.redis.timeout-ms: 5\n", err, sizeof(err)), -1);
    assert_err_names(err, "oa.redis.timeout-ms");
    setenv("OA_REDIS_URL", "unix:///run/redis.sock?db=1", 1);
    assert_int_equal(load_text(&c, REQUIRED_YAML, err, sizeof(err)), 0);
    assert_string_equal(c.redis_url, "unix:///run/redis.sock?db=1");
    config_free(&c);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, clear_env)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_file_values),
        T(test_spring_shaped_file),
        T(test_no_file_environment_only),
        T(test_missing_file),
        T(test_syntax_error_names_line),
        T(test_env_overrides_file),
        T(test_env_both_spellings),
        T(test_env_spellings_must_agree),
        T(test_env_bad_value_names_variable),
        T(test_bad_values_name_their_key),
        T(test_bounds_accepted),
        T(test_string_rules_accepted),
        T(test_issue3_keys),
        T(test_subscribe_keys),
        T(test_unknown_keys_refused),
        T(test_other_sections_ignored),
        T(test_repeated_key_refused),
        T(test_required_keys),
        T(test_secrets_never_in_errors),
        T(test_error_buffer_small_or_null),
        T(test_rate_limits),
        T(test_trusted_proxies),
        T(test_previous_data_keys),
        T(test_previous_data_keys_refused),
        T(test_logging_file),
        T(test_connection_limits),
        T(test_redis_keys),
    };
    return cmocka_run_group_tests(tests, clear_env, clear_env);
}
