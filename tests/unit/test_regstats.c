/* Per-registry request counters: status slots, cumulative latency buckets,
 * and the cap of 64 named registries before "other". */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "regstats.h"

static const resolver_registry_stats *find(const resolver_registry_stats *rows, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].registry, name) == 0)
            return &rows[i];
    return NULL;
}

static size_t slot(const char *label)
{
    for (size_t k = 0; k < RESOLVER_STATUS_SLOTS; k++)
        if (strcmp(resolver_status_label(k), label) == 0)
            return k;
    return RESOLVER_STATUS_SLOTS;
}

static void statuses_and_buckets(void)
{
    regstats *rs = regstats_new();
    regstats_record(rs, "ghcr.io", 200, 0.004);
    regstats_record(rs, "ghcr.io", 200, 0.3);
    regstats_record(rs, "ghcr.io", 429, 20.0);
    regstats_record(rs, "ghcr.io", 418, 0.01); /* unlisted: other */
    regstats_record(rs, "ghcr.io", 0, 1.0);    /* no answer: error */
    resolver_registry_stats rows[2];
    CHECK_INT(regstats_copy(rs, rows, 2), 1);
    const resolver_registry_stats *g = find(rows, 1, "ghcr.io");
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(g->requests[slot("200")], 2);
        CHECK_INT(g->requests[slot("429")], 1);
        CHECK_INT(g->requests[slot("other")], 1);
        CHECK_INT(g->requests[slot("error")], 1);
        CHECK_INT(g->count, 5);
        CHECK_INT(g->buckets[0], 1);                            /* <= 5 ms */
        CHECK_INT(g->buckets[RESOLVER_LATENCY_BUCKETS - 1], 4); /* <= 10 s */
        for (size_t b = 1; b < RESOLVER_LATENCY_BUCKETS; b++)
            CHECK(g->buckets[b] >= g->buckets[b - 1]);
    }
    regstats_free(rs);
}

static void cardinality_cap(void)
{
    regstats *rs = regstats_new();
    char name[32];
    for (int i = 0; i < RESOLVER_REGISTRIES_MAX + 10; i++) {
        snprintf(name, sizeof name, "r%d.example", i);
        regstats_record(rs, name, 200, 0.1);
    }
    regstats_record(rs, "r0.example", 404, 0.1); /* a named one stays named */
    resolver_registry_stats *rows = calloc(RESOLVER_REGISTRIES_MAX + 1, sizeof *rows);
    size_t n = regstats_copy(rs, rows, RESOLVER_REGISTRIES_MAX + 1);
    CHECK_INT(n, RESOLVER_REGISTRIES_MAX + 1);
    const resolver_registry_stats *other = find(rows, n, "other");
    CHECK(other != NULL);
    if (other)
        CHECK_INT(other->requests[slot("200")], 10);
    const resolver_registry_stats *r0 = find(rows, n, "r0.example");
    CHECK(r0 != NULL);
    if (r0)
        CHECK_INT(r0->requests[slot("404")], 1);
    CHECK(find(rows, n, "r64.example") == NULL);
    free(rows);
    regstats_free(rs);
}

CHECK_MAIN(CHECK_CASE(statuses_and_buckets), CHECK_CASE(cardinality_cap))
