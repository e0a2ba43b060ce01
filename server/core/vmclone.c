#include "server/core/vmclone.h"

#include "common/log.h"
#include "common/timeutil.h"
#include "server/core/app.h"
#include "server/core/sr.h"
#include "xen/hv.h"

int vmclone_disks(struct app *app, const char *vm_id, int running,
                  struct vmclone_item *items, size_t num, size_t *failed_out,
                  int64_t *pause_ms_out)
{
    int64_t t0 = 0;
    int paused = 0, rc = 0;
    size_t made = 0;

    if (pause_ms_out)
        *pause_ms_out = 0;
    if (running && num) {
        t0 = time_mono_ms();
        rc = hv_pause(app->hv, vm_id);
        if (rc) {
            log_error("vm %s: cannot pause for the disk clones: %s", vm_id,
                      hv_last_error());
            if (failed_out)
                *failed_out = num;
            return rc;
        }
        paused = 1;
    }
    for (; made < num; made++) {
        items[made].reflinked = 0;
        rc = sr_image_clone(items[made].sr_path, items[made].src_file,
                            items[made].dst_file, &items[made].reflinked);
        if (rc)
            break;
    }
    if (paused) {
        if (hv_resume(app->hv, vm_id))
            log_error("vm %s: cannot resume after the disk clones: %s", vm_id,
                      hv_last_error());
        if (pause_ms_out)
            *pause_ms_out = time_mono_ms() - t0;
    }
    if (rc) {
        if (failed_out)
            *failed_out = made;
        while (made) {
            made--;
            sr_image_delete(items[made].sr_path, items[made].dst_file);
        }
    }
    return rc;
}
