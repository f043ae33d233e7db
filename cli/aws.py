"""AWS clients for the commands that read the stack's AWS side (``events``, ``supplier listen``).

Offline, the stack's AWS endpoint (``make up`` prints it, ``ORDERFLOW_AWS_ENDPOINT``) takes any key:
the client gets dummy credentials and region us-east-1, so nothing looks for real ones. An empty
endpoint means the real AWS of a deployed stack, with the default credential chain.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

DEFAULT_AWS_ENDPOINT = "http://127.0.0.1:3001"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# The ``--aws-endpoint`` option of the commands that call AWS (default: DEFAULT_AWS_ENDPOINT).
AwsEndpoint = Annotated[str, typer.Option(
    "--aws-endpoint", envvar="ORDERFLOW_AWS_ENDPOINT", show_envvar=True, metavar="URL",
    help="AWS endpoint of the local stack (`make up` prints it); '' for the real AWS of a deployed stack.",
)]


def aws_client(service: str, endpoint: str, region: str | None = None) -> Any:
    """A boto3 client of ``service`` at the local stack's ``endpoint``, or of real AWS for ``""``."""
    import boto3

    if not endpoint:  # a fresh session: the credential chain is read now, not as an earlier client found it
        session = boto3.session.Session()
        return session.client(service, region_name=region) if region else session.client(service)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **DUMMY_CREDENTIALS)


def aws_error(exc: Exception, what: str, endpoint: str) -> str:
    """One line for a failed AWS call: what failed, where, and what to try."""
    where = endpoint or "AWS (default credentials)"
    reason = str(exc) or type(exc).__name__
    hint = ("is the stack running? `make up`, or pass --aws-endpoint URL ('' for a deployed stack)" if endpoint
            else "check AWS credentials and region, or pass --aws-endpoint URL for the local stack")
    return f"{what} at {where}: {reason} ({hint})"
