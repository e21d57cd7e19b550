/*
 * base/diag.h: diagnostics (operator-facing messages), never the data log.
 *
 * One line per message on stderr: wall-clock time in UTC, level, file:line, text. Tests can
 * redirect messages to a sink to assert on them. Thread-safe: each message is one write.
 */
#ifndef TAPE_BASE_DIAG_H
#define TAPE_BASE_DIAG_H

enum diag_level { DIAG_DEBUG, DIAG_INFO, DIAG_WARN, DIAG_ERROR, DIAG_OFF };

typedef void (*diag_sink_fn)(enum diag_level level, const char *line, void *arg);

void diag_set_level(enum diag_level level);
enum diag_level diag_get_level(void);
/* Sends formatted lines to sink instead of stderr; NULL restores stderr. */
void diag_set_sink(diag_sink_fn sink, void *arg);

__attribute__((format(printf, 4, 5))) void diag_emit(enum diag_level level, const char *file,
                                                     int line, const char *fmt, ...);

#define diag_debug(...) diag_emit(DIAG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define diag_info(...) diag_emit(DIAG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define diag_warn(...) diag_emit(DIAG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define diag_error(...) diag_emit(DIAG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
