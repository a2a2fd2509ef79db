/* Unit tests of the plugin host (src/plugin.c, src/plugin_lib.c):
 * loading and its errors, the sandbox (each forbidden thing tried), the
 * instruction budget, the memory ceiling, error isolation, the back-off,
 * rate-limited logs, init with the config, and the mkt library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hash.h"
#include "plugin.h"
#include "plugin_fixture.h"

#define S(lit)  lit, sizeof(lit) - 1


/* --- loading ------------------------------------------------------------ */

static void
test_a_plugin_is_named_after_its_file(void **state)
{
    mkt_plugins_t  *h;

    h = host_with("/etc/nginx/plugins/rfm.lua",
                  "return { attributes = function(ctx) end }");
    assert_int_equal(mkt_plugins_count(h), 1);
    assert_string_equal(mkt_plugins_name(h, 0), "rfm");
    assert_int_equal(mkt_plugins_hooks(h), MKT_PLUGIN_HOOK(ATTRIBUTES));
    mkt_plugins_free(h);
}


static void
test_a_name_field_names_the_plugin(void **state)
{
    mkt_plugins_t  *h;

    h = host_with("p.lua", "return { name = 'lifecycle', event = print,\n"
                           "  choose = function() end }");
    assert_string_equal(mkt_plugins_name(h, 0), "lifecycle");
    assert_int_equal(mkt_plugins_hooks(h),
                     MKT_PLUGIN_HOOK(EVENT) | MKT_PLUGIN_HOOK(CHOOSE));
    mkt_plugins_free(h);
}


/* A misspelt hook loads (it may be a helper), with a warning naming it;
 * data and hooks make none. */
