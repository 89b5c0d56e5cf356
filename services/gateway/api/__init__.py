"""The gateway's own HTTP surface lives next to the capability it serves, one router each:

- ``clients/router.py``   — ``/admin/clients``: registered clients, secret rotation, revocation;
- ``tokens/router.py``    — ``/oauth/token``, ``/.well-known/jwks.json``, ``/admin/signing-keys``;
- ``stream/router.py``    — ``/api/stream`` (Server-Sent Events) and ``/api/dashboard/summary``;
- ``dashboard/router.py`` — ``/dashboard``: the regional dashboard page and its static assets;
- ``traffic/proxy.py``    — ``/api/{service}/...``: everything routed to the other services;
- ``traffic/openapi.py``  — ``/openapi.json`` and ``/docs``: the merged OpenAPI.

Why not here: unlike the other services the gateway has no single domain to put behind an
``api/`` layer, and each router is small and tied to its capability's store and rules.
"""
