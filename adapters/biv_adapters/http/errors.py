"""An error's answer and its one line on standard error, for every route.

Apart from `app` so that the routes declared in their own modules (`feed`) answer a failure the
same way without importing the application that mounts them.
"""

from __future__ import annotations

import sys
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from biv_adapters.stores.registry import redact


def error(status: int, field: str | None, reason: str, **more: Any) -> Response:
    return JSONResponse({"field": field, "reason": reason, **more}, status_code=status)


def log(request: Request, failure: BaseException) -> None:
    """One line on standard error: the request and what failed, without a password."""
    text = redact(" ".join(str(failure).split()))[:500]
    print(
        f"biv serve: {request.method} {request.url.path}: {type(failure).__name__}: {text}",
        file=sys.stderr,
        flush=True,
    )
