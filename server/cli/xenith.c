/* xenith.c: main() of the `xenith` command line tool (see cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli/cli.h"

#define DEFAULT_SOCKET "/var/lib/xenith/xenithd.sock"

static int usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: xenith [--socket PATH] [--json] [--no-wait] COMMAND\n"
            "  vm [list]                 the VMs\n"
            "  vm show VM                one VM (name, id or id prefix)\n"
            "  vm start|shutdown|reboot|pause|resume|suspend|destroy VM\n"
            "                            as a task, waited for\n"
            "  srs | disks | networks | tasks   lists\n"
            "  task wait ID | task cancel ID\n"
            "  api METHOD /PATH [JSON]   any API route, e.g. api GET /host\n"
            "The socket is xenithd's DATA/xenithd.sock (default %s,\n"
            "or $XENITH_SOCKET); root acts as admin without a password.\n",
            DEFAULT_SOCKET);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli c = { .socket = getenv("XENITH_SOCKET"), .wait = 1 };
    int i = 1;

    if (!c.socket)
        c.socket = DEFAULT_SOCKET;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--socket") && i + 1 < argc)
            c.socket = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            c.json = 1;
        else if (!strcmp(argv[i], "--no-wait"))
            c.wait = 0;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage(0);
        else
            return usage(2);
    }
    if (i >= argc)
        return usage(2);
    if (!strcmp(argv[i], "vm"))
        return cli_cmd_vm(&c, argc - i - 1, argv + i + 1);
    if (!strcmp(argv[i], "task"))
        return cli_cmd_task(&c, argc - i - 1, argv + i + 1);
    if (!strcmp(argv[i], "api"))
        return cli_cmd_api(&c, argc - i - 1, argv + i + 1);
    if (!strcmp(argv[i], "srs") || !strcmp(argv[i], "disks") ||
        !strcmp(argv[i], "networks") || !strcmp(argv[i], "tasks"))
        return cli_cmd_list(&c, argv[i], argc - i - 1, argv + i + 1);
    return usage(2);
}
