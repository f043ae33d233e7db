"""scripts/publish_console.py: what `make deploy` puts in the console's bucket, on moto's S3."""

from __future__ import annotations

import argparse
import json

import boto3
import pytest
from moto import mock_aws

from scripts.publish_console import console_config, upload

OUTPUTS = {"ApiUrl": "https://abc.execute-api.us-east-1.amazonaws.com/", "ConsoleClientId": "client123",
           "HostedUiUrl": "https://orderflow-dev-1.auth.us-east-1.amazoncognito.com"}


def no_overrides(**given: str) -> argparse.Namespace:
    return argparse.Namespace(**{"authorize_url": None, "token_url": None, "client_id": None,
                                 "scopes": "openid email orderflow/customer", **given})


def test_the_config_points_at_the_api_and_the_created_pools_hosted_ui():
    config = console_config(OUTPUTS, {"CustomerIdClaim": "custom:customer_id"}, no_overrides())
    assert config == {"auth": "oidc", "api": "https://abc.execute-api.us-east-1.amazonaws.com",
                      "authorize_url": f"{OUTPUTS['HostedUiUrl']}/oauth2/authorize",
                      "token_url": f"{OUTPUTS['HostedUiUrl']}/oauth2/token", "client_id": "client123",
                      "scopes": "openid email orderflow/customer", "customer_id_claim": "custom:customer_id"}


def test_another_issuer_must_be_named():
    with pytest.raises(SystemExit, match="--authorize-url"):
        console_config({"ApiUrl": OUTPUTS["ApiUrl"]}, {}, no_overrides())
    staff = console_config({"ApiUrl": OUTPUTS["ApiUrl"]}, {}, no_overrides(
        authorize_url="https://id.example.com/authorize", token_url="https://id.example.com/token", client_id="ops",
        scopes="openid orderflow/admin"))
    assert (staff["client_id"], staff["scopes"]) == ("ops", "openid orderflow/admin")


def test_upload_puts_every_file_with_its_type_and_cache_and_the_config(tmp_path, monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "index-1.js").write_text("1")
    with mock_aws():
        s3 = boto3.client("s3", aws_access_key_id="t", aws_secret_access_key="t")
        s3.create_bucket(Bucket="console")
        keys = upload(s3, "console", tmp_path, {"api": "https://x"})
        assert keys == ["assets/index-1.js", "index.html", "config.json"]
        js = s3.get_object(Bucket="console", Key="assets/index-1.js")
        assert js["ContentType"].startswith("text/javascript") and "immutable" in js["CacheControl"]
        page = s3.get_object(Bucket="console", Key="index.html")
        assert page["ContentType"].startswith("text/html") and page["CacheControl"] == "no-cache"
        assert json.loads(s3.get_object(Bucket="console", Key="config.json")["Body"].read()) == {"api": "https://x"}


def test_nothing_is_uploaded_before_the_console_is_built(tmp_path):
    with pytest.raises(SystemExit, match="make console"):
        upload(None, "console", tmp_path, {})
