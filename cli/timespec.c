/*
 * cli/timespec.c: parsing the times and start positions of cli/timespec.h.
 *
 * Owns: the accepted spellings and their meaning. Must not know: what the caller does with
 * the result. Dates are converted with Howard Hinnant's days_from_civil, so nothing depends
 * on the local time zone or the C library's notion of it.
 */
#include "cli/timespec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
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

int64_t timespec_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                   /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int64_t *v)
{
	int64_t x = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int64_t m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

static int parse_rfc3339(const char *s, int64_t *ms, char *why, size_t why_len)
{
	const char *p = s;
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0, off_min = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return fail(why, why_len, "'%s' is not a time (YYYY-MM-DDTHH:MM:SSZ)", s);
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return fail(why, why_len, "'%s': no such date", s);
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return fail(why, why_len, "'%s': expected 'T' after the date", s);
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return fail(why, why_len, "'%s': expected HH:MM after the date", s);
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return fail(why, why_len, "'%s': expected seconds", s);
		}
		if (*p == '.' || *p == ',') {
			p++;
			int n = 0;
			int64_t scale = 100;
			for (; isdigit((unsigned char)*p); p++, n++) {
				frac_ms += (*p - '0') * scale;
				scale /= 10;
			}
			if (n == 0)
				return fail(why, why_len, "'%s': expected digits after '.'", s);
		}
		if (h > 23 || mi > 59 || sec > 60)
			return fail(why, why_len, "'%s': no such time of day", s);
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1;
			int64_t oh, om = 0;
			if (!digits(&p, 2, &oh))
				return fail(why, why_len, "'%s': expected an offset +HH:MM", s);
			if (*p == ':')
				p++;
			if (*p && !digits(&p, 2, &om))
				return fail(why, why_len, "'%s': expected an offset +HH:MM", s);
			if (oh > 23 || om > 59)
				return fail(why, why_len, "'%s': no such offset", s);
			off_min = sign * (oh * 60 + om);
		} else {
			return fail(why, why_len, "'%s': give the zone: Z or an offset like +01:00",
			            s);
		}
	}
	if (*p)
		return fail(why, why_len, "'%s': unexpected '%s' at the end", s, p);
	int64_t days = timespec_days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off_min * 60;
	*ms = secs * 1000 + frac_ms;
	return 0;
}

static int parse_relative(const char *s, int64_t now_ms, int64_t *ms, char *why, size_t why_len)
{
	const char *p = s + 1;
	int64_t n = 0;
	if (!isdigit((unsigned char)*p))
		return fail(why, why_len, "'%s' is not a time", s);
	for (; isdigit((unsigned char)*p); p++) {
		if (n > INT64_MAX / 10 - 10)
			return fail(why, why_len, "'%s' is too far back", s);
		n = n * 10 + (*p - '0');
	}
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 },      { "s", 1000 },     { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 }, { "w", 604800000 } };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		if (n > INT64_MAX / units[i].ms)
			return fail(why, why_len, "'%s' is too far back", s);
		int64_t back = n * units[i].ms;
		*ms = now_ms - back > 0 ? now_ms - back : 0;
		return 0;
	}
	return fail(why, why_len, "'%s': the unit is one of ms, s, m, h, d, w", s);
}

int timespec_parse(const char *s, int64_t now_ms, int64_t *ms, char *why, size_t why_len)
{
	if (!s || !*s)
		return fail(why, why_len, "an empty time");
	if (*s == '-')
		return parse_relative(s, now_ms, ms, why, why_len);
	size_t n = strspn(s, "0123456789");
	if (n == strlen(s)) {
		if (n > 15)
			return fail(why, why_len, "'%s' is too large for a time in ms", s);
		int64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (s[i] - '0');
		*ms = v;
		return 0;
	}
	return parse_rfc3339(s, ms, why, why_len);
}

int timespec_parse_start(const char *s, int64_t now_ms, struct tape_start *out, char *why,
                         size_t why_len)
{
	if (!s || !*s)
		return fail(why, why_len, "an empty start");
	if (!strcmp(s, "beginning") || !strcmp(s, "earliest")) {
		*out = (struct tape_start){ TAPE_START_BEGINNING, 0 };
		return 0;
	}
	if (!strcmp(s, "end") || !strcmp(s, "latest")) {
		*out = (struct tape_start){ TAPE_START_END, 0 };
		return 0;
	}
	if (*s == '@' || (*s == 's' && s[1] == '@')) { /* kcat writes s@TIME */
		int64_t ms;
		int rc = timespec_parse(s + (*s == '@' ? 1 : 2), now_ms, &ms, why, why_len);
		if (rc < 0)
			return rc;
		*out = (struct tape_start){ TAPE_START_TIME, ms };
		return 0;
	}
	const char *d = *s == '-' ? s + 1 : s;
	size_t n = strspn(d, "0123456789");
	if (n == 0 || d[n] || n > 18)
		return fail(why, why_len, "'%s' is not a start: beginning, end, N, -N or @TIME", s);
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (d[i] - '0');
	*out = (struct tape_start){ *s == '-' ? TAPE_START_END_MINUS : TAPE_START_OFFSET, v };
	return 0;
}
