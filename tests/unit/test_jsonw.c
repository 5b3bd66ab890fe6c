/* The JSON writer: what it writes reads back as what was meant. */
#include "check.h"

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
           CHECK_CASE(jansson_values_in_key_order),
           CHECK_CASE(misuse_fails_instead_of_writing_bad_json))
