"""People at real browsers: Debian's headless Chromium driven by Playwright, each person in a browser
context of their own with a CDP virtual platform authenticator (CTAP2, user verification)::

    alice = Person(chromium, server.url, "/+tpp", "alice")   # then sign in as the host wants
    alice.enrol("laptop")                      # devices.js: navigator.credentials.create()
    alice.decide(request_id, "approve")        # request.js: navigator.credentials.get()

Pages are opened at ``http://localhost:PORT``: WebAuthn refuses IP addresses as relying-party ids.
Screenshots go to docs/_static/screenshots, where the owner's guide shows them, when the run was asked
for them (``pytest --screenshots``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, ClassVar

from playwright.sync_api import Browser, Page, ViewportSize, expect

__all__ = ["DESKTOP", "LAUNCH_ARGS", "PHONE", "SCREENSHOTS", "Person", "chromium_executable"]

#: Debian's binary itself: the /usr/bin/chromium wrapper adds flags of its own and warns on stderr.
CHROMIUM = os.environ.get("TPP_TEST_CHROMIUM", "/usr/lib/chromium/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
#: A phone-sized viewport (an iPhone 12's CSS pixels).
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1100, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"
#: A passkey on the device itself (Touch ID, Windows Hello): verifies the user, answers at once.
AUTHENTICATOR = {
    "protocol": "ctap2",
    "ctap2Version": "ctap2_1",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
#: WebAuthn.setResponseOverrideBits: all off is the authenticator's honest answer.
HONEST = {"isBogusSignature": False, "isBadUV": False, "isBadUP": False}

#: Close the notifications shown so far, and wait until they are gone.
_CLOSE_NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  (await registration.getNotifications()).forEach((n) => n.close());
  const deadline = Date.now() + 20000;
  while ((await registration.getNotifications()).length > 0) {
    if (Date.now() > deadline) {
      throw new Error("the notifications shown before were still open after 20 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}"""

