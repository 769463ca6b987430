// The devices page: enrol this device. A person's first device registers on its own; every later one
// is first confirmed with a device they already have (tpp.devices.begin says which case this is).
"use strict";

(() => {
  const form = document.getElementById("add-device");
  if (!form) {
    return;
  }

  function explain(error) {
    if (error && error.name === "InvalidStateError") {
      return "This device is already registered. Nothing was changed.";
    }
    return tpp.explain(error);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const name = form.elements.name.value.trim();
    if (!name) {
      tpp.say("Give this device a name first.", true);
      return;
    }
    if (!tpp.supported()) {
      return;
    }
    button.disabled = true;
    try {
      const begun = await tpp.post(form.dataset.begin, {});
      let vouch = null;
      if (begun.vouch) {
        tpp.say("First confirm with one of the devices you already have.");
        vouch = { id: begun.vouch.id, credential: await tpp.get(begun.vouch.options) };
      }
      tpp.say("Now register this device.");
      const credential = await tpp.create(begun.registration.options);
      const finished = await tpp.post(form.dataset.finish, {
        name,
        registration: { id: begun.registration.id, credential },
        vouch,
      });
      tpp.say(`Added “${finished.device.name}”.`);
      window.location.reload();
    } catch (error) {
      tpp.say(explain(error), true);
      button.disabled = false;
    }
  });
})();