static void
test_a_function_that_is_no_hook_is_warned_of(void **state)
{
    char            err[512];
    mkt_plugins_t  *h;

    h = new_host();
    assert_int_equal(mkt_plugins_load(h, "p.lua",
                         S("return { atributes = function() end,\n"
                           "  choose = function() end }"),
                         err, sizeof(err)), 0);
    assert_string_equal(err, "p.lua: \"atributes\" is a function but no "
                        "hook (init, attributes, choose, event): it is "
                        "never called");
    assert_int_equal(mkt_plugins_hooks(h), MKT_PLUGIN_HOOK(CHOOSE));

    memset(err, 'x', sizeof(err));
    assert_int_equal(mkt_plugins_load(h, "q.lua",
                         S("return { version = 2, [1] = print,\n"
                           "  event = function() end }"),
                         err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(mkt_plugins_count(h), 2);
    mkt_plugins_free(h);
}


static void
check_load_fails(const char *path, const char *src, const char *want)
{
    char            err[512];
    mkt_plugins_t  *h;

    h = new_host();
    assert_int_equal(mkt_plugins_load(h, path, src, strlen(src), err,
                                      sizeof(err)), -1);
    if (strstr(err, want) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    }
    assert_int_equal(mkt_plugins_count(h), 0);
    mkt_plugins_free(h);
}


static void
test_a_syntax_error_names_file_and_line(void **state)
{
    check_load_fails("/etc/nginx/bad.lua", "local x = 1\nlocal y = = 2\n",
                     "/etc/nginx/bad.lua:2: unexpected symbol near '='");
}


static void
test_a_runtime_error_at_load_names_file_and_line(void **state)
{
    check_load_fails("/p/boom.lua", "\n\nerror('no')\nreturn {}",
                     "/p/boom.lua:3: no");
}


static void
test_bytecode_is_refused(void **state)
{
    check_load_fails("b.lua", "\x1bLJ\x02\x00", "b.lua: bytecode is not "
                     "allowed");
}


static void
test_a_plugin_must_return_a_table_of_functions(void **state)
{
    check_load_fails("n.lua", "return 42", "n.lua: the plugin returns "
                     "number, not a table of hooks");
    check_load_fails("n.lua", "return { attributes = 'x' }",
                     "hook \"attributes\" is a string, not a function");
    check_load_fails("n.lua", "return { name = 'a b' }",
                     "the plugin's name must be");
}


static void
test_two_plugins_may_not_share_a_name(void **state)
{
    char            err[256];
    mkt_plugins_t  *h;

    h = host_with("a/x.lua", "return {}");
    assert_int_equal(mkt_plugins_load(h, "b/x.lua", "return {}", 9, err,
                                      sizeof(err)), -1);
    assert_string_equal(err, "b/x.lua: a plugin named \"x\" is already "
                        "loaded");
    mkt_plugins_free(h);
}


static void
test_a_top_level_loop_fails_the_load(void **state)
{
    check_load_fails("loop.lua", "while true do end",
                     "loop.lua: instruction budget exceeded");
}


/* --- the sandbox -------------------------------------------------------- */

/* src as the body of an attributes hook fails with an error containing
 * want, counted as an error; the host stays usable. */
static void
check_refused(const char *body, const char *want)
{
    char            src[1024];
    mkt_plugins_t  *h;
    mkt_val_t       v;

    snprintf(src, sizeof(src), "return { attributes = function(ctx)\n%s\n"
             "return { ok = 'yes' } end }", body);
    h = host_with("sb.lua", src);

    v = run_attributes(h);
    assert_int_equal(v.len, 0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 1);
    assert_int_equal(counted[0][MKT_PLUGIN_C_errors], 1);
    if (!logged(want)) {
        fail_msg("%s: no log line with \"%s\" (got \"%s\")", body, want,
                 nlog ? log_lines[0] : "");
    }
    mkt_plugins_free(h);
}


static void
test_io_is_refused(void **state)
{
    check_refused("io.open('/etc/passwd')", "io is not allowed in plugins");
    check_refused("_G.io.write('x')", "io is not allowed in plugins");
}


static void
test_os_execute_and_exit_are_refused(void **state)
{
    check_refused("os.execute('touch /tmp/mkt-pwned')",
                  "os.execute is not allowed in plugins");
    check_refused("os.exit(1)", "os.exit is not allowed in plugins");
    check_refused("os.getenv('HOME')", "os.getenv is not allowed");
    check_refused("os.remove('/tmp/x')", "os.remove is not allowed");
}


static void
test_require_ffi_and_package_are_refused(void **state)
{
    check_refused("local ffi = require('ffi')",
                  "require is not allowed in plugins");
    check_refused("ffi.C.abort()", "ffi is not allowed in plugins");
    check_refused("package.loadlib('libc.so.6', 'system')",
                  "package is not allowed in plugins");
    check_refused("dofile('/etc/passwd')", "dofile is not allowed");
    check_refused("loadfile('/etc/passwd')", "loadfile is not allowed");
}


static void
test_debug_jit_and_environments_are_refused(void **state)
{
    check_refused("debug.getinfo(1)", "debug is not allowed in plugins");
    check_refused("debug.sethook()", "debug is not allowed in plugins");
    check_refused("jit.on()", "jit is not allowed in plugins");
    check_refused("getfenv(0).io = 1", "getfenv is not allowed");
    check_refused("setfenv(1, {})", "setfenv is not allowed");
    check_refused("newproxy(true)", "newproxy is not allowed");
    check_refused("collectgarbage('stop')",
                  "collectgarbage(\"stop\") is not allowed");
}


static void
test_string_dump_and_bytecode_loads_are_refused(void **state)
{
    check_refused("string.dump(function() end)",
                  "string.dump is not allowed in plugins");
    check_refused("('').dump(function() end)", "attempt to call");
    check_refused("assert(load(string.char(27) .. 'LJ\\2'))",
                  "bytecode is not allowed in plugins");
    check_refused("assert(loadstring(string.char(27)))",
                  "bytecode is not allowed in plugins");
}


static void
test_loaded_text_runs_in_the_sandbox(void **state)
{
    check_refused("load('return os')().execute('id')",
                  "os.execute is not allowed");
    check_refused("loadstring('io.open(\"/etc/passwd\")')()",
                  "io is not allowed");
}


/* a backtracking pattern would run in C for seconds, out of the budget's
 * reach: refused by its worst case; simple and plain ones still work */
static void
test_costly_patterns_are_refused(void **state)
{
    check_refused("local s = ('x'):rep(256)\nlocal _ = s:find('.-.-.-b')",
                  "pattern too costly: 3 quantifiers over 256 bytes");
    check_refused("local _ = string.match(('a'):rep(300), 'a*a*b')",
                  "pattern too costly: 2 quantifiers over 300 bytes");
    check_refused("for w in ('ab'):rep(3000):gmatch('a+b') do end",
                  "pattern too costly: 1 quantifiers over 6000 bytes");
    check_refused("assert(('/shop/vip/x'):match('^/(%w+)/(%w+)') == 'shop'"
                  " and ('a.-b'):find('.-', 1, true) == 2"
                  " and ('[*]'):find('[*+-]') == 2"
                  " and select(2, ('aaa'):gsub('a', 'b')) == 3)\n"
                  "error('all ran')", "all ran");
}


static void
test_the_string_metatable_is_hidden(void **state)
{
    check_refused("getmetatable('').__index.rep = nil",
                  "attempt to index a boolean value");
}


static void
test_ctx_is_read_only(void **state)
{
    check_refused("ctx.vid = 'forged'", "ctx is read-only");
}


static void
test_globals_do_not_leak_between_plugins(void **state)
{
    char            err[256];
    const char     *b;
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("a.lua", "string.upper = nil; shared = 'a'\n"
                           "return {}");
    b = "return { attributes = function(ctx)\n"
        "  return { up = string.upper('x'), g = tostring(shared) } end }";
    assert_int_equal(mkt_plugins_load(h, "b.lua", b, strlen(b), err,
                                      sizeof(err)), 0);
    v = run_attributes(h);
    assert_string_equal(attr_str(&v, "up"), "X");
    assert_string_equal(attr_str(&v, "g"), "nil");
    mkt_plugins_free(h);
}


/* --- budget, memory, errors --------------------------------------------- */

/* body in an attributes hook aborts with counter c; the next plugin still
 * runs, and so does this one next time. */
static void
check_aborted(const char *body, mkt_plugin_counter_e c, const char *want)
{
    char            src[1024], err[256];
    const char     *ok;
    mkt_val_t       v;
    mkt_plugins_t  *h;

    snprintf(src, sizeof(src), "local n = 0\n"
             "return { attributes = function(ctx)\n n = n + 1\n"
             " if n == 2 then return { second = 'ran' } end\n%s\nend }",
             body);
    h = host_with("x.lua", src);
    ok = "return { attributes = function() return { after = 'ok' } end }";
    assert_int_equal(mkt_plugins_load(h, "ok.lua", ok, strlen(ok), err,
                                      sizeof(err)), 0);

    v = run_attributes(h);
    assert_int_equal(mkt_plugins_stats(h, 0)[c], 1);
    assert_int_equal(v.len, 1);
    assert_string_equal(attr_str(&v, "after"), "ok");
    if (!logged(want)) {
        fail_msg("no log line with \"%s\" (got \"%s\")", want,
                 nlog ? log_lines[0] : "");
    }

    v = run_attributes(h);
    assert_string_equal(attr_str(&v, "second"), "ran");
    assert_true(mkt_plugins_memory(h) < 4 * 1024 * 1024);
    mkt_plugins_free(h);
}


static void
test_an_infinite_loop_stops_at_the_budget(void **state)
{
    check_aborted("while true do end", MKT_PLUGIN_C_budget,
                  "plugin x: attributes() failed: instruction budget "
                  "exceeded");
}


static void
test_pcall_cannot_swallow_the_budget(void **state)
{
    check_aborted("while true do pcall(function() while true do end end) "
                  "end", MKT_PLUGIN_C_budget, "instruction budget");
    check_aborted("while true do xpcall(function() while true do end end,"
                  " function() while true do end end) end",
                  MKT_PLUGIN_C_budget, "instruction budget");
    check_aborted("local co = coroutine.create(function() while true do "
                  "end end)\nwhile true do coroutine.resume(co) end",
                  MKT_PLUGIN_C_budget, "instruction budget");
}


static void
test_allocating_a_gigabyte_stops_at_the_ceiling(void **state)
{
    check_aborted("local t = {}\nfor i = 1, 1e9 do t[i] = "
                  "string.rep('x', 1024) .. i end", MKT_PLUGIN_C_memory,
                  "not enough memory");
    check_aborted("local s = string.rep('x', 2^30)", MKT_PLUGIN_C_memory,
                  "not enough memory");
    check_aborted("local t = {}\nwhile true do t[#t + 1] = "
                  "select(2, pcall(string.rep, #t .. 'y', 2^19)) end", MKT_PLUGIN_C_memory,
                  "not enough memory");
}


static void
test_errors_and_deep_recursion_are_counted_errors(void **state)
{
    check_aborted("error('boom')", MKT_PLUGIN_C_errors,
                  "plugin x: attributes() failed: x.lua:5: boom");
    check_aborted("error({})", MKT_PLUGIN_C_errors,
                  "error object is a table value");
    check_aborted("local function f() return 1 + f() end\nreturn f()",
                  MKT_PLUGIN_C_errors, "stack overflow");
    check_aborted("local x = nil; return x.y", MKT_PLUGIN_C_errors,
                  "attempt to index local 'x'");
}


static void
test_a_failing_plugin_is_backed_off_then_retried(void **state)
{
    mkt_plugins_t  *h;

    h = host_with("f.lua", "calls = 0\nreturn { attributes = function()\n"
                           "calls = calls + 1; error('always') end }");

    run_attributes(h);
    run_attributes(h);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_disabled], 0);
    run_attributes(h);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 3);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_disabled], 1);
    assert_true(logged("plugin f: disabled for 1000 ms after 3 consecutive "
                       "failures"));

    /* disabled: not called */
    fake_now += 999;
    run_attributes(h);
    run_attributes(h);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 3);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_skipped], 2);
    assert_int_equal(counted[0][MKT_PLUGIN_C_skipped], 2);

    /* one trial after the back-off; failing, disabled again at once */
    fake_now += 2;
    run_attributes(h);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 4);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_disabled], 2);
    run_attributes(h);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_skipped], 3);
    mkt_plugins_free(h);
}


