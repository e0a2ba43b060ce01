/* test_net.c: the pretend host's network interfaces, for hv_net_*: "lo"
 * (no bridge), the bridges named in the URI (there before xenith, to
 * adopt) and the ones hv_net_create makes. A bridge's ports are the NICs
 * of the running and paused domains on it, as vifs would be. Nothing
 * here looks at or changes the real host's interfaces.
 */
#include "xen/test/test_priv.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

static struct tdrv_link *tdrv_link_find(struct tdrv *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->num_links; i++)
        if (!strcmp(d->links[i].name, name))
            return &d->links[i];
    return NULL;
}

static int tdrv_link_name_ok(const char *name)
{
    size_t len = strlen(name);

    return len >= 1 && len < sizeof(((struct tdrv_link *)0)->name) &&
           !strchr(name, '/') && !strchr(name, ' ');
}

static void tdrv_link_add(struct tdrv *d, const char *name, int is_bridge,
                          int mtu)
{
    struct tdrv_link *l;

    d->links = xrealloc(d->links, (d->num_links + 1) * sizeof(*d->links));
    l = &d->links[d->num_links++];
    memset(l, 0, sizeof(*l));
    xstrlcpy(l->name, name, sizeof(l->name));
    l->is_bridge = is_bridge;
    l->mtu = mtu;
}

int tdrv_net_seed(struct tdrv *d, const char *bridges)
{
    char *copy = xstrdup(bridges), *save = NULL, *name;
    int rc = 0;

    if (!tdrv_link_find(d, "lo"))
        tdrv_link_add(d, "lo", 0, 65536);
    for (name = strtok_r(copy, ",", &save); name && !rc;
         name = strtok_r(NULL, ",", &save)) {
        if (!tdrv_link_name_ok(name) || tdrv_link_find(d, name))
            rc = hv_fail(ERR_INVALID, "bad or repeated bridge '%s'", name);
        else
            tdrv_link_add(d, name, 1, 1500);
    }
    free(copy);
    return rc;
}

void tdrv_net_release(struct tdrv *d)
{
    free(d->links);
    d->links = NULL;
    d->num_links = 0;
}

/* NICs of live domains on bridge (lock held). */
static int tdrv_ports(struct tdrv *d, const char *bridge)
{
    struct tdrv_dom *dom;
    size_t i;
    int n = 0;

    for (dom = d->doms; dom; dom = dom->next) {
        if (dom->state == HV_HALTED || dom->state == HV_SUSPENDED)
            continue;
        for (i = 0; i < dom->cfg.num_nics; i++)
            n += !strcmp(dom->cfg.nics[i].bridge, bridge);
    }
    return n;
}

int tdrv_net_info(void *priv, const char *bridge, struct hv_bridge *out)
{
    struct tdrv *d = priv;
    struct tdrv_link *l;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&d->lock);
    l = tdrv_link_find(d, bridge);
    if (l) {
        out->exists = 1;
        out->is_bridge = l->is_bridge;
        out->up = 1;
        out->mtu = l->mtu;
        out->num_ports = l->is_bridge ? tdrv_ports(d, bridge) : 0;
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

int tdrv_net_create(void *priv, const char *bridge, int mtu)
{
    struct tdrv *d = priv;
    int rc;

    if (!tdrv_link_name_ok(bridge))
        return hv_fail(ERR_INVALID, "bad bridge name '%s'", bridge);
    if (mtu < 68 || mtu > 65535)
        return hv_fail(ERR_INVALID, "mtu %d not in 68..65535", mtu);
    pthread_mutex_lock(&d->lock);
    rc = tdrv_injected(d, TDRV_OP_NET_CREATE);
    if (!rc && tdrv_link_find(d, bridge))
        rc = hv_fail(ERR_EXISTS, "an interface named %s exists", bridge);
    if (!rc)
        tdrv_link_add(d, bridge, 1, mtu);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int tdrv_net_delete(void *priv, const char *bridge)
{
    struct tdrv *d = priv;
    struct tdrv_link *l;
    int rc, ports = 0;

    pthread_mutex_lock(&d->lock);
    rc = tdrv_injected(d, TDRV_OP_NET_DELETE);
    l = rc ? NULL : tdrv_link_find(d, bridge);
    if (!rc && !l)
        rc = hv_fail(ERR_NOTFOUND, "no interface named %s", bridge);
    else if (!rc && !l->is_bridge)
        rc = hv_fail(ERR_CONFLICT, "interface %s is not a bridge", bridge);
    else if (!rc && (ports = tdrv_ports(d, bridge)) > 0)
        rc = hv_fail(ERR_CONFLICT, "bridge %s has %d port%s in use", bridge,
                     ports, ports == 1 ? "" : "s");
    if (!rc)
        *l = d->links[--d->num_links];
    pthread_mutex_unlock(&d->lock);
    return rc;
}
