// storage.jsx: storage repositories (capacity, reflink) and disks
// (create, rename, grow, delete, import an image, export a download).
import { useState } from 'preact/hooks';
import { can, csrfHeaders, del, patch, post } from './api.js';
import { disks, srs, vms } from './data.js';
import { bytes, time } from './format.js';
import { useStore } from './store.js';
import { Confirm, Empty, ErrorText, Field, FormModal, Link, Meter, Modal, PageHead, Progress } from './ui.jsx';

const GIB = 1073741824;

function NewSr({ onClose }) {
    const [f, setF] = useState({ name: '', path: '' });
    return <FormModal title="Add a storage repository" onClose={onClose} submit="Add"
        onSubmit={() => post('/srs', { name: f.name, type: 'file', path: f.path })}>
                <Field label="Name"><input required value={f.name} autofocus
                    onInput={(e) => setF({ ...f, name: e.target.value })} /></Field>
                <Field label="Directory" hint="An absolute path on the host; disks are files in it.">
                    <input required placeholder="/srv/xenith/sr1" value={f.path}
                        onInput={(e) => setF({ ...f, path: e.target.value })} /></Field>
    </FormModal>;
}

function NewDisk({ onClose, srList }) {
    const [f, setF] = useState({ name: '', sr: srList[0] ? srList[0].id : '', size: 10 });
    return <FormModal title="Create a disk" onClose={onClose} submit="Create"
        onSubmit={() => post('/disks', { name: f.name, sr: f.sr,
            size_bytes: Math.round(Number(f.size) * GIB) })}>
                <Field label="Name"><input required value={f.name} autofocus
                    onInput={(e) => setF({ ...f, name: e.target.value })} /></Field>
                <Field label="Storage repository"><select value={f.sr}
                    onChange={(e) => setF({ ...f, sr: e.target.value })}>
                    {srList.map((s) => <option key={s.id} value={s.id}>
                        {s.name} ({bytes(s.free_bytes)} free)</option>)}</select></Field>
                <Field label="Size (GiB)"><input type="number" min="0.001" step="any" required
                    value={f.size} onInput={(e) => setF({ ...f, size: e.target.value })} /></Field>
    </FormModal>;
}

function EditDisk({ disk, onClose }) {
    const [name, setName] = useState(disk.name);
    const [size, setSize] = useState(+(disk.size_bytes / GIB).toFixed(3));
    const save = async () => {
        const body = {};
        if (name !== disk.name) body.name = name;
        const b = Math.round(Number(size) * GIB);
        if (b !== disk.size_bytes) body.size_bytes = b;
        if (Object.keys(body).length) await patch('/disks/' + disk.id, body);
    };
    return <FormModal title={`Edit ${disk.name}`} onClose={onClose} submit="Save" onSubmit={save}>
                <Field label="Name"><input required value={name}
                    onInput={(e) => setName(e.target.value)} /></Field>
                <Field label="Size (GiB)" hint={`Now ${bytes(disk.size_bytes)}; disks only grow.`}>
                    <input type="number" step="any" min={disk.size_bytes / GIB} value={size}
                        onInput={(e) => setSize(e.target.value)} /></Field>
    </FormModal>;
}

/* Upload a raw image with progress (XHR: fetch has no upload progress). */
function ImportDisk({ disk, onClose }) {
    const [file, setFile] = useState(null);
    const [prog, setProg] = useState(null);
    const [err, setErr] = useState(null);
    const go = (e) => {
        e.preventDefault();
        const x = new XMLHttpRequest();
        x.open('POST', `/api/v1/disks/${disk.id}/import`);
        x.setRequestHeader('Content-Type', 'application/octet-stream');
        for (const [k, v] of Object.entries(csrfHeaders())) x.setRequestHeader(k, v);
        x.upload.onprogress = (p) => p.lengthComputable && setProg(p.loaded / p.total);
        x.onload = () => {
            if (x.status < 300) onClose();
            else {
                setProg(null);
                try {
                    setErr(JSON.parse(x.responseText).error);
                } catch (e2) {
                    setErr(`upload failed: ${x.status}`);
                }
            }
        };
        x.onerror = () => {
            setProg(null);
            setErr('upload failed: network error');
        };
        setErr(null);
        setProg(0);
        x.send(file);
    };
    return <Modal title={`Import an image into ${disk.name}`} onClose={onClose}>
        <form onSubmit={go}>
            <div class="modal-body">
                <p>The raw image replaces the disk's content; it may not be larger
                    than the disk ({bytes(disk.size_bytes)}).</p>
                <Field label="Raw image file"><input type="file" required
                    onChange={(e) => setFile(e.target.files[0])} /></Field>
                {prog != null && <Progress value={prog} label="Upload progress" />}
                <ErrorText error={err} />
            </div>
            <footer><button type="button" onClick={onClose}>Cancel</button>
                <button type="submit" class="primary" disabled={!file || prog != null}>Upload</button></footer>
        </form>
    </Modal>;
}