static void
test_a_success_resets_the_failure_count(void **state)
{
    int             i;
    mkt_plugins_t  *h;

    h = host_with("alt.lua", "local n = 0\n"
                  "return { attributes = function()\n"
                  "n = n + 1; if n % 2 == 0 then error('odd') end end }");
    for (i = 0; i < 10; i++) {
        run_attributes(h);
    }
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 5);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_disabled], 0);
    mkt_plugins_free(h);
}


static void
test_logs_are_rate_limited_per_plugin(void **state)
{
    mkt_plugins_t  *h;

    h = host_with("chatty.lua", "return { attributes = function()\n"
                  "for i = 1, 25 do mkt.log('line', i, true, nil) end\n"
                  "mkt.warn('\\27[31mred') end }");
    run_attributes(h);
    assert_int_equal(nlog, 10);
    assert_string_equal(log_lines[0], "plugin chatty: line 1 true nil");
    assert_int_equal(log_levels[0], MKT_PLUGIN_LOG_INFO);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_log_suppressed],
                     16);

    fake_now += 1000;
    nlog = 0;
    run_attributes(h);
    assert_string_equal(log_lines[0], "plugin chatty: 16 log lines "
                        "suppressed");
    assert_int_equal(log_levels[0], MKT_PLUGIN_LOG_WARN);
    mkt_plugins_free(h);
}


