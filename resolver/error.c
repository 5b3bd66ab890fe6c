#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
#define TP_ERROR_NAME(name, msg) "TP_" #name,
    TP_ERROR_MAP(TP_ERROR_NAME)
#undef TP_ERROR_NAME
};

static const char *const code_messages[] = {
#define TP_ERROR_TEXT(name, msg) msg,
    TP_ERROR_MAP(TP_ERROR_TEXT)
#undef TP_ERROR_TEXT
};

const char *tp_code_name(tp_code code)
{
    if ((unsigned)code >= TP_CODE_COUNT)
        return "TP_UNKNOWN";
    return code_names[code];
}

const char *tp_code_message(tp_code code)
{
    if ((unsigned)code >= TP_CODE_COUNT)
        return "unknown error";
    return code_messages[code];
}

void tp_error_clear(tp_error *err)
{
    if (!err)
        return;
    err->code = TP_OK;
    err->http_status = 0;
    err->msg[0] = '\0';
}

tp_code tp_error_set(tp_error *err, tp_code code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    if (!fmt) {
        snprintf(err->msg, sizeof err->msg, "%s", tp_code_message(code));
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(err->msg, sizeof err->msg, "%s", tp_code_message(code));
    /* Keep the message one line: a newline would split a log record. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}
