// users.jsx: accounts and roles (admin), and setting passwords.
import { useState } from 'preact/hooks';
import { del, patch, post, session } from './api.js';
import { time } from './format.js';
import { Confirm, ErrorText, Field, FormModal, PageHead, useAction, useList } from './ui.jsx';

const ROLES = ['viewer', 'operator', 'admin'];

function NewUser({ onClose }) {
    const [f, setF] = useState({ username: '', password: '', role: 'viewer', must: true });
    return <FormModal title="Add a user" onClose={onClose} submit="Add user"
        onSubmit={() => post('/users', { username: f.username, password: f.password,
            role: f.role, must_change_password: f.must })}>
                <Field label="Username"><input required value={f.username} autofocus
                    autocomplete="off" onInput={(e) => setF({ ...f, username: e.target.value })} /></Field>
                <Field label="Password" hint="At least 8 characters"><input required type="password"
                    autocomplete="new-password" value={f.password}
                    onInput={(e) => setF({ ...f, password: e.target.value })} /></Field>
                <Field label="Role"><select value={f.role}
                    onChange={(e) => setF({ ...f, role: e.target.value })}>
                    {ROLES.map((r) => <option key={r}>{r}</option>)}</select></Field>
                <label class="check"><input type="checkbox" checked={f.must}
                    onChange={(e) => setF({ ...f, must: e.target.checked })} />
                    Must choose a new password at first log-in</label>
    </FormModal>;
}

function SetPassword({ user, onClose }) {
    const me = session.get().user.id === user.id;
    const [p, setP] = useState('');
    const [cur, setCur] = useState('');
    return <FormModal title={`Set the password of ${user.username}`} onClose={onClose}
        submit="Set password" onSubmit={() => post(`/users/${user.id}/password`, me ?
            { password: p, current_password: cur } : { password: p })}>
                {me && <Field label="Current password"><input required type="password"
                    autocomplete="current-password" value={cur}
                    onInput={(e) => setCur(e.target.value)} /></Field>}
                <Field label="New password"><input required type="password" autofocus
                    autocomplete="new-password" value={p} onInput={(e) => setP(e.target.value)} /></Field>
    </FormModal>;
}

function UserRow({ u, reload, setModal }) {
    const a = useAction();
    const me = session.get().user.id === u.id;
    return <tr>
        <td>{u.username} {me && <span class="badge">you</span>}</td>
        <td><select aria-label={`Role of ${u.username}`} value={u.role} disabled={a.busy}
            onChange={(e) => a.run(async () => {
                await patch('/users/' + u.id, { role: e.target.value });
                reload();
            })}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select>
            <ErrorText error={a.error} /></td>
        <td><label class="check"><input type="checkbox" checked={u.must_change_password}
            disabled={a.busy} onChange={(e) => a.run(async () => {
                await patch('/users/' + u.id, { must_change_password: e.target.checked });
                reload();
            })} /> must choose a new password</label></td>
        <td>{time(u.created_at)}</td>
        <td class="row-actions">
            <button type="button" class="small" onClick={() => setModal(['pw', u])}
                aria-label={'Set the password of ' + u.username}>Password</button>
            <button type="button" class="small danger" disabled={me}
                onClick={() => setModal(['del', u])} aria-label={'Delete ' + u.username}>Delete</button>
        </td>
    </tr>;
}

export function Users() {
    const { list, err, reload, modal, setModal, close } = useList('/users');
    return <div>
        <PageHead title="Users" sub="Viewers see everything, operators run VMs and storage, admins also manage users, SRs, networks and the audit log.">
            <button type="button" class="primary" onClick={() => setModal(['new'])}>Add user</button>
        </PageHead>
        <ErrorText error={err} />
        <section class="card"><table class="table">
            <thead><tr><th>User</th><th>Role</th><th>Next log-in</th><th>Created</th>
                <th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>{(list || []).map((u) => <UserRow key={u.id} u={u} reload={reload} setModal={setModal} />)}</tbody>
        </table></section>
        {modal && modal[0] === 'new' && <NewUser onClose={close} />}
        {modal && modal[0] === 'pw' && <SetPassword user={modal[1]} onClose={close} />}
        {modal && modal[0] === 'del' && <Confirm title={`Delete ${modal[1].username}?`}
            text="Their sessions and API tokens stop working." action="Delete" danger
            onConfirm={() => del('/users/' + modal[1].id)} onClose={close} />}
    </div>;
}
