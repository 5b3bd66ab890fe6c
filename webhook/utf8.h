/* Byte classes shared by the JSON reader and writer. */
#ifndef TAGPIN_UTF8_H
#define TAGPIN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* JSON string bytes that stand for themselves: printable ASCII except '"'
 * and '\\'. Scanning with a table is a third of the instructions of the
 * comparisons it replaces, and strings are most of a review. */
static inline int json_plain_byte(unsigned char c)
{
    static const unsigned char plain[256] = { /* 0x00-0x7f; the rest stay 0 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    };
    return plain[c];
}

/* Length of the run of json_plain_byte bytes at p, before end. Eight bytes
 * at a time with the classic "has a byte less than n" tests: the lowest
 * flagged byte is always a true one (a false flag needs a borrow from a
 * true one below it), so on a little-endian machine its index is the
 * count of trailing zero bits / 8. Strings are most of a review, and this
 * is a third of the table's instructions on them. */
static inline size_t json_plain_run(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (end - q >= 8) {
        uint64_t v;
        memcpy(&v, q, sizeof v);
        uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
        uint64_t special = (((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) |
                            ((backslash - ones) & ~backslash) | v) & high; /* v: >= 0x80 */
        if (special)
            return (size_t)(q - p) + (size_t)__builtin_ctzll(special) / 8;
        q += 8;
    }
#endif
    while (q < end && json_plain_byte(*q))
        q++;
    return (size_t)(q - p);
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 when it is not valid or is cut
 * off by end. p < end. */
static inline size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

#endif
