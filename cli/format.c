/*
 * cli/format.c: kcat-style format strings and the JSON envelope of cli/format.h.
 *
 * Owns: the token and escape syntax, how nulls and headers render, the JSON escaping of
 * arbitrary bytes. Must not know: where the output goes (the caller writes out->p).
 */
#include "cli/format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t len, const char *fmt, ...)
{
	if (why && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- the output buffer ------------------------------------------------------------------- */

static int reserve(struct format_out *o, size_t n)
{
	if (o->cap - o->len >= n)
		return 0;
	size_t cap = o->cap ? o->cap : 256;
	while (cap - o->len < n)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (!p)
		return -ENOMEM;
	o->p = p;
	o->cap = cap;
	return 0;
}

static int put(struct format_out *o, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (reserve(o, n) < 0)
		return -ENOMEM;
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

static int put_i64(struct format_out *o, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	return put(o, tmp, (size_t)n);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int add_piece(struct format *f, enum format_kind kind, size_t off, size_t len)
{
	/* Adjacent literal bytes join into one piece. */
	if (kind == FORMAT_TEXT && f->count > 0 && f->pieces[f->count - 1].kind == FORMAT_TEXT) {
		f->pieces[f->count - 1].text_len += len;
		return 0;
	}
	struct format_piece *v = realloc(f->pieces, sizeof(*v) * (f->count + 1));
	if (!v)
		return -ENOMEM;
	f->pieces = v;
	v[f->count++] = (struct format_piece){ kind, off, len };
	return 0;
}

static enum format_kind token_kind(char c)
{
	switch (c) {
	case 's':
		return FORMAT_VALUE;
	case 'k':
		return FORMAT_KEY;
	case 't':
		return FORMAT_TOPIC;
	case 'p':
		return FORMAT_PARTITION;
	case 'o':
		return FORMAT_OFFSET;
	case 'T':
		return FORMAT_TIMESTAMP;
	case 'h':
		return FORMAT_HEADERS;
	case 'S':
		return FORMAT_VALUE_SIZE;
	case 'K':
		return FORMAT_KEY_SIZE;
	case 'R':
		return FORMAT_VALUE_SIZE_BINARY;
	default:
		return FORMAT_TEXT;
	}
}

int format_parse(const char *spec, struct format *f, char *why, size_t why_len)
{
	*f = (struct format){ 0 };
	size_t n = strlen(spec);
	f->text = malloc(n + 1);
	if (!f->text)
		return -ENOMEM;
	size_t t = 0; /* bytes of f->text used */
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char ch = spec[i];
		if (ch == '%') {
			char k = spec[++i];
			if (k == '\0') {
				rc = fail(why, why_len, "the format ends with a lone '%%'");
				break;
			}
			if (k == '%') {
				f->text[t] = '%';
				rc = add_piece(f, FORMAT_TEXT, t++, 1);
				continue;
			}
			enum format_kind kind = token_kind(k);
			if (kind == FORMAT_TEXT) {
				rc = fail(why, why_len, "unknown format token '%%%c'", k);
				break;
			}
			rc = add_piece(f, kind, 0, 0);
			continue;
		}
		if (ch == '\\' && i + 1 < n) {
			char e = spec[++i];
			switch (e) {
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			case '0':
				ch = '\0';
				break;
			case 'x':
				if (i + 2 < n && hex(spec[i + 1]) >= 0 && hex(spec[i + 2]) >= 0) {
					ch = (char)(hex(spec[i + 1]) * 16 + hex(spec[i + 2]));
					i += 2;
				} else {
					rc = fail(why, why_len, "\\x needs two hex digits");
				}
				break;
			default: /* \\ and any other character: itself */
				ch = e;
				break;
			}
		}
		f->text[t] = ch;
		if (rc == 0)
			rc = add_piece(f, FORMAT_TEXT, t++, 1);
	}
	if (rc < 0)
		format_free(f);
	return rc;
}

void format_free(struct format *f)
{
	free(f->pieces);
	free(f->text);
	*f = (struct format){ 0 };
}

/* ---- rendering ---------------------------------------------------------------------------- */

static int render_headers(const struct tape_message *m, struct format_out *o)
{
	int rc = 0;
	for (int32_t i = 0; i < m->headers_count && rc == 0; i++) {
		const struct tape_header *h = &m->headers[i];
		if (i > 0)
			rc = put(o, ",", 1);
		if (rc == 0)
			rc = put(o, h->name, strlen(h->name));
		if (rc == 0)
			rc = put(o, "=", 1);
		if (rc == 0 && h->value && h->value_len > 0)
			rc = put(o, h->value, (size_t)h->value_len);
	}
	return rc;
}

int format_render(const struct format *f, const struct tape_message *m, struct format_out *o)
{
	int rc = 0;
	for (size_t i = 0; i < f->count && rc == 0; i++) {
		const struct format_piece *p = &f->pieces[i];
		switch (p->kind) {
		case FORMAT_TEXT:
			rc = put(o, f->text + p->text_off, p->text_len);
			break;
		case FORMAT_VALUE:
			if (m->value && m->value_len > 0)
				rc = put(o, m->value, (size_t)m->value_len);
			break;
		case FORMAT_KEY:
			if (m->key && m->key_len > 0)
				rc = put(o, m->key, (size_t)m->key_len);
			break;
		case FORMAT_TOPIC:
			rc = put(o, m->topic, strlen(m->topic));
			break;
		case FORMAT_PARTITION:
			rc = put_i64(o, m->partition);
			break;
		case FORMAT_OFFSET:
			rc = put_i64(o, m->offset);
			break;
		case FORMAT_TIMESTAMP:
			rc = put_i64(o, m->timestamp_ms);
			break;
		case FORMAT_HEADERS:
			rc = render_headers(m, o);
			break;
		case FORMAT_VALUE_SIZE:
			rc = put_i64(o, m->value ? m->value_len : -1);
			break;
		case FORMAT_KEY_SIZE:
			rc = put_i64(o, m->key ? m->key_len : -1);
			break;
		case FORMAT_VALUE_SIZE_BINARY: {
			uint32_t v = (uint32_t)(m->value ? m->value_len : -1);
			unsigned char be[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
				                (unsigned char)(v >> 8), (unsigned char)v };
			rc = put(o, be, 4);
			break;
		}
		}
	}
	return rc;
}

/* ---- JSON --------------------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (n bytes available), or 0 when invalid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int format_json_string(const void *src, size_t len, struct format_out *o)
{
	const unsigned char *s = src;
	size_t i = 0;
	while (i < len) {
		/* A run of bytes that need no escaping goes in one copy. */
		size_t run = i;
		while (run < len && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i && put(o, s + i, run - i) < 0)
			return -ENOMEM;
		i = run;
		if (i == len)
			break;
		unsigned char c = s[i];
		char esc[8];
		const char *e = NULL;
		size_t elen = 2;
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		default:
			break;
		}
		if (e) {
			if (put(o, e, elen) < 0)
				return -ENOMEM;
			i++;
			continue;
		}
		size_t u = c < 0x20 ? 0 : utf8_len(s + i, len - i);
		if (u > 0) {
			if (put(o, s + i, u) < 0)
				return -ENOMEM;
			i += u;
			continue;
		}
		/* A control byte, or a byte that is not valid UTF-8: \u00XX. */
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		if (put(o, esc, 6) < 0)
			return -ENOMEM;
		i++;
	}
	return 0;
}

