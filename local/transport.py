"""In-process transport: requests to moto's endpoint made from this process skip the socket.

The stack's functions run in the same process as moto's server, so every AWS call they make (over
30 per order) was an HTTP round trip into that same process: urllib3, a socket, werkzeug and moto's
dispatcher (which takes a global lock and lists moto's package directory per request) on each one.
Here botocore's HTTP session hands those requests to moto's ``BotocoreStubber``, the dispatcher of
moto's own ``mock_aws``: botocore still builds, signs, retries and parses every request, its event
hooks (``before-send`` included, so injected faults) run as before, and moto's request handlers answer;
only the socket and moto's server are left out. Other processes (the CLI, the benchmark's clients,
``aws --endpoint-url``) still use moto's server, which serves the same backends.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.httpsession import URLLib3Session

from orderflow_local.deadlines import WATCHDOG

logger = logging.getLogger("orderflow_local.transport")

# The service's signing name in the request's credential scope: ``Credential=key/date/region/service/...``
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
# Signing names that more than one service's endpoint uses, told apart by the request's target.
_SHARED_SIGNING_NAMES = {("dynamodb", "DynamoDBStreams_"): "streams.dynamodb"}


class InProcess:
    """Answers requests to ``endpoint`` (and its ``localhost`` alias) while installed."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        # moto's Step Functions calls Lambda at ``localhost`` and the stack's port (``MOTO_PORT``).
        self._aliases = (self.endpoint, self.endpoint.replace("//127.0.0.1:", "//localhost:"))
        self._send: Any = None
        self._lock = threading.Lock()
        self.answered: Counter[str] = Counter()  # requests answered in-process, by endpoint prefix

    def install(self) -> None:
        """Patch botocore's HTTP session, for clients made before as well as after."""
        send, transport = URLLib3Session.send, self
        self._send = send

        def in_process_send(session: URLLib3Session, request: AWSPreparedRequest) -> Any:
            answered = transport.answer(request)
            return answered if answered is not None else send(session, request)

        URLLib3Session.send = in_process_send  # type: ignore[method-assign]

    def uninstall(self) -> None:
        """Requests go over HTTP again (to a server that has stopped, after the stack)."""
        if self._send is not None:
            URLLib3Session.send = self._send  # type: ignore[method-assign]
            self._send = None

    def answer(self, request: AWSPreparedRequest) -> AWSResponse | None:
        """moto's answer to ``request``; ``None`` for a request this transport does not take."""
        local_url = request.url
        base = next((a for a in self._aliases if local_url == a or local_url.startswith(a + "/")), None)
        if base is None:
            return None
        scope = _SCOPE.search(_text(request.headers.get("Authorization")))
        if scope is None:
            return None  # unsigned: moto's server tells the service from the request
        target = _text(request.headers.get("X-Amz-Target"))
        prefix = next((name for (signing, start), name in _SHARED_SIGNING_NAMES.items()
                       if scope["service"] == signing and target.startswith(start)), scope["service"])
        from moto.core.botocore_stubber import MockRawResponse
        from moto.core.models import botocore_stubber

        # The URL the request would have on AWS, which moto's stubber routes by.
        request.url = f"https://{prefix}.{scope['region']}.amazonaws.com{local_url[len(base):]}"
        try:
            with WATCHDOG.service_call():  # a handler past its deadline stops after moto answered, not inside
                answered = botocore_stubber.process_request(request)
        except Exception:  # what moto's server answers when a handler raises
            logger.exception("moto raised answering %s", target or request.method)
            answered = 500, {}, b"Internal Server Error"
        finally:
            request.url = local_url
        if answered is None:
            return None
        with self._lock:
            self.answered[prefix] += 1
        status, headers, body = answered
        return AWSResponse(local_url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


def _text(value: str | bytes | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""