static void
test_control_characters_do_not_reach_the_log(void **state)
{
    mkt_plugins_t  *h;

    h = host_with("c.lua", "return { attributes = function()\n"
                  "mkt.warn('a\\27[31m\\nb') end }");
    run_attributes(h);
    assert_string_equal(log_lines[0], "plugin c: a[31mb");
    assert_int_equal(log_levels[0], MKT_PLUGIN_LOG_WARN);
    mkt_plugins_free(h);
}


/* --- init --------------------------------------------------------------- */

static void
test_init_gets_the_plugins_own_config(void **state)
{
    char            err[256];
    json_t         *section;
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("rfm.lua", "local days\nreturn {\n"
                  "init = function(c) days = c.dormant_days end,\n"
                  "attributes = function() return { d = days } end }");
    section = json_loads("{\"rfm\": {\"dormant_days\": 90}, \"other\": 1}",
                         0, NULL);
    assert_int_equal(mkt_plugins_init(h, section, err, sizeof(err)), 0);

    v = run_attributes(h);
    assert_int_equal(mkt_val_get(&v, "d", 1)->type, MKT_VAL_NUMBER);
    assert_true(mkt_val_get(&v, "d", 1)->u.number == 90);
    json_decref(section);
    mkt_plugins_free(h);
}


