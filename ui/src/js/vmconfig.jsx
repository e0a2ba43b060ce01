// vmconfig.jsx: change a VM with PATCH: name, description, vCPUs,
// memory, tags any time (vCPUs and memory live while it runs); disks and
// NICs unless it is suspended (hot-plugged while it runs); boot while it
// is halted. Only changed fields are sent.
import { useEffect, useState } from 'preact/hooks';
import { can, patch } from './api.js';
import { disks, networks } from './data.js';
import { bytes } from './format.js';
import { useStore } from './store.js';
import { ErrorText, Field, useAction } from './ui.jsx';
import { BootFields, bootBody } from './wizard.jsx';

function fromVm(vm) {
    return {
        name: vm.name, description: vm.description || '', vcpus: vm.vcpus,
        memory_mib: vm.memory_mib, tags: (vm.tags || []).join(', '),
        boot: { type: 'pv', kernel: '', ramdisk: '', cmdline: '', cdrom: '', ...vm.boot },
        disks: (vm.disks || []).map((d) => ({ ...d })),
        nics: (vm.nics || []).map((n) => ({ ...n })),
    };
}

export const parseTags = (s) => s.split(',').map((t) => t.trim()).filter(Boolean);

export function VmConfig({ vm }) {
    const [f, setF] = useState(() => fromVm(vm));
    const [saved, setSaved] = useState(false);
    const a = useAction();
    const allDisks = useStore(disks);
    const nets = useStore(networks);
    const ro = !can('operator');
    const halted = vm.state === 'halted';
    const devices = vm.state !== 'suspended';
    useEffect(() => setF(fromVm(vm)), [vm.updated_at]);
    const set = (k, v) => {
        setSaved(false);
        setF({ ...f, [k]: v });
    };
    const free = [...allDisks.values()].filter((d) => !d.attached && !d.snapshot_of);
    const save = (e) => {
        e.preventDefault();
        const o = fromVm(vm);
        const body = {};
        for (const k of ['name', 'description'])
            if (f[k] !== o[k]) body[k] = f[k];
        for (const k of ['vcpus', 'memory_mib'])
            if (Number(f[k]) !== o[k]) body[k] = Number(f[k]);
        if (f.tags !== o.tags) body.tags = parseTags(f.tags);
        if (halted) {
            const b = bootBody(f.boot);
            if (JSON.stringify(b) !== JSON.stringify(bootBody(o.boot))) body.boot = b;
        }
        if (devices) {
            if (JSON.stringify(f.disks) !== JSON.stringify(o.disks))
                body.disks = f.disks.map((d) => ({ disk: d.disk, device: d.device, mode: d.mode }));
            if (JSON.stringify(f.nics) !== JSON.stringify(o.nics))
                body.nics = f.nics.map((n) => (n.mac ? n : { network: n.network }));
        }
        if (!Object.keys(body).length) return;
        a.run(async () => {
            await patch('/vms/' + vm.id, body);
            setSaved(true);
        });
    };
    return <form class="card form-grid" onSubmit={save} aria-label="Configuration">
        <fieldset disabled={ro}>
            <legend>General</legend>
            <Field label="Name"><input required value={f.name}
                onInput={(e) => set('name', e.target.value)} /></Field>
            <Field label="Description"><input value={f.description}
                onInput={(e) => set('description', e.target.value)} /></Field>
            <Field label="Tags" hint="Comma separated"><input value={f.tags}
                onInput={(e) => set('tags', e.target.value)} /></Field>
            <div class="row2">
                <Field label="vCPUs"><input type="number" min="1" max="128" value={f.vcpus}
                    onInput={(e) => set('vcpus', e.target.value)} /></Field>
                <Field label="Memory (MiB)"><input type="number" min="16" step="16"
                    value={f.memory_mib}
                    onInput={(e) => set('memory_mib', e.target.value)} /></Field>
            </div>
        </fieldset>
        <fieldset disabled={ro || !halted}>
            <legend>Boot {!halted &&
                <span class="muted">(change while halted)</span>}</legend>
            <BootFields boot={f.boot} onChange={(b) => set('boot', b)} disks={allDisks} />
        </fieldset>
        <fieldset disabled={ro || !devices}>
            <legend>Disks and network {devices ? !halted &&
                <span class="muted">(changed live)</span> :
                <span class="muted">(not while suspended)</span>}</legend>
            <h3>Disks</h3>
            <ul class="plain edit-list">
                {f.disks.map((d, i) => <li key={i}>
                    <b>{d.device}</b> {allDisks.get(d.disk) ? allDisks.get(d.disk).name : d.disk}
                    <select aria-label={`Mode of ${d.device}`} value={d.mode}
                        onChange={(e) => set('disks', f.disks.map((x, j) =>
                            j === i ? { ...x, mode: e.target.value } : x))}>
                        <option value="rw">read-write</option>
                        <option value="ro">read-only</option>
                    </select>
                    <button type="button" class="small" aria-label={`Detach ${d.device}`}
                        onClick={() => set('disks', f.disks.filter((x, j) => j !== i))}>
                        Detach</button>
                </li>)}
            </ul>
            {free.length > 0 && <label class="inline">Attach a disk{' '}
                <select value="" onChange={(e) => {
                    if (!e.target.value) return;
                    const used = new Set(f.disks.map((d) => d.device));
                    let n = 0;
                    while (used.has('xvd' + String.fromCharCode(97 + n))) n++;
                    set('disks', [...f.disks, { disk: e.target.value,
                        device: 'xvd' + String.fromCharCode(97 + n), mode: 'rw' }]);
                }}>
                    <option value="">choose…</option>
                    {free.map((d) => <option key={d.id} value={d.id}>
                        {d.name} ({bytes(d.size_bytes)})</option>)}
                </select></label>}
            <h3>Network interfaces</h3>
            <ul class="plain edit-list">
                {f.nics.map((n, i) => <li key={i}>
                    <b>eth{i}</b>
                    <select aria-label={`Network of eth${i}`} value={n.network}
                        onChange={(e) => set('nics', f.nics.map((x, j) =>
                            j === i ? { ...x, network: e.target.value } : x))}>
                        {[...nets.values()].map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
                    </select>
                    <span class="muted">{n.mac || 'new MAC'}</span>
                    <button type="button" class="small" aria-label={`Remove eth${i}`}
                        onClick={() => set('nics', f.nics.filter((x, j) => j !== i))}>
                        Remove</button>
                </li>)}
            </ul>
            {nets.size > 0 && <button type="button" class="small" onClick={() =>
                set('nics', [...f.nics, { network: [...nets.keys()][0] }])}>
                Add a NIC</button>}
        </fieldset>
        {!ro && <div class="form-foot">
            <ErrorText error={a.error} />
            {saved && <span role="status" class="ok">Saved.</span>}
            <button type="button" onClick={() => setF(fromVm(vm))}>Reset</button>
            <button type="submit" class="primary" disabled={a.busy}>Save changes</button>
        </div>}
    </form>;
}
