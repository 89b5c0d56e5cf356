"""Schemathesis hooks for the gateway fuzz run (loaded through ``SCHEMATHESIS_HOOKS``).

The run holds one administrator token; generated requests must not revoke, rescope or
withdraw the very credentials the rest of the run depends on (a revoked client makes every
later answer a 401 and the run meaningless). Path parameters naming them (the fuzz client's
id, the signing key's id: listed in ``PROXIMA_FUZZ_PROTECTED``) are swapped for an id that
does not exist just before the call, so those cases still test the 404 path.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

PROTECTED = frozenset(filter(None, os.environ.get("PROXIMA_FUZZ_PROTECTED", "").split(",")))
STAND_IN = "fuzz-protected-0"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    parameters = case.path_parameters or {}
    for name, value in list(parameters.items()):
        if str(value) in PROTECTED:
            parameters[name] = STAND_IN
