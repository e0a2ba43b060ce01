/* cli_cmds.c: the `xenith` commands: vm, list, task, api. */
#include "server/cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "-";
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s)
        puts(s);
    free(s);
}

/* GET path; the answer's body (**new**) or NULL with the error printed. */
static json_t *get_json(const struct cli *c, const char *path)
{
    struct cli_resp r;
    json_t *body;

    if (cli_request(c, "GET", path, NULL, &r))
        return NULL;
    if (r.status != 200) {
        cli_fail(&r, path);
        cli_resp_release(&r);
        return NULL;
    }
    body = r.body;
    r.body = NULL;
    return body;
}

/* A VM named by id, unique id prefix or exact name; its id into id_out. */
static int find_vm(const struct cli *c, const char *want, char *id_out,
                   size_t cap)
{
    json_t *list = get_json(c, "/vms"), *vm;
    size_t i, hits = 0;

    if (!list)
        return -1;
    json_array_foreach(list, i, vm) {
        const char *id = str(vm, "id");

        if (!strcmp(str(vm, "name"), want) ||
            (strlen(want) >= 4 && !strncmp(id, want, strlen(want)))) {
            snprintf(id_out, cap, "%s", id);
            hits++;
        }
    }
    json_decref(list);
    if (hits == 1)
        return 0;
    fprintf(stderr, "xenith: %s VM matches '%s'\n",
            hits ? "more than one" : "no", want);
    return -1;
}

int cli_wait_task(const struct cli *c, const char *id)
{
    char path[128];
    json_t *t;
    const char *st;
    int rc;

    snprintf(path, sizeof(path), "/tasks/%s", id);
    for (;;) {
        t = get_json(c, path);
        if (!t)
            return 1;
        st = str(t, "status");
        if (strcmp(st, "pending") && strcmp(st, "running"))
            break;
        json_decref(t);
        usleep(100 * 1000);
    }
    rc = strcmp(st, "success") != 0;
    if (c->json) {
        print_json(t);
    } else if (rc) {
        fprintf(stderr, "xenith: task %s %s: %s\n", str(t, "kind"), st,
                str(t, "error"));
    } else {
        printf("%s: %s\n", str(t, "kind"), st);
    }
    json_decref(t);
    return rc;
}

static int vm_list(const struct cli *c)
{
    json_t *list = get_json(c, "/vms"), *vm;
    size_t i;

    if (!list)
        return 1;
    if (c->json) {
        print_json(list);
    } else {
        printf("%-24s %-10s %5s %8s  %s\n", "NAME", "STATE", "VCPUS", "MEM MiB",
               "ID");
        json_array_foreach(list, i, vm)
            printf("%-24s %-10s %5lld %8lld  %s\n", str(vm, "name"),
                   str(vm, "state"),
                   (long long)json_integer_value(json_object_get(vm, "vcpus")),
                   (long long)json_integer_value(
                       json_object_get(vm, "memory_mib")),
                   str(vm, "id"));
    }
    json_decref(list);
    return 0;
}

static const char *const power_ops[] = { "start",   "shutdown", "reboot",
                                         "pause",   "resume",   "suspend",
                                         "destroy", NULL };

static int vm_power(const struct cli *c, const char *op, const char *want)
{
    char id[64], path[160];
    struct cli_resp r;
    int rc;

    if (find_vm(c, want, id, sizeof(id)))
        return 1;
    snprintf(path, sizeof(path), "/vms/%s/%s", id, op);
    if (cli_request(c, "POST", path, NULL, &r))
        return 1;
    if (r.status != 202) {
        rc = cli_fail(&r, op);
    } else if (!c->wait) {
        printf("%s\n", str(r.body, "id"));
        rc = 0;
    } else {
        rc = cli_wait_task(c, str(r.body, "id"));
    }
    cli_resp_release(&r);
    return rc;
}

