/* The JSON writer: what it writes reads back as what was meant. */
#include "check.h"

#include <openssl/evp.h>
#include <stdio.h>

#include "jsonw.h"

static void members_and_commas(void)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_object(&w);
    jsonw_key(&w, "a");
    jsonw_array(&w);
    jsonw_int(&w, -1);
    jsonw_bool(&w, false);
    jsonw_object(&w);
    jsonw_end(&w);
    jsonw_array(&w);
    jsonw_end(&w);
    jsonw_end(&w);
    jsonw_key(&w, "b");
    jsonw_raw(&w, "{\"x\":null}", 10);
    jsonw_key(&w, "c");
    jsonw_string(&w, "");
    jsonw_end(&w);
    size_t len = 0;
    char *text = jsonw_finish(&w, &len);
    CHECK_STR(text, "{\"a\":[-1,false,{},[]],\"b\":{\"x\":null},\"c\":\"\"}");
    CHECK_INT(len, text ? strlen(text) : 0);
    free(text);
}

static void strings_are_escaped_and_always_utf8(void)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_array(&w);
    jsonw_string(&w, "q\" b\\ n\n t\t c\x01 del\x7f \xc3\xa9 \xf0\x9f\x98\x80");
    jsonw_string(&w, "bad \xff and cut \xe2\x82");
    jsonw_stringn(&w, "nul\0inside", 10);
    jsonw_end(&w);
    char *text = jsonw_finish(&w, NULL);
    CHECK_STR(text, "[\"q\\\" b\\\\ n\\n t\\t c\\u0001 del\x7f \xc3\xa9 \xf0\x9f\x98\x80\","
                    "\"bad \xef\xbf\xbd and cut \xef\xbf\xbd\xef\xbf\xbd\",\"nul\\u0000inside\"]");
    json_t *back = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
    CHECK(back != NULL);
    CHECK_STR(json_string_value(json_array_get(back, 1)), "bad \xef\xbf\xbd and cut \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(back);
    free(text);
}

/* Runs of plain bytes are scanned four at a time: a byte to escape must be
 * found at every offset, and at the end of a string. */
static void escapes_found_at_every_offset(void)
{
    const char specials[] = {'"', '\\', '\n', '\x01', '\x7f', '\xff'};
    for (size_t k = 0; k < sizeof specials; k++) {
        for (size_t at = 0; at < 11; at++) {
            char s[12];
            memset(s, 'a', 11);
            s[at] = specials[k];
            s[11] = '\0';
            jsonw w;
            jsonw_init(&w);
            jsonw_string(&w, s);
            char *text = jsonw_finish(&w, NULL);
            json_t *back = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
            const char *want = specials[k] == '\xff' ? "\xef\xbf\xbd" : (char[]){specials[k], 0};
            char expect[32];
            snprintf(expect, sizeof expect, "%.*s%s%.*s", (int)at, "aaaaaaaaaaa", want,
                     (int)(10 - at), "aaaaaaaaaaa");
            CHECK_STR(json_string_value(back), expect);
            json_decref(back);
            free(text);
        }
    }
}

/* Strings longer than one slice of escaping (4 KiB): UTF-8 sequences and
 * escapes that straddle a slice's end come out whole. */
static void long_strings_across_slices(void)
{
    static const char unit[] = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\\\n\x01"; /* 17 bytes */
    size_t n = 0, cap = 3 * 4096 + 100;
    char *s = malloc(cap + 1);
    while (s && n + sizeof unit - 1 <= cap) {
        memcpy(s + n, unit, sizeof unit - 1);
        n += sizeof unit - 1;
    }
    if (!s)
        return;
    s[n] = '\0';
    jsonw w;
    jsonw_init(&w);
    jsonw_stringn(&w, s, n);
    size_t len;
    char *text = jsonw_finish(&w, &len);
    json_t *back = text ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : NULL;
    CHECK_INT(json_string_length(back), n);
    CHECK(back && memcmp(json_string_value(back), s, n) == 0);
    json_decref(back);
    free(text);
    free(s);
}

static void base64_strings(void)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                        "Zm9vYmFy"}; /* RFC 4648 section 10 */
    jsonw w;
    jsonw_init(&w);
    jsonw_array(&w);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        jsonw_base64(&w, plain[i], strlen(plain[i]));
    jsonw_end(&w);
    char *text = jsonw_finish(&w, NULL);
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    CHECK_INT(json_array_size(back), 7);
    for (size_t i = 0; i < 7; i++)
        CHECK_STR(json_string_value(json_array_get(back, i)), coded[i]);
    json_decref(back);
    free(text);

    /* Past the first buffer: the writer grows for it. */
    static unsigned char big[6000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    jsonw_init(&w);
    jsonw_object(&w);
    jsonw_key(&w, "patch");
    jsonw_base64(&w, big, sizeof big);
    jsonw_end(&w);
    text = jsonw_finish(&w, NULL);
    back = text ? json_loads(text, 0, NULL) : NULL;
    const char *b64 = json_string_value(json_object_get(back, "patch"));
    CHECK_INT(b64 ? strlen(b64) : 0, 8000);
    unsigned char again[6000 + 3];
    CHECK_INT(b64 ? EVP_DecodeBlock(again, (const unsigned char *)b64, 8000) : -1, 6000);
    CHECK(memcmp(again, big, sizeof big) == 0);
    json_decref(back);
    free(text);
}

static void jansson_values_in_key_order(void)
{
    json_t *v = json_loads("{\"z\":[1,2.5,3.0,true,null],\"a\":{\"m\":\"x\",\"b\":{}}}", 0, NULL);
    jsonw w;
    jsonw_init(&w);
    jsonw_value(&w, v);
    char *text = jsonw_finish(&w, NULL);
    CHECK_STR(text, "{\"a\":{\"b\":{},\"m\":\"x\"},\"z\":[1,2.5,3.0,true,null]}");
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(back && json_equal(back, v));
    json_decref(back);
    json_decref(v);
    free(text);
}

static void misuse_fails_instead_of_writing_bad_json(void)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_array(&w);
    CHECK(jsonw_finish(&w, NULL) == NULL); /* left open */
    jsonw_init(&w);
    jsonw_end(&w); /* nothing to close */
    CHECK(jsonw_finish(&w, NULL) == NULL);
    jsonw_init(&w);
    for (int i = 0; i < JSONW_DEPTH_MAX + 1; i++)
        jsonw_array(&w);
    for (int i = 0; i < JSONW_DEPTH_MAX + 1; i++)
        jsonw_end(&w);
    CHECK(jsonw_finish(&w, NULL) == NULL);
}

CHECK_MAIN(CHECK_CASE(members_and_commas), CHECK_CASE(strings_are_escaped_and_always_utf8),
           CHECK_CASE(escapes_found_at_every_offset), CHECK_CASE(long_strings_across_slices),
           CHECK_CASE(base64_strings),
           CHECK_CASE(jansson_values_in_key_order),
           CHECK_CASE(misuse_fails_instead_of_writing_bad_json))
