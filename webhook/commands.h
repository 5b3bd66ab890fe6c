/* The CLI's commands. main.c parses arguments into cli_options and calls
 * one of these; each returns the process exit status. */
#ifndef TAGPIN_COMMANDS_H
#define TAGPIN_COMMANDS_H

#include <stdbool.h>

typedef struct cli_options {
    const char *config;         /* --config FILE: policy/config YAML */
    const char *listen;         /* --listen ADDR:PORT */
    const char *tls_cert;       /* --tls-cert FILE */
    const char *tls_key;        /* --tls-key FILE */
    const char *ca_file;        /* --ca-file FILE: extra CA bundle */
    const char *auth_file;      /* --auth-file FILE: docker config.json */
    const char *metrics_listen; /* --metrics-listen ADDR:PORT */
    bool json;                  /* --json */
    bool validate;              /* --validate: review as /validate does */
    bool offline;               /* --offline: check with the policy only */
    bool to_stdout;             /* --stdout: pin writes to stdout */
    const char *namespace;      /* --namespace NS: for objects without one */
    char **args;                /* positional arguments (borrowed argv) */
    int nargs;
} cli_options;

/* Shared by the commands: the policy from --config or the embedded default
 * (new reference; NULL after printing why), the resolver as policy and flags configure it (new), and
 * printing an error to stderr. */
struct policy;
struct policy_settings;
struct resolver;
struct tp_error;
struct policy *cli_load_policy(const cli_options *o);
struct resolver *cli_make_resolver(const cli_options *o, const struct policy_settings *s,
                                   struct tp_error *err);
void cli_fail(const char *what, const struct tp_error *err);

int cmd_ref(const cli_options *o);
int cmd_review(const cli_options *o);
int cmd_resolve(const cli_options *o);
int cmd_serve(const cli_options *o);
int cmd_check(const cli_options *o); /* cmd_pin.c */
int cmd_pin(const cli_options *o);

#endif
