// TPP's service worker: shows a push message as a notification, and opens its page when clicked.
// A push carries no facts (invariant I9): an id, why, and the page's URL. The text shown is read
// from the registry's status JSON with the browser's own session; the approval page always reads
// the facts from the server again before anyone decides.
"use strict";

const TITLES = {
  "approval-needed": "Approval needed",
  "reminder": "Still waiting for your approval",
  "approved": "Release approved",
  "rejected": "Release rejected",
  "expired": "Request expired",
  "cancelled": "Request withdrawn",
  "device-enrolled": "A device was added to your account",
  "device-bootstrapped": "A co-owner registered their first device",
  "device-recovered": "A co-owner who lost their devices added a new one",
  "recovery-vouched": "Someone vouched for a co-owner who lost their devices",
  "invited": "You were invited to approve releases",
};

// Only pages of this registry are ever opened, whatever a message says.
function ownUrl(url) {
  try {
    const parsed = new URL(url, self.location.href);
    if (parsed.origin === self.location.origin) {
      return parsed.href;
    }
  } catch (ignored) { /* not a URL */ }
  return self.registration.scope;
}

// "acme 1.0 on pypi.example", from the status JSON; the registry's host if it cannot be read.
async function describe(url) {
  try {
    const response = await fetch(`${url}/status.json`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      const status = await response.json();
      const what = status.kind === "release" ? `${status.project} ${status.version}` : `policy of ${status.scope}`;
      return `${what} on ${self.location.host}`;
    }
  } catch (ignored) { /* offline, or signed out: fall back to the host */ }
  return self.location.host;
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (ignored) { /* not JSON: shown as a generic notice */ }
  const url = ownUrl(data.url);
  event.waitUntil((async () => {
    const body = data.request ? await describe(url) : self.location.host;
    await self.registration.showNotification(TITLES[data.reason] || "Package approvals", {
      body,
      tag: data.request ? `request-${data.request}` : data.reason,
      data: { url },
    });
  })());
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = ownUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const same = open.find((client) => client.url === url);
    return same ? same.focus() : self.clients.openWindow(url);
  })());
});
