// snapshots.jsx: a VM's snapshots: take, revert, delete.
import { useEffect, useState } from 'preact/hooks';
import { can, del, get, post } from './api.js';
import { time } from './format.js';
import { Confirm, Empty, ErrorText, useAction } from './ui.jsx';

export function Snapshots({ vm }) {
    const [list, setList] = useState(null);
    const [name, setName] = useState('');
    const [ask, setAsk] = useState(null);
    const a = useAction();
    const load = () => get(`/vms/${vm.id}/snapshots`).then(setList, a.setError);
    useEffect(() => {
        load();
    }, [vm.id]);
    const take = (e) => {
        e.preventDefault();
        a.run(async () => {
            await post(`/vms/${vm.id}/snapshots`, { name });
            setName('');
            await load();
        });
    };
    const op = can('operator');
    return <section class="card" aria-labelledby="s-h">
        <h2 id="s-h">Snapshots</h2>
        {op && <form class="inline-form" onSubmit={take}>
            <label class="field inline"><span class="label">Snapshot name</span>
                <input required maxLength={64} value={name} placeholder="before-upgrade"
                    onInput={(e) => setName(e.target.value)} /></label>
            <button type="submit" class="primary" disabled={a.busy}>
                {a.busy ? 'Taking…' : 'Take snapshot'}</button>
        </form>}
        <ErrorText error={a.error} />
        {list && !list.length && <Empty>No snapshot yet.</Empty>}
        {list && list.length > 0 && <table class="table">
            <thead><tr><th>Name</th><th>Taken</th><th>Disks</th>
                {op && <th><span class="sr-only">Actions</span></th>}</tr></thead>
            <tbody>{list.map((s) => <tr key={s.id}>
                <td>{s.name}</td><td>{time(s.created_at)}</td>
                <td>{s.disks.map((d) => d.device).join(', ')}</td>
                {op && <td class="row-actions">
                    <button type="button" class="small" onClick={() => setAsk(['revert', s])}>Revert</button>
                    <button type="button" class="small danger" onClick={() => setAsk(['delete', s])}>Delete</button>
                </td>}
            </tr>)}</tbody>
        </table>}
        {ask && <Confirm title={ask[0] === 'revert' ? `Revert to ${ask[1].name}?` :
            `Delete snapshot ${ask[1].name}?`}
            text={ask[0] === 'revert' ? 'The VM\'s disks and configuration go back to this snapshot; changes since are lost. The VM must be halted.' :
                'The snapshot and its disk copies are deleted.'}
            action={ask[0] === 'revert' ? 'Revert' : 'Delete'} danger
            onConfirm={async () => {
                if (ask[0] === 'revert')
                    await post(`/vms/${vm.id}/snapshots/${ask[1].id}/revert`);
                else await del(`/vms/${vm.id}/snapshots/${ask[1].id}`);
                await load();
            }} onClose={() => setAsk(null)} />}
    </section>;
}
