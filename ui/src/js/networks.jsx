// networks.jsx: the bridges VMs attach to.
import { useState } from 'preact/hooks';
import { can, del, post } from './api.js';
import { networks, vms } from './data.js';
import { useStore } from './store.js';
import { Confirm, Empty, Field, FormModal, PageHead } from './ui.jsx';

function NewNet({ onClose }) {
    const [f, setF] = useState({ name: '', bridge: '', mtu: 1500 });
    return <FormModal title="Add a network" onClose={onClose} submit="Add"
        onSubmit={() => post('/networks', { name: f.name, bridge: f.bridge, mtu: Number(f.mtu) })}>
                <Field label="Name"><input required value={f.name} autofocus
                    onInput={(e) => setF({ ...f, name: e.target.value })} /></Field>
                <Field label="Bridge" hint="A Linux bridge in dom0, such as xenbr0: made when missing">
                    <input required value={f.bridge}
                        onInput={(e) => setF({ ...f, bridge: e.target.value })} /></Field>
                <Field label="MTU"><input type="number" min="576" max="9216" value={f.mtu}
                    onInput={(e) => setF({ ...f, mtu: e.target.value })} /></Field>
    </FormModal>;
}

export function Networks() {
    const n = useStore(networks);
    const v = useStore(vms);
    const [modal, setModal] = useState(null);
    const admin = can('admin');
    const users = (id) => [...v.values()].filter((x) =>
        (x.nics || []).some((c) => c.network === id)).length;
    return <div>
        <PageHead title="Networks">
            {admin && <button type="button" class="primary" onClick={() => setModal(['new'])}>Add network</button>}
        </PageHead>
        <section class="card">
            {!n.size ? <Empty>No network.</Empty> : <table class="table">
                <thead><tr><th>Name</th><th>Bridge</th><th>MTU</th><th>VMs</th>
                    {admin && <th><span class="sr-only">Actions</span></th>}</tr></thead>
                <tbody>{[...n.values()].map((x) => <tr key={x.id}>
                    <td>{x.name}</td>
                    <td class="mono">{x.bridge} {x.bridge_exists === false &&
                        <span class="badge warn" title="The bridge does not exist on this host">missing</span>}</td>
                    <td>{x.mtu}</td><td>{users(x.id)}</td>
                    {admin && <td class="row-actions"><button type="button" class="small danger"
                        disabled={users(x.id) > 0} aria-label={'Delete ' + x.name}
                        onClick={() => setModal(['del', x])}>Delete</button></td>}
                </tr>)}</tbody>
            </table>}
        </section>
        {modal && modal[0] === 'new' && <NewNet onClose={() => setModal(null)} />}
        {modal && modal[0] === 'del' && <Confirm title={`Delete network ${modal[1].name}?`}
            text="A bridge xenith made goes with it; one that was there before stays on the host." action="Delete" danger
            onConfirm={() => del('/networks/' + modal[1].id)} onClose={() => setModal(null)} />}
    </div>;
}