export function Storage() {
    const s = useStore(srs);
    const d = useStore(disks);
    const v = useStore(vms);
    const [modal, setModal] = useState(null);
    const srList = [...s.values()];
    const list = [...d.values()].sort((a, b) => a.name.localeCompare(b.name));
    const op = can('operator');
    const admin = can('admin');
    return <div>
        <PageHead title="Storage">
            {admin && <button type="button" onClick={() => setModal(['sr'])}>Add SR</button>}
            {op && <button type="button" class="primary" disabled={!srList.length}
                onClick={() => setModal(['disk'])}>Create disk</button>}
        </PageHead>
        <section aria-labelledby="sr-h">
            <h2 id="sr-h">Storage repositories</h2>
            {!srList.length && <Empty>No storage repository.</Empty>}
            <div class="cards">
                {srList.map((x) => {
                    const used = x.size_bytes - x.free_bytes;
                    return <article class="card sr" key={x.id} aria-label={'SR ' + x.name}>
                        <div class="card-head"><h3>{x.name}</h3>
                            <span class={'badge ' + (x.online ? 'ok' : 'bad')}>{x.online ? 'online' : 'offline'}</span></div>
                        <p class="muted mono">{x.type} · {x.path}</p>
                        <Meter used={used} total={x.size_bytes} label={`${x.name} space used`} />
                        <p class="small">{bytes(used)} used of {bytes(x.size_bytes)} · {bytes(x.free_bytes)} free</p>
                        <p class="small">{x.disks} disk(s) · {bytes(x.used_bytes)} allocated by disks ·{' '}
                            <span class={'cap ' + (x.reflink ? 'yes' : 'no')}>
                                {x.reflink ? 'reflink: instant clones' : 'no reflink: clones copy data'}</span></p>
                        {admin && <button type="button" class="small danger" disabled={x.disks > 0}
                            title={x.disks ? 'Only an empty SR can be forgotten' : ''}
                            onClick={() => setModal(['delsr', x])}>Forget</button>}
                    </article>;
                })}
            </div>
        </section>
        <section class="card" aria-labelledby="disk-h">
            <h2 id="disk-h">Disks ({list.length})</h2>
            {!list.length ? <Empty>No disk.</Empty> : <div class="table-wrap"><table class="table">
                <thead><tr><th>Name</th><th>SR</th><th>Size</th><th>Allocated</th>
                    <th>Used by</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>{list.map((x) => {
                    const vm = x.attached && v.get(x.attached.vm);
                    return <tr key={x.id}>
                        <td>{x.name}{x.snapshot_of && <span class="muted"> (snapshot)</span>}</td>
                        <td>{s.get(x.sr) ? s.get(x.sr).name : '—'}</td>
                        <td>{bytes(x.size_bytes)}</td>
                        <td>{bytes(x.used_bytes)}</td>
                        <td>{x.attached ? <Link href={'/vms/' + x.attached.vm}>
                            {vm ? vm.name : x.attached.vm.slice(0, 8)} ({x.attached.device})</Link> : '—'}</td>
                        <td>{time(x.created_at)}</td>
                        <td class="row-actions">
                            {op && <button type="button" class="small" onClick={() => setModal(['edit', x])}
                                aria-label={'Edit ' + x.name}>Edit</button>}
                            {op && <button type="button" class="small" onClick={() => setModal(['import', x])}
                                aria-label={'Import into ' + x.name}>Import</button>}
                            {op && <a class="button small" href={`/api/v1/disks/${x.id}/export`} download
                                aria-label={'Export ' + x.name}>Export</a>}
                            {op && <button type="button" class="small danger" disabled={!!x.attached}
                                title={x.attached ? 'Detach it from its VM first' : ''}
                                onClick={() => setModal(['deldisk', x])}
                                aria-label={'Delete ' + x.name}>Delete</button>}
                        </td>
                    </tr>;
                })}</tbody>
            </table></div>}
        </section>
        {modal && modal[0] === 'sr' && <NewSr onClose={() => setModal(null)} />}
        {modal && modal[0] === 'disk' && <NewDisk srList={srList} onClose={() => setModal(null)} />}
        {modal && modal[0] === 'edit' && <EditDisk disk={modal[1]} onClose={() => setModal(null)} />}
        {modal && modal[0] === 'import' && <ImportDisk disk={modal[1]} onClose={() => setModal(null)} />}
        {modal && modal[0] === 'deldisk' && <Confirm title={`Delete disk ${modal[1].name}?`}
            text="Its data is gone for good." action="Delete" danger
            onConfirm={() => del('/disks/' + modal[1].id)} onClose={() => setModal(null)} />}
        {modal && modal[0] === 'delsr' && <Confirm title={`Forget SR ${modal[1].name}?`}
            text="xenith stops using this directory. Its files stay on the host." action="Forget" danger
            onConfirm={() => del('/srs/' + modal[1].id)} onClose={() => setModal(null)} />}
    </div>;
}
