// The approval page: approve or reject with a WebAuthn assertion whose challenge the registry bound to
// this request's manifest, this person and this verdict (tpp.request.begin), then record it
// (tpp.request.decide) and show the page as the registry now has it.
"use strict";

(() => {
  const box = document.getElementById("decide");
  if (!box) {
    return;
  }
  const buttons = Array.from(box.querySelectorAll("button[data-verdict]"));

  async function decide(verdict) {
    const reason = verdict === "reject" ? document.getElementById("reason").value.trim() : "";
    const ceremony = await tpp.post(box.dataset.begin, { verdict });
    tpp.say(verdict === "approve" ? "Confirm your approval on your device." : "Confirm your rejection on your device.");
    const credential = await tpp.get(ceremony.options);
    const answer = await tpp.post(box.dataset.decide, {
      verdict,
      ceremony: { id: ceremony.id, credential },
      reason,
    });
    tpp.say(`Recorded. The request is ${answer.state}.`);
    window.location.reload(); // the registry's notice (what the decision did) shows on the reloaded page
  }

  for (const button of buttons) {
    button.addEventListener("click", async () => {
      if (!tpp.supported()) {
        return;
      }
      // Rejecting deletes the files for good: the person says so twice.
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
        return;
      }
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await decide(button.dataset.verdict);
      } catch (error) {
        tpp.say(tpp.explain(error), true);
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  }
})();
