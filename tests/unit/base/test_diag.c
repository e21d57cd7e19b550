/*
 * tests/unit/base/test_diag.c: diagnostics (base/diag.h).
 *
 * A test sink captures lines; the tests check the line's shape (UTC timestamp, level, the
 * caller's file:line, the formatted text, no newline), that the sink gets the level, that
 * messages below the level are dropped, that TAPE_DIAG_LEVEL sets the first level, that
 * oversized messages and file names are cut to one bounded line, and that diag_set_sink(NULL)
 * sends lines back to stderr (captured by pointing fd 2 at a temp file). Criterion runs each
 * test in its own process, so the level and sink set by one test do not leak into another.
 */
#include "base/diag.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct capture {
	int count;
	enum diag_level level;
	char line[2048];
};

static void capture_sink(enum diag_level level, const char *line, void *arg)
{
	struct capture *cap = arg;
	cap->count++;
	cap->level = level;
	snprintf(cap->line, sizeof(cap->line), "%s", line);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ " at the start of the line. */
static bool has_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	}
	return true;
}

Test(diag, sink_gets_one_formatted_line)
{
	struct capture cap = { 0 };
	diag_set_sink(capture_sink, &cap);
	diag_set_level(DIAG_DEBUG);
	int line = __LINE__ + 1;
	diag_info("opened %s with %d segments", "p-0", 42);
	cr_assert_eq(cap.count, 1);
	cr_assert_eq(cap.level, DIAG_INFO);
	cr_assert(has_timestamp(cap.line), "line: %s", cap.line);
	char want[256];
	snprintf(want, sizeof(want), "INFO  %s:%d opened p-0 with 42 segments", __FILE__, line);
	cr_assert_str_eq(cap.line + 25, want);
	cr_assert_null(strchr(cap.line, '\n'), "the sink gets the line without its newline");
}

Test(diag, each_level_is_named)
{
	struct capture cap = { 0 };
	diag_set_sink(capture_sink, &cap);
	diag_set_level(DIAG_DEBUG);
	diag_debug("d");
	cr_assert_eq(cap.level, DIAG_DEBUG);
	cr_assert_not_null(strstr(cap.line, " DEBUG "));
	diag_info("i");
	cr_assert_eq(cap.level, DIAG_INFO);
	cr_assert_not_null(strstr(cap.line, " INFO  "));
	diag_warn("w");
	cr_assert_eq(cap.level, DIAG_WARN);
	cr_assert_not_null(strstr(cap.line, " WARN  "));
	diag_error("e");
	cr_assert_eq(cap.level, DIAG_ERROR);
	cr_assert_not_null(strstr(cap.line, " ERROR "));
	cr_assert_eq(cap.count, 4);
}

Test(diag, level_filters)
{
	struct capture cap = { 0 };
	diag_set_sink(capture_sink, &cap);

	diag_set_level(DIAG_WARN);
	cr_assert_eq(diag_get_level(), DIAG_WARN);
	diag_debug("dropped");
	diag_info("dropped");
	cr_assert_eq(cap.count, 0);
	diag_warn("kept");
	diag_error("kept");
	cr_assert_eq(cap.count, 2);

	diag_set_level(DIAG_ERROR);
	diag_warn("dropped");
	cr_assert_eq(cap.count, 2);
	diag_error("kept");
	cr_assert_eq(cap.count, 3);

	diag_set_level(DIAG_OFF);
	diag_error("dropped");
	cr_assert_eq(cap.count, 3);

	diag_set_level(DIAG_DEBUG);
	diag_debug("kept");
	cr_assert_eq(cap.count, 4);
	cr_assert_eq(cap.level, DIAG_DEBUG);
}

Test(diag, level_from_environment)
{
	/* The level is read from the environment at the first message of the process. */
	setenv("TAPE_DIAG_LEVEL", "error", 1);
	cr_assert_eq(diag_get_level(), DIAG_ERROR);
	struct capture cap = { 0 };
	diag_set_sink(capture_sink, &cap);
	diag_warn("dropped");
	cr_assert_eq(cap.count, 0);
	diag_error("kept");
	cr_assert_eq(cap.count, 1);
}

Test(diag, long_message_is_cut_to_one_line)
{
	struct capture cap = { 0 };
	diag_set_sink(capture_sink, &cap);
	diag_set_level(DIAG_DEBUG);
	static char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	diag_warn("%s", big);
	cr_assert_eq(cap.count, 1);
	size_t len = strlen(cap.line);
	cr_assert(len > 900 && len < 1024, "len %zu", len);
	cr_assert_eq(cap.line[len - 1], 'x');
}

