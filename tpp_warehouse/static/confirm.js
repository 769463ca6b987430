// The confirmation page: one WebAuthn assertion proves a device, and the session may then change things.
"use strict";

(() => {
  const form = document.getElementById("confirm-device");
  if (!form) {
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (!tpp.supported()) {
      return;
    }
    button.disabled = true;
    try {
      const begun = await tpp.post(form.dataset.begin, {});
      const credential = await tpp.get(begun.options);
      const finished = await tpp.post(form.dataset.finish, {
        ceremony: { id: begun.id, credential },
        next: form.dataset.next,
      });
      tpp.say("Confirmed.");
      window.location.assign(finished.next);
    } catch (error) {
      tpp.say(tpp.explain(error), true);
      button.disabled = false;
    }
  });
})();
