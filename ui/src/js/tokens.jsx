// tokens.jsx: the user's own API tokens; a new token's secret is shown
// once, with a copy button.
import { useState } from 'preact/hooks';
import { del, post, session } from './api.js';
import { time } from './format.js';
import { Confirm, Empty, ErrorText, Field, Modal, PageHead, useAction, useList } from './ui.jsx';

const RANK = ['viewer', 'operator', 'admin'];

function NewToken({ onClose }) {
    const mine = session.get().user.role;
    const roles = RANK.slice(0, RANK.indexOf(mine) + 1);
    const [f, setF] = useState({ name: '', role: roles[0], expires: '' });
    const [made, setMade] = useState(null);
    const [copied, setCopied] = useState(false);
    const a = useAction();
    if (made) return <Modal title="Token created" onClose={() => onClose(true)}>
        <div class="modal-body">
            <p><b>Copy the secret now:</b> it is shown only this once.</p>
            <div class="secret"><code id="token-secret">{made.token}</code>
                <button type="button" class="small primary" onClick={async () => {
                    try {
                        await navigator.clipboard.writeText(made.token);
                        setCopied(true);
                    } catch (e) {
                        a.setError('The browser refused clipboard access; select the text and copy it.');
                    }
                }}>{copied ? 'Copied' : 'Copy'}</button></div>
            <p class="muted small">Use it as <code>Authorization: Bearer …</code>.</p>
            <ErrorText error={a.error} />
        </div>
        <footer><button type="button" class="primary" onClick={() => onClose(true)}>Done</button></footer>
    </Modal>;
    return <Modal title="Create an API token" onClose={() => onClose()}>
        <form onSubmit={(e) => {
            e.preventDefault();
            const body = { name: f.name, role: f.role };
            if (f.expires) body.expires_at = new Date(f.expires + 'T23:59:59Z').toISOString().replace(/\.\d+Z$/, 'Z');
            a.run(async () => setMade(await post('/tokens', body)));
        }}>
            <div class="modal-body">
                <Field label="Name"><input required value={f.name} autofocus
                    onInput={(e) => setF({ ...f, name: e.target.value })} /></Field>
                <Field label="Role" hint="At most your own"><select value={f.role}
                    onChange={(e) => setF({ ...f, role: e.target.value })}>
                    {roles.map((r) => <option key={r}>{r}</option>)}</select></Field>
                <Field label="Expires (optional)"><input type="date" value={f.expires}
                    onInput={(e) => setF({ ...f, expires: e.target.value })} /></Field>
                <ErrorText error={a.error} />
            </div>
            <footer><button type="button" onClick={() => onClose()}>Cancel</button>
                <button type="submit" class="primary" disabled={a.busy}>Create</button></footer>
        </form>
    </Modal>;
}

export function Tokens() {
    const { list, err, modal, setModal, close } = useList('/tokens');
    return <div>
        <PageHead title="API tokens" sub="For scripts and tools: each token acts as you, with at most your role.">
            <button type="button" class="primary" onClick={() => setModal(['new'])}>Create token</button>
        </PageHead>
        <ErrorText error={err} />
        <section class="card">
            {list && !list.length && <Empty>No token.</Empty>}
            {list && list.length > 0 && <table class="table">
                <thead><tr><th>Name</th><th>Role</th><th>Created</th><th>Expires</th>
                    <th>Last used</th><th><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>{list.map((t) => <tr key={t.id}>
                    <td>{t.name}</td><td>{t.role}</td><td>{time(t.created_at)}</td>
                    <td>{t.expires_at ? time(t.expires_at) : 'never'}</td>
                    <td>{t.last_used ? time(t.last_used) : 'never'}</td>
                    <td class="row-actions"><button type="button" class="small danger"
                        aria-label={'Revoke ' + t.name}
                        onClick={() => setModal(['del', t])}>Revoke</button></td>
                </tr>)}</tbody>
            </table>}
        </section>
        {modal && modal[0] === 'new' && <NewToken onClose={close} />}
        {modal && modal[0] === 'del' && <Confirm title={`Revoke ${modal[1].name}?`}
            text="Programs using it are refused from now on." action="Revoke" danger
            onConfirm={() => del('/tokens/' + modal[1].id)} onClose={close} />}
    </div>;
}
