// The devices page: turn notifications on or off for this browser, on the device the person picks.
// It registers TPP's service worker, subscribes with the registry's VAPID key and stores the
// subscription on the device (POST <prefix>/devices/<id>/push).
"use strict";

(() => {
  const section = document.getElementById("notifications");
  if (!section) {
    return;
  }
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) {
    section.querySelector(".unsupported").hidden = false;
    return;
  }

  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function subscription() {
    const registration = await navigator.serviceWorker.register(section.dataset.worker, { scope: section.dataset.scope });
    await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing) {
      return existing;
    }
    return registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(section.dataset.key),
    });
  }

  // What to tell a person whose browser would not subscribe, rather than the browser's own words
  // ("AbortError: Registration failed - push service not available").
  function refusal(error) {
    if (error && error.name === "NotAllowedError") {
      return new Error("This browser does not allow notifications from this site; allow them in its settings.");
    }
    const said = (error && error.message) || String(error);
    return new Error(
      "This browser's push service did not accept the subscription, so notifications stay off here; " +
        "releases waiting for you are still listed under \u201cWaiting for you\u201d. (The browser said: " + said + ")",
    );
  }

  for (const button of section.querySelectorAll("button[data-push]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        if (button.dataset.on === "true") {
          await tpp.post(button.dataset.push, { subscription: null });
          tpp.say("Notifications for that device are off.");
        } else {
          if ((await Notification.requestPermission()) !== "granted") {
            throw refusal({ name: "NotAllowedError" });
          }
          const subscribed = await subscription().catch((error) => {
            throw refusal(error);
          });
          await tpp.post(button.dataset.push, { subscription: subscribed.toJSON() });
          tpp.say("Notifications are on: this browser will tell you when a release needs you.");
        }
        window.location.reload();
      } catch (error) {
        tpp.say(tpp.explain(error), true);
        button.disabled = false;
      }
    });
  }
})();
