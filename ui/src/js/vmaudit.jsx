// vmaudit.jsx: who did what to this VM, from the audit log (admin only;
// the API filters by user, so the VM's rows are picked here).
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { AuditTable } from './audit.jsx';
import { ErrorText } from './ui.jsx';

export function VmAudit({ vm }) {
    const [rows, setRows] = useState(null);
    const [err, setErr] = useState(null);
    useEffect(() => {
        get('/audit?limit=1000').then((l) => setRows(l.filter((x) =>
            x.target === vm.id || x.path.includes(vm.id))), setErr);
    }, [vm.id, vm.updated_at]);
    return <section class="card" aria-labelledby="a-h">
        <h2 id="a-h">Audit trail</h2>
        <ErrorText error={err} />
        {rows && <AuditTable rows={rows} />}
    </section>;
}