#: The notifications the service worker shows, once it shows one (it reads the status JSON first).
_SHOWN_NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const deadline = Date.now() + 20000;
  for (;;) {
    const shown = await registration.getNotifications();
    if (shown.length > 0) {
      return shown.map((n) => ({ title: n.title, body: n.body, data: n.data }));
    }
    if (Date.now() > deadline) {
      throw new Error("the service worker showed no notification within 20 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}"""


def chromium_executable() -> str:
    """The Chromium to drive: ``TPP_TEST_CHROMIUM``, Debian's binary, or ``chromium`` on the PATH."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        raise FileNotFoundError(f"no Chromium at {CHROMIUM} nor on the PATH (apt-get install chromium)")
    return found


class Person:
    """One person's browser (a Playwright context: cookies, one tab) with its own authenticator."""

    #: Where :meth:`screenshot` writes: :data:`SCREENSHOTS` under ``pytest --screenshots`` (the
    #: browser tests' conftest sets it), otherwise nowhere, so that a test run leaves the tree as it was.
    screenshots: ClassVar[Path | None] = None

    def __init__(self, browser: Browser, origin: str, prefix: str, name: str, *, phone: bool = False) -> None:
        self.origin, self.prefix, self.name = origin, prefix, name
        self.context = browser.new_context(viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone)
        self.page = self.context.new_page()
        self.page_errors: list[str] = []  # uncaught exceptions in the page's scripts
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        added = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        self.authenticator = added["authenticatorId"]

    def open(self, path: str) -> Page:
        """Open a TPP page (``path`` below the host's prefix) and return the tab."""
        self.page.goto(self.origin + self.prefix + path)
        return self.page

    def notice(self, *, error: bool = False) -> str:
        """The page's message area (tpp.say), once it shows something (an error, if ``error``)."""
        notice = self.page.locator("#tpp-notice.error" if error else "#tpp-notice")
        expect(notice).to_be_visible()
        return notice.inner_text()

    def credentials(self) -> list[dict[str, Any]]:
        """The credentials the authenticator holds (one per enrolled device on this browser)."""
        answer = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})
        return list(answer["credentials"])

    def misbehave(self, **bits: bool) -> None:
        """Make the authenticator's next answers wrong (``isBogusSignature``, ``isBadUV``) or honest again."""
        self.cdp.send("WebAuthn.setResponseOverrideBits", {"authenticatorId": self.authenticator, **HONEST, **bits})

    def confirm(self) -> Page:
        """Complete the sign-in with this browser's device on the confirmation page."""
        page = self.open("/confirm")
        page.click("#confirm-device button[type=submit]")
        page.wait_for_url(lambda url: "/confirm" not in url)
        return page

    def enrol(self, device: str) -> Page:
        """Add this browser as a device on the devices page; waits until the page lists it."""
        page = self.open("/devices")
        page.fill("#device-name", device)
        page.click("#add-device button[type=submit]")
        expect(page.locator("#devices")).to_contain_text(device)
        return page

    def enrol_vouched_by(self, first: Person, device: str) -> Page:
        """Add this browser as a further device, confirming with ``first``'s authenticator.

        Chromium allows one platform authenticator per browser, and a second authenticator on the
        same page would answer the registration's exclude list, so the confirmation is signed in
        ``first``'s browser, as a phone answers a laptop over hybrid transport: the page's first
        ``tpp.get`` (the vouch) is routed there; the registration runs here.
        """
        page = self.open("/devices")
        page.expose_function("tppVouch", lambda options: first.page.evaluate("o => tpp.get(o)", options))
        page.evaluate("() => { const own = tpp.get; tpp.get = (o) => { tpp.get = own; return window.tppVouch(o); }; }")
        page.fill("#device-name", device)
        page.click("#add-device button[type=submit]")
        expect(page.locator("#devices")).to_contain_text(device)
        return page

    def decide(self, request_id: str, verdict: str, reason: str = "") -> Page:
        """Approve or reject on the approval page; waits until the page lists this person's decision."""
        page = self.press(request_id, verdict, reason)
        expect(page.locator("#decisions")).to_contain_text(self.name)
        return page

    def press(self, request_id: str, verdict: str, reason: str = "", *, confirm: bool = True) -> Page:
        """Open the approval page and press Approve or Reject (the ceremony then runs in the page);
        Reject asks first, and the person answers ``confirm``."""
        page = self.open(f"/requests/{request_id}")
        if reason:
            page.fill("#reason", reason)
        if verdict == "reject":
            page.once("dialog", lambda dialog: dialog.accept() if confirm else dialog.dismiss())
        page.click(f"#decide button[data-verdict={verdict}]")
        return page

    def fits(self) -> bool:
        """Whether the page is exactly as wide as the viewport it was given: nothing scrolls sideways.

        Compared with the given width, not ``window.innerWidth``: a phone's browser (``is_mobile``)
        zooms out to show a page that overflows, and its inner width then grows with the page.
        """
        viewport = self.page.viewport_size
        assert viewport is not None, "every Person's context has a viewport"
        widths = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        return bool(widths == [viewport["width"]] * 2)

    def register_service_worker(self) -> str:
        """Register TPP's service worker as push.js does, from the devices page's data; returns
        its registration id for ServiceWorker.deliverPushMessage."""
        section = self.open("/devices").locator("#notifications")
        scope = self.origin + str(section.get_attribute("data-scope"))
        registrations: dict[str, str] = {}
        self.cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.update((r["scopeURL"], r["registrationId"]) for r in event["registrations"]),
        )
        self.page.evaluate(
            """async () => {
                const section = document.getElementById("notifications");
                await navigator.serviceWorker.register(section.dataset.worker, { scope: section.dataset.scope });
                await navigator.serviceWorker.ready;
            }"""
        )
        self.cdp.send("ServiceWorker.enable")
        deadline = time.monotonic() + 20
        while scope not in registrations:  # CDP reports registrations as events, soon after enable
            assert time.monotonic() < deadline, f"no service worker registration for {scope}: {registrations}"
            self.page.wait_for_timeout(50)
        return registrations[scope]

    def push(self, registration: str, payload: dict[str, str]) -> list[dict[str, Any]]:
        """Deliver ``payload`` to the service worker as a push message (what the push service would
        hand the browser, decrypted); returns the notifications it then shows (title, body, data)."""
        # Closed, and gone, before the message comes: a close still pending would close the new
        # notification too, which takes the old one's place under the same tag.
        self.page.evaluate(_CLOSE_NOTIFICATIONS)
        message = {"origin": self.origin, "registrationId": registration, "data": json.dumps(payload)}
        self.cdp.send("ServiceWorker.deliverPushMessage", message)
        return list(self.page.evaluate(_SHOWN_NOTIFICATIONS))

    def screenshot(self, name: str) -> None:
        """Write the whole current page to the docs' screenshots as ``name``.png, if asked to."""
        if self.screenshots is not None:
            path = self.screenshots / f"{name}.png"
            path.parent.mkdir(exist_ok=True)
            self.page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")

    def close(self) -> None:
        self.context.close()
