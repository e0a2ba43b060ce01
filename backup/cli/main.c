/* main.c: xenith-backup, the standalone backup CLI (no daemon, no
 * database): parse the command line and run one command. Usage: see
 * usage() below and docs/backup-format.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/cli/cli.h"
#include "common/log.h"

static const char usage_text[] =
    "usage: xenith-backup COMMAND --repo DIR [options]\n"
    "  init [--encrypt] [--compression LEVEL] [--chunk-size-kib N]\n"
    "  backup-file --name NAME [--parent SNAP | --no-parent]\n"
    "              [--changed-since OLD_CLONE] [--disk-name NAME] "
    "[--protect]\n"
    "              [--vm-config JSON_FILE] FILE\n"
    "  snapshots\n"
    "  restore [--disk N] SNAPSHOT OUTFILE\n"
    "  verify [--sample PERCENT]\n"
    "  prune [--keep-last N] [--keep-hourly N] [--keep-daily N]\n"
    "        [--keep-weekly N] [--keep-monthly N] [--keep-yearly N] "
    "[--dry-run]\n"
    "  gc\n"
    "  stats\n"
    "  unlock [--host HOST]\n"
    "common: --json --quiet --threads N --passphrase-file F\n"
    "        (or XENITH_BACKUP_PASSPHRASE in the environment)\n"
    "exit status: 0 success, 1 failure, 2 usage, 3 verify found damage\n";

static const struct {
    const char *name;
    int (*fn)(const struct cli *);
} commands[] = {
    { "init", cmd_init },
    { "backup-file", cmd_backup_file },
    { "snapshots", cmd_snapshots },
    { "restore", cmd_restore },
    { "verify", cmd_verify },
    { "prune", cmd_prune },
    { "gc", cmd_gc },
    { "stats", cmd_stats },
    { "unlock", cmd_unlock },
};

enum opt {
    O_REPO = 256,
    O_JSON,
    O_QUIET,
    O_THREADS,
    O_PASSFILE,
    O_ENCRYPT,
    O_COMPRESSION,
    O_NAME,
    O_PARENT,
    O_NOPARENT,
    O_CHANGED,
    O_DISKNAME,
    O_PROTECT,
    O_DISK,
    O_SAMPLE,
    O_LAST,
    O_HOURLY,
    O_DAILY,
    O_WEEKLY,
    O_MONTHLY,
    O_YEARLY,
    O_DRYRUN,
    O_HELP,
    O_CHUNK,
    O_VMCONFIG,
    O_HOST,
};

static const struct option longopts[] = {
    { "repo", required_argument, NULL, O_REPO },
    { "json", no_argument, NULL, O_JSON },
    { "quiet", no_argument, NULL, O_QUIET },
    { "threads", required_argument, NULL, O_THREADS },
    { "passphrase-file", required_argument, NULL, O_PASSFILE },
    { "encrypt", no_argument, NULL, O_ENCRYPT },
    { "compression", required_argument, NULL, O_COMPRESSION },
    { "name", required_argument, NULL, O_NAME },
    { "parent", required_argument, NULL, O_PARENT },
    { "no-parent", no_argument, NULL, O_NOPARENT },
    { "changed-since", required_argument, NULL, O_CHANGED },
    { "disk-name", required_argument, NULL, O_DISKNAME },
    { "protect", no_argument, NULL, O_PROTECT },
    { "disk", required_argument, NULL, O_DISK },
    { "sample", required_argument, NULL, O_SAMPLE },
    { "keep-last", required_argument, NULL, O_LAST },
    { "keep-hourly", required_argument, NULL, O_HOURLY },
    { "keep-daily", required_argument, NULL, O_DAILY },
    { "keep-weekly", required_argument, NULL, O_WEEKLY },
    { "keep-monthly", required_argument, NULL, O_MONTHLY },
    { "keep-yearly", required_argument, NULL, O_YEARLY },
    { "dry-run", no_argument, NULL, O_DRYRUN },
    { "help", no_argument, NULL, O_HELP },
    { "chunk-size-kib", required_argument, NULL, O_CHUNK },
    { "vm-config", required_argument, NULL, O_VMCONFIG },
    { "host", required_argument, NULL, O_HOST },
    { NULL, 0, NULL, 0 },
};

/* A non-negative integer option no larger than max, else -1. */
static int num_arg(const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (!*s || *end || v < 0 || v > max)
        return -1;
    return (int)v;
}

static int *int_slot(struct cli *c, int opt)
{
    switch (opt) {
    case O_THREADS:
        return &c->threads;
    case O_COMPRESSION:
        return &c->compression;
    case O_CHUNK:
        return &c->chunk_kib;
    case O_DISK:
        return &c->disk;
    case O_SAMPLE:
        return &c->sample;
    case O_LAST:
        return &c->keep.last;
    case O_HOURLY:
        return &c->keep.hourly;
    case O_DAILY:
        return &c->keep.daily;
    case O_WEEKLY:
        return &c->keep.weekly;
    case O_MONTHLY:
        return &c->keep.monthly;
    case O_YEARLY:
        return &c->keep.yearly;
    default:
        return NULL;
    }
}

static int parse(struct cli *c, int argc, char **argv)
{
    int o;

    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        int *slot = int_slot(c, o);

        if (slot) {
            *slot = num_arg(optarg, 1000000);
            if (*slot < 0) {
                fprintf(stderr, "xenith-backup: bad number for --%s: %s\n",
                        longopts[o - O_REPO].name, optarg);
                return -1;
            }
            continue;
        }
        switch (o) {
        case O_REPO:
            c->repo = optarg;
            break;
        case O_JSON:
            c->json = 1;
            break;
        case O_QUIET:
            c->quiet = 1;
            break;
        case O_PASSFILE:
            c->passphrase_file = optarg;
            break;
        case O_ENCRYPT:
            c->encrypt = 1;
            break;
        case O_NAME:
            c->name = optarg;
            break;
        case O_PARENT:
            c->parent = optarg;
            break;
        case O_NOPARENT:
            c->no_parent = 1;
            break;
        case O_CHANGED:
            c->changed_since = optarg;
            break;
        case O_DISKNAME:
            c->disk_name = optarg;
            break;
        case O_PROTECT:
            c->protect = 1;
            break;
        case O_VMCONFIG:
            c->vm_config_file = optarg;
            break;
        case O_HOST:
            c->host = optarg;
            break;
        case O_DRYRUN:
            c->dry_run = 1;
            break;
        default:
            return -1;
        }
    }
    c->args = argv + optind;
    c->num_args = argc - optind;
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c = { .compression = BK_DEFAULT_ZSTD, .sample = 100 };

    log_init("xenith-backup");
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    c.cmd = argv[1];
    if (parse(&c, argc - 1, argv + 1)) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (!c.repo) {
        fprintf(stderr, "xenith-backup: --repo DIR is required\n");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, c.cmd))
            return commands[i].fn(&c);
    fprintf(stderr, "xenith-backup: unknown command '%s'\n", c.cmd);
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}
