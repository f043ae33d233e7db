"""Who sent an SQS message, as AWS says it: the ``SenderId`` attribute, and IAM users for suppliers.

AWS stamps each message with the principal that signed its ``SendMessage``: an IAM user's unique id
(``AIDA...``), or for assumed-role credentials the role's id and the session (``AROA...:session``) —
the ``UserId`` that ``sts get-caller-identity`` answers for the same credentials. moto stamps every
message with one constant id, so a consumer could not tell two senders apart. :func:`install` makes
moto ask its own STS which principal the request's access key belongs to (an IAM user made in moto,
an assumed role, or for any other key, such as the stack's ``testing``, moto's default caller).

:func:`supplier_credentials` gives a supplier an IAM user of its own, as a supplier would have in its
own account, so the offline stack can send replies as that supplier and as someone else.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import urllib.parse
import urllib.request
from typing import Any

_sending = threading.local()  # the sender of the SendMessage(Batch) request this thread is serving


def install() -> None:
    """Stamp each message moto stores with the sender of the request that sent it (idempotent)."""
    from moto.sqs.models import SQSBackend
    from moto.sqs.responses import SQSResponse

    if getattr(SQSBackend.send_message, "_stamps_sender", False):
        return
    for action in ("send_message", "send_message_batch"):
        setattr(SQSResponse, action, _as_caller(getattr(SQSResponse, action)))
    SQSBackend.send_message = _stamped(SQSBackend.send_message)


def caller_user_id(access_key_id: str, account_id: str, region: str) -> str:
    """What ``GetCallerIdentity`` answers as ``UserId`` for ``access_key_id``, from moto's STS."""
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    return sts_backends[account_id][get_partition(region)].get_caller_identity(access_key_id, region)[0]


def supplier_credentials(iam: Any, supplier_id: str) -> tuple[str, dict[str, str]]:
    """A new access key of the IAM user standing for ``supplier_id`` (made on first use): the user's
    principal id (what to register as the supplier's ``reply_principal``) and boto3 credential arguments."""
    name = "supplier-" + hashlib.sha256(supplier_id.encode()).hexdigest()[:16]
    try:
        user = iam.create_user(UserName=name, Tags=[{"Key": "supplier_id", "Value": supplier_id[:256]}])["User"]
    except iam.exceptions.EntityAlreadyExistsException:
        user = iam.get_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return user["UserId"], {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def _as_caller(action: Any) -> Any:
    @functools.wraps(action)
    def as_caller(self: Any) -> Any:
        _sending.sender_id = caller_user_id(self.get_access_key(), self.current_account, self.region)
        try:
            return action(self)
        finally:
            _sending.sender_id = None

    return as_caller


def _stamped(send_message: Any) -> Any:
    @functools.wraps(send_message)
    def stamped(self: Any, *args: Any, **kwargs: Any) -> Any:
        message = send_message(self, *args, **kwargs)
        sender_id = getattr(_sending, "sender_id", None)
        if sender_id:
            message.sender_id = sender_id
        return message

    stamped._stamps_sender = True  # type: ignore[attr-defined]
    return stamped


def register_reply_principal(api_url: str, token: str, supplier_id: str, principal: str) -> None:
    """What an administrator does once a supplier gave its principal id: ``PUT /suppliers/{id}`` with the
    supplier as it is, plus ``reply_principal``."""
    path = f"{api_url}/suppliers/{urllib.parse.quote(supplier_id, safe='')}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(path, headers=headers), timeout=30) as response:
        supplier = json.loads(response.read())
    body = {k: supplier[k] for k in ("name", "capacity_per_cycle", "active", "approval_threshold") if k in supplier}
    request = urllib.request.Request(path, data=json.dumps({**body, "reply_principal": principal}).encode(),
                                     headers=headers, method="PUT")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
