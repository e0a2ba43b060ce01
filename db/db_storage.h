/* db_storage.h: storage repositories, disks and networks (tables srs,
 * disks, networks, pool). One function per query; ERR_NOTFOUND for no
 * row, ERR_EXISTS for a taken unique name/path, ERR_CONFLICT for a row
 * still referenced. Thread safe. Lists are **new** arrays (free()).
 */
#ifndef XENITH_DB_DB_STORAGE_H
#define XENITH_DB_DB_STORAGE_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_sr {
    char id[37];
    char name[65];
    char type[16]; /* "file" */
    char path[512];
    int64_t created_at;
};

struct db_disk {
    char id[37];
    char name[65];
    char sr_id[37];
    char file[128]; /* image file name inside the SR directory */
    int64_t size_bytes;
    char format[8];       /* "raw" */
    char snapshot_of[37]; /* "" when not a snapshot */
    int64_t created_at;
    char attached_vm[37]; /* filled by get/list: "" when detached */
    char attached_device[16];
};

struct db_network {
    char id[37];
    char name[65];
    char bridge[16];
    int mtu;
    int64_t created_at;
    int bridge_owned; /* xenith created the bridge (and may delete it) */
};

struct db_pool {
    char id[37];
    char name[65];
    char description[1025];
    char default_sr[37]; /* "" when none */
};

int db_sr_insert(struct db *db, const struct db_sr *sr);
int db_sr_get(struct db *db, const char *id, struct db_sr *out);
int db_sr_list(struct db *db, struct db_sr **list_out, size_t *num_out);
/* ERR_CONFLICT while disks live in it. */
int db_sr_delete(struct db *db, const char *id);
/* Number of disks in SR id (0 for an unknown id). */
int db_sr_disk_count(struct db *db, const char *id, int64_t *count_out);

int db_disk_insert(struct db *db, const struct db_disk *d);
int db_disk_get(struct db *db, const char *id, struct db_disk *out);
/* sr_id NULL = all. */
int db_disk_list(struct db *db, const char *sr_id, struct db_disk **list_out,
                 size_t *num_out);
/* Name and size only. */
int db_disk_update(struct db *db, const struct db_disk *d);
/* ERR_CONFLICT while attached to a VM or held by a VM snapshot. */
int db_disk_delete(struct db *db, const char *id);
/* State of a VM the disk is attached to, into state_out[16] ("" when
 * detached; a VM that is not halted is preferred when several are). */
int db_disk_vm_state(struct db *db, const char *disk_id, char state_out[16]);

int db_network_insert(struct db *db, const struct db_network *n);
int db_network_get(struct db *db, const char *id, struct db_network *out);
int db_network_list(struct db *db, struct db_network **list_out,
                    size_t *num_out);
/* How many VM NICs are on network id (0 for no such network). */
int db_network_num_nics(struct db *db, const char *id, int64_t *num_out);
/* ERR_CONFLICT while a VM has a NIC on it. */
int db_network_delete(struct db *db, const char *id);

/* The single pool row, created on first get with a default name. */
int db_pool_get(struct db *db, struct db_pool *out);
int db_pool_update(struct db *db, const struct db_pool *p);

#endif