/* A file name longer than the whole line buffer. It is emitted on a thread whose stack sits
 * just below a canary region of our own, so a write past the line buffer (which lies near the
 * top of that stack) lands in the canary, where the test sees it with or without ASan. */
enum { LONG_FILE_BYTES = 1 << 20, THREAD_STACK_BYTES = 1 << 20, CANARY_BYTES = 2 << 20 };

struct long_file_job {
	char *file;
	struct capture cap;
};

static void *emit_long_file(void *arg)
{
	struct long_file_job *job = arg;
	diag_set_sink(capture_sink, &job->cap);
	diag_set_level(DIAG_DEBUG);
	diag_emit(DIAG_ERROR, job->file, 7, "message %s", "tail");
	return NULL;
}

Test(diag, long_file_name_is_cut_not_overflowed)
{
	struct long_file_job job = { 0 };
	job.file = malloc(LONG_FILE_BYTES + 1);
	cr_assert_not_null(job.file);
	memset(job.file, 'f', LONG_FILE_BYTES);
	job.file[LONG_FILE_BYTES] = '\0';

	size_t map_bytes = THREAD_STACK_BYTES + CANARY_BYTES;
	uint8_t *map =
	    mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(map, MAP_FAILED);
	uint8_t *canary = map + THREAD_STACK_BYTES;
	memset(canary, 0xa5, CANARY_BYTES);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	cr_assert_eq(pthread_attr_setstack(&attr, map, THREAD_STACK_BYTES), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, &attr, emit_long_file, &job), 0);
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);

	for (size_t i = 0; i < CANARY_BYTES; i++)
		cr_assert_eq(canary[i], 0xa5, "diag_emit wrote %zu bytes past its stack", i);
	munmap(map, map_bytes);
	free(job.file);

	cr_assert_eq(job.cap.count, 1);
	size_t len = strlen(job.cap.line);
	cr_assert(len > 900 && len < 1024, "len %zu", len);
	cr_assert_not_null(strstr(job.cap.line, " ERROR fff"));
}

/* Runs emit() with fd 2 pointed at a temp file and returns what was written there. */
static size_t capture_stderr(void (*emit)(void), char *out, size_t cap)
{
	FILE *tmp = tmpfile();
	cr_assert_not_null(tmp);
	int saved = dup(STDERR_FILENO);
	cr_assert(saved >= 0);
	cr_assert(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	emit();
	cr_assert(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, cap - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return n;
}

static struct capture restored_cap;

static void emit_after_restore(void)
{
	diag_set_sink(capture_sink, &restored_cap);
	diag_warn("to the sink");
	diag_set_sink(NULL, NULL);
	diag_warn("back on stderr %d", 7);
	diag_debug("below the level");
}

Test(diag, null_sink_restores_stderr)
{
	diag_set_level(DIAG_INFO);
	char out[4096];
	size_t n = capture_stderr(emit_after_restore, out, sizeof(out));
	cr_assert_eq(restored_cap.count, 1, "only the first message reaches the sink");
	cr_assert_not_null(strstr(restored_cap.line, "to the sink"));
	cr_assert(n > 0);
	cr_assert(has_timestamp(out), "stderr: %s", out);
	cr_assert_not_null(strstr(out, " WARN  "));
	cr_assert_not_null(strstr(out, "back on stderr 7\n"), "stderr: %s", out);
	cr_assert_null(strstr(out, "to the sink"));
	cr_assert_null(strstr(out, "below the level"));
	cr_assert_eq(out[n - 1], '\n');
	cr_assert_null(memchr(out, '\n', n - 1), "exactly one line");
}

static void emit_long_to_stderr(void)
{
	static char big[5000];
	memset(big, 'y', sizeof(big) - 1);
	diag_error("%s", big);
}

Test(diag, long_line_on_stderr_ends_with_newline)
{
	diag_set_level(DIAG_INFO);
	char out[8192];
	size_t n = capture_stderr(emit_long_to_stderr, out, sizeof(out));
	cr_assert(n > 900 && n <= 1024, "n %zu", n);
	cr_assert_eq(out[n - 1], '\n');
	cr_assert_eq(out[n - 2], 'y');
}