static int json_bytes(struct format_out *o, const void *p, int32_t len)
{
	if (!p || len < 0)
		return put(o, "null", 4);
	if (put(o, "\"", 1) < 0 || format_json_string(p, (size_t)len, o) < 0 || put(o, "\"", 1) < 0)
		return -ENOMEM;
	return 0;
}

int format_render_json(const struct tape_message *m, struct format_out *o)
{
	int rc = put(o, "{\"topic\":", 9);
	if (rc == 0)
		rc = json_bytes(o, m->topic, (int32_t)strlen(m->topic));
	if (rc == 0)
		rc = put(o, ",\"partition\":", 13);
	if (rc == 0)
		rc = put_i64(o, m->partition);
	if (rc == 0)
		rc = put(o, ",\"offset\":", 10);
	if (rc == 0)
		rc = put_i64(o, m->offset);
	if (rc == 0)
		rc = put(o, ",\"timestamp\":", 13);
	if (rc == 0)
		rc = put_i64(o, m->timestamp_ms);
	if (rc == 0)
		rc = put(o, ",\"key\":", 7);
	if (rc == 0)
		rc = json_bytes(o, m->key, m->key_len);
	if (rc == 0)
		rc = put(o, ",\"value\":", 9);
	if (rc == 0)
		rc = json_bytes(o, m->value, m->value_len);
	if (rc == 0)
		rc = put(o, ",\"headers\":[", 12);
	for (int32_t i = 0; rc == 0 && i < m->headers_count; i++) {
		const struct tape_header *h = &m->headers[i];
		rc = put(o, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
		if (rc == 0)
			rc = json_bytes(o, h->name, (int32_t)strlen(h->name));
		if (rc == 0)
			rc = put(o, ",\"value\":", 9);
		if (rc == 0)
			rc = json_bytes(o, h->value, h->value ? h->value_len : -1);
		if (rc == 0)
			rc = put(o, "}", 1);
	}
	if (rc == 0)
		rc = put(o, "]}\n", 3);
	return rc;
}
