"""Security headers on every response, through Flask-Talisman (docs/security.md).

* ``Content-Security-Policy``: scripts only from this site's ``/static/`` or carrying the
  response's nonce (the pages keep no inline script; their JSON configuration blocks carry
  the nonce too), no ``unsafe-inline`` and no ``eval``; styles only from ``/static/`` (no
  ``<style>`` element, no ``style=`` attribute in the pages: the few computed widths are
  classes, and scripts set widths through the CSSOM, which the policy does not govern);
  connections (Socket.IO's polling and websocket) to this origin only; nothing may frame
  a page (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for old browsers).
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (join codes in
  addresses never leave the site with a link followed).
* No redirect to HTTPS: a venue's LAN is served over plain HTTP. ``Strict-Transport-Security``
  goes out only on a request that came over HTTPS (behind a proxy: with ``TRUSTED_PROXIES``
  set, as ``X-Forwarded-Proto`` says), without ``includeSubDomains`` (the operator's other
  subdomains are none of our business).

A Talisman object per app, not one shared extension: Talisman keeps its options and the app
on itself, and the tests build many apps.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,  # + the nonce of the response
    "style-src": SELF,  # + the nonce of the response (the phone pages' inlined CSS)
    # data: for the empty favicon (<link rel="icon" href="data:,">); the QR code is inline SVG.
    "img-src": [SELF, "data:"],
    "font-src": SELF,
    # 'self' covers ws:// and wss:// to this host (CSP level 3). A browser older than that
    # refuses the websocket and Socket.IO stays on long-polling, which works as well.
    "connect-src": SELF,
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": SELF,
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = {"camera": "()", "microphone": "()", "geolocation": "()", "usb": "()"}


def install(app: Flask) -> Talisman:
    talisman = Talisman(
        app,
        force_https=False,
        strict_transport_security=True,
        strict_transport_security_include_subdomains=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src", "style-src"],
        frame_options="DENY",
        referrer_policy="same-origin",
        permissions_policy=PERMISSIONS_POLICY,
        # The cookie flags are the configuration's (deliberation/config.py): Talisman would
        # otherwise force Secure on every request, and a LAN served over HTTP has no login.
        session_cookie_secure=False,
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        x_content_type_options=True,
        x_xss_protection=False,  # obsolete, and harmful in old browsers
    )
    app.extensions["talisman"] = talisman
    return talisman