int cli_cmd_vm(const struct cli *c, int argc, char **argv)
{
    char id[64], path[128];
    json_t *vm;

    if (argc < 1 || !strcmp(argv[0], "list"))
        return vm_list(c);
    if (!strcmp(argv[0], "show") && argc == 2) {
        if (find_vm(c, argv[1], id, sizeof(id)))
            return 1;
        snprintf(path, sizeof(path), "/vms/%s", id);
        vm = get_json(c, path);
        if (!vm)
            return 1;
        print_json(vm);
        json_decref(vm);
        return 0;
    }
    for (size_t i = 0; power_ops[i]; i++)
        if (!strcmp(argv[0], power_ops[i]) && argc == 2)
            return vm_power(c, power_ops[i], argv[1]);
    fprintf(stderr, "xenith: vm list | show VM | start|shutdown|reboot|pause|"
                    "resume|suspend|destroy VM (VM: name or id)\n");
    return 2;
}

/* `xenith list srs|disks|networks|tasks`: name/state columns or JSON. */
int cli_cmd_list(const struct cli *c, const char *what, int argc, char **argv)
{
    char path[64];
    json_t *list, *o;
    size_t i;

    (void)argv;
    if (argc) {
        fprintf(stderr, "xenith: %s takes no arguments\n", what);
        return 2;
    }
    snprintf(path, sizeof(path), "/%s", what);
    list = get_json(c, path);
    if (!list)
        return 1;
    if (c->json) {
        print_json(list);
    } else {
        json_array_foreach(list, i, o) {
            const char *name =
                json_object_get(o, "name") ? str(o, "name") : str(o, "kind");
            const char *extra = json_object_get(o, "status") ? str(o, "status")
                                : json_object_get(o, "bridge")
                                    ? str(o, "bridge")
                                : json_object_get(o, "path") ? str(o, "path")
                                                             : "";

            printf("%-28s %-20s %s\n", name, extra, str(o, "id"));
        }
    }
    json_decref(list);
    return 0;
}

int cli_cmd_task(const struct cli *c, int argc, char **argv)
{
    char path[128];
    struct cli_resp r;
    int rc;

    if (argc == 2 && !strcmp(argv[0], "wait"))
        return cli_wait_task(c, argv[1]);
    if (argc == 2 && !strcmp(argv[0], "cancel")) {
        snprintf(path, sizeof(path), "/tasks/%s/cancel", argv[1]);
        if (cli_request(c, "POST", path, NULL, &r))
            return 1;
        rc = r.status / 100 == 2 ? 0 : cli_fail(&r, "cancel");
        cli_resp_release(&r);
        return rc;
    }
    if (argc == 0 || (argc == 1 && !strcmp(argv[0], "list")))
        return cli_cmd_list(c, "tasks", 0, NULL);
    fprintf(stderr, "xenith: task [list] | wait ID | cancel ID\n");
    return 2;
}

/* `xenith api METHOD PATH [JSON]`: any route; prints the answer. */
int cli_cmd_api(const struct cli *c, int argc, char **argv)
{
    struct cli_resp r;
    json_t *body = NULL;
    json_error_t je;
    int rc;

    if (argc < 2 || argc > 3 || argv[1][0] != '/') {
        fprintf(stderr, "xenith: api METHOD /PATH [JSON] (PATH under "
                        "/api/v1)\n");
        return 2;
    }
    if (argc == 3 && !(body = json_loads(argv[2], 0, &je))) {
        fprintf(stderr, "xenith: the body is not JSON: %s\n", je.text);
        return 2;
    }
    rc = cli_request(c, argv[0], argv[1], body, &r);
    json_decref(body);
    if (rc)
        return 1;
    if (r.body)
        print_json(r.body);
    rc = r.status / 100 == 2 ? 0 : 1;
    if (rc)
        fprintf(stderr, "xenith: HTTP %d\n", r.status);
    cli_resp_release(&r);
    return rc;
}
