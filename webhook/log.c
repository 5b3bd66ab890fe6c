#include "log.h"

#include <jansson.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level min) { min_level = min; }

void log_format_time(char *buf, unsigned long size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[32];
    if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        date[0] = '\0';
    snprintf(buf, size, "%s.%03ldZ", date, ts.tv_nsec / 1000000);
}

void log_msg(log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[1024], when[48];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    log_format_time(when, sizeof when);
    json_t *line = json_pack("{s:s, s:s, s:s}", "time", when, "level",
                             level_names[level], "msg", msg);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: one write, one line */
    ssize_t w = write(STDERR_FILENO, text, n + 1);
    (void)w;
    text[n] = '\0';
    free(text);
}
