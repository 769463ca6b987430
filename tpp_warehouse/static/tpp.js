// TPP's shared browser helpers: JSON calls with the CSRF token, and the two WebAuthn ceremonies.
// Pages load this file and their own; there is no inline script (the CSP forbids it).
"use strict";

const tpp = {
  csrf() {
    return document.querySelector('meta[name="csrf-token"]').content;
  },

  // POST a JSON body; resolves to the JSON answer, or throws an Error carrying the server's message.
  async post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": tpp.csrf() },
      body: JSON.stringify(body || {}),
    });
    let answer = {};
    try { answer = await response.json(); } catch (ignored) { /* an empty or non-JSON answer */ }
    if (!response.ok) {
      throw new Error(answer.error || `The registry answered ${response.status}.`);
    }
    return answer;
  },

  // Whether this browser can run WebAuthn ceremonies; if not, the page says so.
  supported() {
    if (window.PublicKeyCredential) {
      return true;
    }
    tpp.say("This browser cannot use passkeys or security keys.", true);
    return false;
  },

  // navigator.credentials.create() from options JSON; returns the credential as JSON text.
  async create(optionsJSON) {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(optionsJSON));
    const credential = await navigator.credentials.create({ publicKey });
    return JSON.stringify(credential.toJSON());
  },

  // navigator.credentials.get() from options JSON; returns the assertion as JSON text.
  async get(optionsJSON) {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(optionsJSON));
    const credential = await navigator.credentials.get({ publicKey });
    return JSON.stringify(credential.toJSON());
  },

  // Show a message in the page's notice area.
  say(message, isError) {
    const notice = document.getElementById("tpp-notice");
    notice.textContent = message;
    notice.classList.toggle("error", Boolean(isError));
    notice.hidden = false;
  },

  // A user-facing explanation of a failed ceremony.
  explain(error) {
    if (error && error.name === "NotAllowedError") {
      return "The confirmation was cancelled or timed out. Nothing was changed.";
    }
    return (error && error.message) || String(error);
  },
};

// A form that ends something for good (data-confirm) asks before it is sent.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
}
