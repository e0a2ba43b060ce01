/* lifecycle.h: start-up steps that bring the database and the
 * hypervisor into agreement, and the optional demo content. */
#ifndef XENITH_SERVER_CORE_LIFECYCLE_H
#define XENITH_SERVER_CORE_LIFECYCLE_H

struct app;

/* Reconcile DB and driver: the bridges of networks xenith created are
 * made again when missing; a domain running in the hypervisor but not in
 * the DB is imported; a VM in the DB whose domain is gone is marked
 * halted. Logs what it changed. */
int reconcile_at_start(struct app *app);

/* --demo on the test driver, first start only: a demo SR, network and a
 * few VMs. No-op when anything exists already or on another driver. */
int demo_populate(struct app *app);

#endif
