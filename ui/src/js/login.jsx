// login.jsx: log in, and the forced first password change.
import { useState } from 'preact/hooks';
import { post, session } from './api.js';
import { ErrorText, Field, useAction } from './ui.jsx';

export function Login({ expired }) {
    const [u, setU] = useState('');
    const [p, setP] = useState('');
    const a = useAction();
    const submit = (e) => {
        e.preventDefault();
        a.run(async () => session.set(await post('/session',
            { username: u, password: p }, { noRedirect: true })));
    };
    return <div class="auth-page">
        <form class="auth-card" onSubmit={submit} aria-labelledby="login-h">
            <div class="brand big"><Logo /> xenith</div>
            <h1 id="login-h">Log in</h1>
            {expired && <p class="notice" role="status">
                Your session has ended. Log in again to continue.</p>}
            <Field label="Username">
                <input name="username" autocomplete="username" required
                    value={u} onInput={(e) => setU(e.target.value)} autofocus />
            </Field>
            <Field label="Password">
                <input name="password" type="password" required
                    autocomplete="current-password" value={p}
                    onInput={(e) => setP(e.target.value)} />
            </Field>
            <ErrorText error={a.error} />
            <button class="primary wide" type="submit" disabled={a.busy}>
                {a.busy ? 'Logging in…' : 'Log in'}</button>
        </form>
    </div>;
}

export function ChangePassword({ onLogout }) {
    const s = session.get();
    const [cur, setCur] = useState('');
    const [p1, setP1] = useState('');
    const [p2, setP2] = useState('');
    const a = useAction();
    const submit = (e) => {
        e.preventDefault();
        if (p1 !== p2) {
            a.setError('The two new passwords differ.');
            return;
        }
        a.run(async () => {
            await post(`/users/${s.user.id}/password`,
                { password: p1, current_password: cur });
            session.set({ ...s, user: { ...s.user, must_change_password: false } });
        });
    };
    return <div class="auth-page">
        <form class="auth-card" onSubmit={submit} aria-labelledby="pw-h">
            <div class="brand big"><Logo /> xenith</div>
            <h1 id="pw-h">Choose a new password</h1>
            <p class="sub">Welcome, {s.user.username}. Before anything else,
                replace the password you were given.</p>
            <Field label="Current password">
                <input type="password" autocomplete="current-password" required
                    value={cur} onInput={(e) => setCur(e.target.value)} />
            </Field>
            <Field label="New password" hint="At least 8 characters.">
                <input type="password" autocomplete="new-password" required
                    minLength={8} value={p1}
                    onInput={(e) => setP1(e.target.value)} />
            </Field>
            <Field label="New password again">
                <input type="password" autocomplete="new-password" required
                    value={p2} onInput={(e) => setP2(e.target.value)} />
            </Field>
            <ErrorText error={a.error} />
            <button class="primary wide" type="submit" disabled={a.busy}>
                Change password</button>
            <button class="link wide" type="button" onClick={onLogout}>
                Log out</button>
        </form>
    </div>;
}

export function Logo() {
    return <svg class="logo" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M4 4l7 8-7 8h4l5-5.7L18 20h2l-7-8 7-8h-4l-5 5.7L6 4z" />
    </svg>;
}
