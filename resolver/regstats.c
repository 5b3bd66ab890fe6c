#include "regstats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double resolver_latency_buckets[RESOLVER_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* The statuses a registry client meets; anything else is "other". */
static const struct {
    long status;
    const char *label;
} status_slots[RESOLVER_STATUS_SLOTS] = {
    {200, "200"}, {401, "401"}, {403, "403"}, {404, "404"}, {405, "405"}, {429, "429"},
    {500, "500"}, {502, "502"}, {503, "503"}, {504, "504"}, {-1, "other"}, {0, "error"},
};

struct regstats {
    pthread_mutex_t mu;
    size_t n; /* named registries, then the "other" row at [RESOLVER_REGISTRIES_MAX] */
    resolver_registry_stats rows[RESOLVER_REGISTRIES_MAX + 1];
};

const char *resolver_status_label(size_t slot)
{
    return slot < RESOLVER_STATUS_SLOTS ? status_slots[slot].label : "other";
}

regstats *regstats_new(void)
{
    regstats *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    if (pthread_mutex_init(&rs->mu, NULL) != 0) {
        free(rs);
        return NULL;
    }
    snprintf(rs->rows[RESOLVER_REGISTRIES_MAX].registry,
             sizeof rs->rows[RESOLVER_REGISTRIES_MAX].registry, "other");
    return rs;
}

void regstats_free(regstats *rs)
{
    if (!rs)
        return;
    pthread_mutex_destroy(&rs->mu);
    free(rs);
}

static size_t slot_of(long status)
{
    if (status <= 0)
        return RESOLVER_STATUS_SLOTS - 1;
    for (size_t i = 0; i < RESOLVER_STATUS_SLOTS - 2; i++)
        if (status_slots[i].status == status)
            return i;
    return RESOLVER_STATUS_SLOTS - 2;
}

/* Called with rs->mu held. A linear scan: at most 64 short strings, on a
 * path that just waited for the network. */
static resolver_registry_stats *row_of(regstats *rs, const char *registry)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->rows[i].registry, registry) == 0)
            return &rs->rows[i];
    if (rs->n < RESOLVER_REGISTRIES_MAX && strlen(registry) < sizeof rs->rows[0].registry) {
        resolver_registry_stats *row = &rs->rows[rs->n++];
        snprintf(row->registry, sizeof row->registry, "%s", registry);
        return row;
    }
    return &rs->rows[RESOLVER_REGISTRIES_MAX];
}

void regstats_record(regstats *rs, const char *registry, long status, double seconds)
{
    if (!rs)
        return;
    pthread_mutex_lock(&rs->mu);
    resolver_registry_stats *row = row_of(rs, registry ? registry : "");
    row->requests[slot_of(status)]++;
    for (size_t b = 0; b < RESOLVER_LATENCY_BUCKETS; b++)
        if (seconds <= resolver_latency_buckets[b])
            row->buckets[b]++;
    row->count++;
    row->sum += seconds;
    pthread_mutex_unlock(&rs->mu);
}

size_t regstats_copy(regstats *rs, resolver_registry_stats *out, size_t cap)
{
    size_t k = 0;
    pthread_mutex_lock(&rs->mu);
    for (size_t i = 0; i < rs->n && k < cap; i++)
        out[k++] = rs->rows[i];
    if (rs->rows[RESOLVER_REGISTRIES_MAX].count && k < cap)
        out[k++] = rs->rows[RESOLVER_REGISTRIES_MAX];
    pthread_mutex_unlock(&rs->mu);
    return k;
}