static void
test_init_without_config_gets_an_empty_table(void **state)
{
    char            err[256];
    mkt_plugins_t  *h;

    h = host_with("e.lua", "return { init = function(c)\n"
                  "assert(type(c) == 'table' and next(c) == nil) end }");
    assert_int_equal(mkt_plugins_init(h, NULL, err, sizeof(err)), 0);
    mkt_plugins_free(h);
}


static void
test_a_failing_init_disables_the_plugin_for_good(void **state)
{
    char            err[256];
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("bad.lua", "return { init = function(c)\n"
                  "error('dormant_days missing') end,\n"
                  "attributes = function() return { x = 1 } end }");
    assert_int_equal(mkt_plugins_init(h, NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "plugin bad: init() failed: bad.lua:2: "
                        "dormant_days missing");
    v = run_attributes(h);
    assert_int_equal(v.len, 0);
    assert_int_equal(mkt_plugins_stats(h, 0)[MKT_PLUGIN_C_errors], 1);
    mkt_plugins_free(h);
}


/* --- the mkt library ---------------------------------------------------- */

static void
test_mkt_hashes_as_experiments_do(void **state)
{
    char            want[32];
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("hash.lua", "return { attributes = function() return {\n"
                  "f = string.format('%d', mkt.fnv32a('hello')),\n"
                  "g = string.format('%.4f', mkt.hash('seed', 'vid1')),\n"
                  "g1 = string.format('%.3f', mkt.hash('seed', 'vid1', 1)),\n"
                  "bad = tostring(mkt.hash('s', 'v', 9)) } end }");
    v = run_attributes(h);

    snprintf(want, sizeof(want), "%u", mkt_fnv32a(MKT_FNV32A_INIT, "hello",
                                                  5));
    assert_string_equal(attr_str(&v, "f"), want);
    assert_string_equal(want, "1335831723");
    snprintf(want, sizeof(want), "%.4f", mkt_hash("seed", 4, "vid1", 4, 2));
    assert_string_equal(attr_str(&v, "g"), want);
    snprintf(want, sizeof(want), "%.3f", mkt_hash("seed", 4, "vid1", 4, 1));
    assert_string_equal(attr_str(&v, "g1"), want);
    assert_string_equal(attr_str(&v, "bad"), "nil");
    mkt_plugins_free(h);
}


static void
test_mkt_json_round_trips(void **state)
{
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("j.lua", "return { attributes = function()\n"
                  "local d = assert(mkt.json_decode("
                  "'{\"a\":[1,2.5,{\"b\":null}],\"s\":\"\\\\u00e9x\",\"t\":true}'))\n"
                  "return {\n"
                  " n = d.a[2], isnull = d.a[3].b == mkt.null, s = d.s,\n"
                  " arr = mkt.json_encode({1, 'two', false}),\n"
                  " obj = mkt.json_encode({k = mkt.null}),\n"
                  " num = mkt.json_encode(0.1),\n"
                  " str = mkt.json_encode('q\"\\n') } end }");
    v = run_attributes(h);
    assert_true(mkt_val_get(&v, "n", 1)->u.number == 2.5);
    assert_int_equal(mkt_val_get(&v, "isnull", 6)->u.boolean, 1);
    assert_string_equal(attr_str(&v, "s"), "\xc3\xa9x");
    assert_string_equal(attr_str(&v, "arr"), "[1,\"two\",false]");
    assert_string_equal(attr_str(&v, "obj"), "{\"k\":null}");
    assert_string_equal(attr_str(&v, "num"), "0.1");
    assert_string_equal(attr_str(&v, "str"), "\"q\\\"\\n\"");
    mkt_plugins_free(h);
}


static void
test_mkt_json_refuses_what_it_cannot_bound(void **state)
{
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("jb.lua", "return { attributes = function()\n"
                  "local t = {}; t.self = t\n"
                  "local _, e1 = mkt.json_encode(t)\n"
                  "local _, e2 = mkt.json_decode('{\"a\":1,}')\n"
                  "local _, e3 = mkt.json_decode(string.rep('[', 40))\n"
                  "local _, e4 = mkt.json_decode('\"' .. string.rep('x', 70000)"
                  " .. '\"')\n"
                  "local _, e5 = mkt.json_encode({print})\n"
                  "local _, e6 = mkt.json_encode(string.rep('x', 70000))\n"
                  "return { e1 = e1, e2 = e2, e3 = e3, e4 = e4, e5 = e5,\n"
                  "         e6 = e6 } end }");
    v = run_attributes(h);
    assert_string_equal(attr_str(&v, "e1"), "nested too deep (or a cycle)");
    assert_non_null(strstr(attr_str(&v, "e2"), "at byte 7"));
    assert_non_null(attr_str(&v, "e3"));
    assert_string_equal(attr_str(&v, "e4"), "longer than the JSON bound");
    assert_string_equal(attr_str(&v, "e5"), "a value JSON cannot hold");
    assert_string_equal(attr_str(&v, "e6"), "longer than the JSON bound");
    mkt_plugins_free(h);
}


static void
test_mkt_time_is_the_hosts_clock(void **state)
{
    mkt_val_t       v;
    mkt_plugins_t  *h;

    h = host_with("t.lua", "return { attributes = function()\n"
                  "return { now = mkt.time(), d = os.date('!%Y-%m-%d', "
                  "mkt.time()) } end }");
    v = run_attributes(h);
    assert_true(mkt_val_get(&v, "now", 3)->u.number == 1763870000.0);
    assert_string_equal(attr_str(&v, "d"), "2025-11-23");
    mkt_plugins_free(h);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_a_plugin_is_named_after_its_file),
        cmocka_unit_test(test_a_name_field_names_the_plugin),
        cmocka_unit_test(test_a_function_that_is_no_hook_is_warned_of),
        cmocka_unit_test(test_a_syntax_error_names_file_and_line),
        cmocka_unit_test(test_a_runtime_error_at_load_names_file_and_line),
        cmocka_unit_test(test_bytecode_is_refused),
        cmocka_unit_test(test_a_plugin_must_return_a_table_of_functions),
        cmocka_unit_test(test_two_plugins_may_not_share_a_name),
        cmocka_unit_test(test_a_top_level_loop_fails_the_load),
        cmocka_unit_test(test_io_is_refused),
        cmocka_unit_test(test_os_execute_and_exit_are_refused),
        cmocka_unit_test(test_require_ffi_and_package_are_refused),
        cmocka_unit_test(test_debug_jit_and_environments_are_refused),
        cmocka_unit_test(test_string_dump_and_bytecode_loads_are_refused),
        cmocka_unit_test(test_loaded_text_runs_in_the_sandbox),
        cmocka_unit_test(test_costly_patterns_are_refused),
        cmocka_unit_test(test_the_string_metatable_is_hidden),
        cmocka_unit_test(test_ctx_is_read_only),
        cmocka_unit_test(test_globals_do_not_leak_between_plugins),
        cmocka_unit_test(test_an_infinite_loop_stops_at_the_budget),
        cmocka_unit_test(test_pcall_cannot_swallow_the_budget),
        cmocka_unit_test(test_allocating_a_gigabyte_stops_at_the_ceiling),
        cmocka_unit_test(test_errors_and_deep_recursion_are_counted_errors),
        cmocka_unit_test(test_a_failing_plugin_is_backed_off_then_retried),
        cmocka_unit_test(test_a_success_resets_the_failure_count),
        cmocka_unit_test(test_logs_are_rate_limited_per_plugin),
        cmocka_unit_test(test_control_characters_do_not_reach_the_log),
        cmocka_unit_test(test_init_gets_the_plugins_own_config),
        cmocka_unit_test(test_init_without_config_gets_an_empty_table),
        cmocka_unit_test(test_a_failing_init_disables_the_plugin_for_good),
        cmocka_unit_test(test_mkt_hashes_as_experiments_do),
        cmocka_unit_test(test_mkt_json_round_trips),
        cmocka_unit_test(test_mkt_json_refuses_what_it_cannot_bound),
        cmocka_unit_test(test_mkt_time_is_the_hosts_clock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
