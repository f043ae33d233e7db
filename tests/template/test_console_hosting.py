"""The console deploys as private static files: S3 readable only by its CloudFront distribution (origin
access control), HTTPS only, and the API lets that origin (and no other) call it from a browser."""

from __future__ import annotations

from pathlib import Path

from orderflow_local.template import read_template

RESOURCES = read_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]


def test_the_bucket_is_private_and_read_only_by_the_distribution_through_origin_access_control():
    bucket = RESOURCES["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    statements = RESOURCES["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"]) for s in allowed] == [
        ({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject")]
    source = allowed[0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${ConsoleDistribution}")
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == tls_only for s in statements)


def test_the_distribution_serves_the_console_over_https_with_security_headers():
    config = RESOURCES["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy identity
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https" and behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"
    policy = RESOURCES["ConsoleSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = policy["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_the_api_allows_the_console_origin_only_and_its_client_signs_in_there():
    cors = RESOURCES["OrdersApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}]
    assert "idempotency-key" in cors["AllowHeaders"] and "authorization" in cors["AllowHeaders"]
    client = RESOURCES["ConsoleClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}/"}]
    # Cognito grants a client's scopes to every user: the console's client may allow staff scopes only
    # because the pool's V2_0 trigger takes away those the user's groups do not grant (test_api_auth.py).
    assert set(client["AllowedOAuthScopes"]) >= {"orderflow/customer", "orderflow/warehouse", "orderflow/admin"}
    pool = RESOURCES["UserPool"]["Properties"]["LambdaConfig"]["PreTokenGenerationConfig"]
    assert pool["LambdaVersion"] == "V2_0"
