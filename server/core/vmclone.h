/* vmclone.h: crash-consistent clones of a VM's disks (sr_image_clone:
 * reflink where the SR's filesystem has it, else a sparse copy), the VM
 * paused around the clones when it runs, so every disk is taken at the
 * same instant. Used by VM snapshots and by backup runs. Thread safe
 * (the caller keeps power operations away, see vmstate_claim).
 */
#ifndef XENITH_SERVER_CORE_VMCLONE_H
#define XENITH_SERVER_CORE_VMCLONE_H

#include <stddef.h>
#include <stdint.h>

struct app;

/* One clone: src_file in the SR at sr_path copied to dst_file there. */
struct vmclone_item {
    const char *sr_path;
    const char *src_file;
    const char *dst_file;
    int reflinked; /* out: 1 when the clone shares extents */
};

/* Clone items[num], pausing VM vm_id around them when running is set.
 * On failure the clones already made are removed, *failed_out (may be
 * NULL) gets the index of the item that failed (num when the pause
 * failed), and the error is returned; *pause_ms_out (may be NULL) gets
 * how long the VM was paused. */
int vmclone_disks(struct app *app, const char *vm_id, int running,
                  struct vmclone_item *items, size_t num, size_t *failed_out,
                  int64_t *pause_ms_out);

#endif
