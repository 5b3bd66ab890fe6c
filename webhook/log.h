/* JSON-lines logging on stderr: {"time":…,"level":…,"msg":…}. One write per
 * line so lines from different threads never interleave. Messages must not
 * carry credentials; callers pass already-sanitized text. */
#ifndef TAGPIN_LOG_H
#define TAGPIN_LOG_H

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level min);
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes `"time":"2026-11-23T09:31:53.123Z"` style UTC time into buf. */
void log_format_time(char *buf, unsigned long size);

#endif
