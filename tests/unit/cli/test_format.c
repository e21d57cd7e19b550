/*
 * tests/unit/cli/test_format.c: the -f renderer and the --json envelope of `tape consume`
 * (cli/format.c).
 *
 * Covers: every kcat token (%s %k %t %p %o %T %h %S %K %R %%) on one record, null and empty
 * keys and values (nothing for %s/%k, -1 for %S/%K, null in JSON), headers with a null value,
 * the escapes \n \r \t \\ \xHH and an unknown escape, adjacent literals joined into one piece,
 * refusal of an unknown token and of a lone '%' at the end; JSON escaping of quotes,
 * backslashes and control bytes, valid multi-byte UTF-8 kept as is, and every kind of invalid
 * UTF-8 (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, past
 * U+10FFFF) written as \u00XX per byte.
 */
#include "cli/format.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct tape_header hdrs[] = {
	{ "h1", "one", 3 },
	{ "nul", NULL, -1 },
	{ "e", "", 0 },
};

static struct tape_message sample(void)
{
	return (struct tape_message){
		.topic = "orders",
		.partition = 3,
		.offset = 42,
		.timestamp_ms = 1764151200000,
		.key = "k1",
		.key_len = 2,
		.value = "hello",
		.value_len = 5,
		.headers = hdrs,
		.headers_count = 3,
	};
}

/* Renders m with spec; returns a malloc'd copy (NUL-terminated) and its length. */
static char *render(const char *spec, const struct tape_message *m, size_t *len)
{
	struct format f;
	char why[128];
	cr_assert_eq(format_parse(spec, &f, why, sizeof(why)), 0, "%s", why);
	struct format_out out = { 0 };
	cr_assert_eq(format_render(&f, m, &out), 0);
	format_free(&f);
	char *s = malloc(out.len + 1);
	memcpy(s, out.p ? out.p : "", out.len);
	s[out.len] = '\0';
	*len = out.len;
	free(out.p);
	return s;
}

static void expect(const char *spec, const struct tape_message *m, const char *want)
{
	size_t len;
	char *got = render(spec, m, &len);
	cr_expect_eq(len, strlen(want), "%s: got '%s', want '%s'", spec, got, want);
	cr_expect_str_eq(got, want, "%s", spec);
	free(got);
}

Test(format, every_token)
{
	struct tape_message m = sample();
	expect("%t|%p|%o|%T|%k|%s|%S|%K|%h|%%\n", &m,
	       "orders|3|42|1764151200000|k1|hello|5|2|h1=one,nul=,e=|%\n");
	expect("%s", &m, "hello");
	expect("", &m, "");
	expect("plain", &m, "plain");
}

Test(format, nulls_and_empties)
{
	struct tape_message m = sample();
	m.key = NULL;
	m.key_len = -1;
	m.value = NULL;
	m.value_len = -1;
	m.headers_count = 0;
	expect("[%k][%s][%K][%S][%h]", &m, "[][][-1][-1][]");
	m.key = "";
	m.key_len = 0;
	m.value = "";
	m.value_len = 0;
	expect("[%k][%s][%K][%S]", &m, "[][][0][0]");
}

Test(format, value_size_binary)
{
	struct tape_message m = sample();
	size_t len;
	char *got = render("%R%s", &m, &len);
	cr_assert_eq(len, 9);
	cr_expect(!memcmp(got, "\0\0\0\x05hello", 9));
	free(got);
}

Test(format, escapes)
{
	struct tape_message m = sample();
	expect("a\\tb\\nc\\rd\\\\e\\x41\\q", &m, "a\tb\nc\rd\\eAq");
	size_t len;
	char *got = render("x\\0y", &m, &len);
	cr_assert_eq(len, 3);
	cr_expect(!memcmp(got, "x\0y", 3));
	free(got);
	/* Literals around tokens become as few pieces as there are runs. */
	struct format f;
	cr_assert_eq(format_parse("ab\\ncd%s-%%-%k", &f, NULL, 0), 0);
	cr_expect_eq(f.count, 4); /* "ab\ncd", %s, "-%-", %k */
	format_free(&f);
}

Test(format, refused)
{
	struct format f;
	char why[128];
	cr_expect_eq(format_parse("%s %x", &f, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "%x"), "%s", why);
	cr_expect_eq(format_parse("abc%", &f, why, sizeof(why)), -EINVAL);
	cr_expect_eq(format_parse("\\x4", &f, why, sizeof(why)), -EINVAL);
}

static char *json(const struct tape_message *m)
{
	struct format_out out = { 0 };
	cr_assert_eq(format_render_json(m, &out), 0);
	char *s = malloc(out.len + 1);
	memcpy(s, out.p, out.len);
	s[out.len] = '\0';
	free(out.p);
	return s;
}

Test(format, json_envelope)
{
	struct tape_message m = sample();
	char *s = json(&m);
	cr_expect_str_eq(s, "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
	                    "\"timestamp\":1764151200000,\"key\":\"k1\",\"value\":\"hello\","
	                    "\"headers\":[{\"name\":\"h1\",\"value\":\"one\"},{\"name\":\"nul\","
	                    "\"value\":null},{\"name\":\"e\",\"value\":\"\"}]}\n");
	free(s);
	m.key = NULL;
	m.key_len = -1;
	m.value = NULL;
	m.value_len = -1;
	m.headers_count = 0;
	s = json(&m);
	cr_expect(strstr(s, "\"key\":null,\"value\":null,\"headers\":[]}"), "%s", s);
	free(s);
}

static void expect_json_string(const void *in, size_t len, const char *want)
{
	struct format_out out = { 0 };
	cr_assert_eq(format_json_string(in, len, &out), 0);
	cr_expect_eq(out.len, strlen(want));
	cr_expect(out.len == strlen(want) && !memcmp(out.p, want, out.len), "got '%.*s' want '%s'",
	          (int)out.len, out.p, want);
	free(out.p);
}

Test(format, json_escaping)
{
	expect_json_string("a\"b\\c", 5, "a\\\"b\\\\c");
	expect_json_string("\n\r\t\b\f\x01\x1f", 7, "\\n\\r\\t\\b\\f\\u0001\\u001f");
	expect_json_string("\0", 1, "\\u0000");
	/* Valid UTF-8 passes: é (2 bytes), € (3), 😀 (4). */
	expect_json_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
	                   "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Invalid: each offending byte as \u00XX, what follows read afresh. */
	expect_json_string("a\x80z", 3, "a\\u0080z");                   /* stray continuation */
	expect_json_string("\xc3", 1, "\\u00c3");                       /* truncated at the end */
	expect_json_string("\xe2\x82z", 3, "\\u00e2\\u0082z");          /* truncated inside */
	expect_json_string("\xc0\xaf", 2, "\\u00c0\\u00af");            /* overlong '/' */
	expect_json_string("\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080"); /* surrogate D800 */
	expect_json_string("\xf4\x90\x80\x80", 4, "\\u00f4\\u0090\\u0080\\u0080"); /* > 10FFFF */
	expect_json_string("\xff\xfe", 2, "\\u00ff\\u00fe");
}
