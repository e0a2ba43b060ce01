// The placeholder UI: the daemon's health and a login form.
"use strict";

async function showHealth() {
  const el = document.getElementById("health");
  try {
    const r = await fetch("/api/v1/health", { credentials: "same-origin" });
    const h = await r.json();
    el.textContent = "xenithd " + h.version + ", driver " + h.driver;
  } catch (e) {
    el.textContent = "The daemon does not answer.";
  }
}

async function login(ev) {
  ev.preventDefault();
  const form = ev.target;
  const status = document.getElementById("status");
  const body = {
    username: form.elements.username.value,
    password: form.elements.password.value,
  };
  try {
    const r = await fetch("/api/v1/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    if (r.ok) {
      status.textContent = "Logged in as " + (j.user ? j.user.username : body.username) + ".";
      sessionStorage.setItem("xenith_csrf", j.csrf_token || "");
    } else {
      status.textContent = (j.error && j.error.message) || "Login failed.";
    }
  } catch (e) {
    status.textContent = "Login failed: " + e.message;
  }
  form.elements.password.value = "";
}

document.addEventListener("DOMContentLoaded", () => {
  showHealth();
  document.getElementById("login").addEventListener("submit", login);
});
