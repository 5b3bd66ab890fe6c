/* tagpin's entry point: parses arguments and hands over to a command. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char usage[] =
    "usage: tagpin COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "commands:\n"
    "  serve    [--config FILE] [--listen ADDR:PORT] [--tls-cert FILE] [--tls-key FILE]\n"
    "           [--ca-file FILE] [--auth-file FILE] [--metrics-listen ADDR:PORT]\n"
    "           serve the admission webhook over HTTPS\n"
    "  review   [--config FILE] [--ca-file FILE] [--auth-file FILE] [--validate] FILE|-\n"
    "           run one AdmissionReview through the pipeline and print the answer\n"
    "  resolve  [--config FILE] [--ca-file FILE] [--auth-file FILE] [--json] IMAGE...\n"
    "           resolve image tags to digests\n"
    "  pin      [--config FILE] [--ca-file FILE] [--auth-file FILE] [--namespace NS]\n"
    "           [--stdout] FILE...|-\n"
    "           pin the images of YAML manifests in place (comments kept); nothing is\n"
    "           written when an image is denied\n"
    "  check    [--config FILE] [--ca-file FILE] [--auth-file FILE] [--namespace NS]\n"
    "           [--offline] [--validate] FILE...|-\n"
    "           report FILE:LINE:COL of every image the cluster would deny (exit 1)\n"
    "  ref      IMAGE...   show how image references parse (JSON lines)\n"
    "  version  print the version\n"
    "\n"
    "Without --config the embedded default policy is used (docs/policy.md).\n";

enum { OPT_CONFIG = 1, OPT_LISTEN, OPT_CERT, OPT_KEY, OPT_CA, OPT_AUTH, OPT_METRICS,
       OPT_JSON, OPT_VALIDATE, OPT_OFFLINE, OPT_STDOUT, OPT_NAMESPACE, OPT_HELP };

static const struct option long_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"tls-cert", required_argument, NULL, OPT_CERT},
    {"tls-key", required_argument, NULL, OPT_KEY},
    {"ca-file", required_argument, NULL, OPT_CA},
    {"auth-file", required_argument, NULL, OPT_AUTH},
    {"metrics-listen", required_argument, NULL, OPT_METRICS},
    {"json", no_argument, NULL, OPT_JSON},
    {"validate", no_argument, NULL, OPT_VALIDATE},
    {"offline", no_argument, NULL, OPT_OFFLINE},
    {"stdout", no_argument, NULL, OPT_STDOUT},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int parse_options(int argc, char **argv, cli_options *o)
{
    int c;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: o->config = optarg; break;
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_CERT: o->tls_cert = optarg; break;
        case OPT_KEY: o->tls_key = optarg; break;
        case OPT_CA: o->ca_file = optarg; break;
        case OPT_AUTH: o->auth_file = optarg; break;
        case OPT_METRICS: o->metrics_listen = optarg; break;
        case OPT_JSON: o->json = true; break;
        case OPT_VALIDATE: o->validate = true; break;
        case OPT_OFFLINE: o->offline = true; break;
        case OPT_STDOUT: o->to_stdout = true; break;
        case OPT_NAMESPACE: o->namespace = optarg; break;
        case OPT_HELP: fputs(usage, stdout); return 1;
        default: fputs(usage, stderr); return 2;
        }
    }
    o->args = argv + optind;
    o->nargs = argc - optind;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("tagpin %s\n", TAGPIN_VERSION);
        return 0;
    }
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    cli_options o = {0};
    int rc = parse_options(argc - 1, argv + 1, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (strcmp(command, "serve") == 0)
        return cmd_serve(&o);
    if (strcmp(command, "review") == 0)
        return cmd_review(&o);
    if (strcmp(command, "resolve") == 0)
        return cmd_resolve(&o);
    if (strcmp(command, "ref") == 0)
        return cmd_ref(&o);
    if (strcmp(command, "pin") == 0)
        return cmd_pin(&o);
    if (strcmp(command, "check") == 0)
        return cmd_check(&o);
    fprintf(stderr, "tagpin: unknown command %s\n\n%s", command, usage);
    return 2;
}
