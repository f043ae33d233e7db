"""Upload the built console (console/dist) to its S3 bucket with the console's config.json, and make
CloudFront serve the new files. `make deploy` runs it after `sam deploy` (docs/console.md, "Deployed").

The stack's outputs say where: ConsoleBucketName, ConsoleDistributionId, ApiUrl and, with the created
Cognito pool, HostedUiUrl and ConsoleClientId. Another OIDC issuer (staff with their own scopes) is given
with --authorize-url, --token-url, --client-id and --scopes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from orderflow_local.console import cache_control, content_type

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "console" / "dist"


def console_config(outputs: dict[str, str], parameters: dict[str, str],
                   overrides: argparse.Namespace) -> dict[str, Any]:
    """What the console reads from config.json: the API, and how to sign in (the OIDC code flow with PKCE)."""
    hosted = outputs.get("HostedUiUrl")
    config = {
        "auth": "oidc",
        "api": outputs["ApiUrl"].rstrip("/"),
        "authorize_url": overrides.authorize_url or (f"{hosted}/oauth2/authorize" if hosted else None),
        "token_url": overrides.token_url or (f"{hosted}/oauth2/token" if hosted else None),
        "client_id": overrides.client_id or outputs.get("ConsoleClientId"),
        "scopes": overrides.scopes,
        "customer_id_claim": parameters.get("CustomerIdClaim", "customer_id"),
    }
    missing = [k for k, v in config.items() if not v]
    if getattr(overrides, "currency", None):
        config["currency"] = overrides.currency  # ISO 4217: amounts are shown with it (else as plain amounts)
    if missing:
        raise SystemExit(f"error: no {', '.join(missing)} for the console's sign-in: the stack uses another issuer "
                         "(JwtIssuer), so pass --authorize-url, --token-url and --client-id")
    return config


def upload(s3: Any, bucket: str, dist: Path, config: dict[str, Any]) -> list[str]:
    """Every file under ``dist`` and config.json; the hashed assets cached for good, the rest re-checked."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"error: {dist} has no index.html: run make console first")
    keys = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type(path.name),
                      CacheControl=cache_control(key))
        keys.append(key)
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config, indent=2).encode(),
                  ContentType=content_type("config.json"), CacheControl=cache_control("config.json"))
    return [*keys, "config.json"]


def stack_name_of(config_env: str) -> str:
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    return samconfig[config_env]["deploy"]["parameters"]["stack_name"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (its stack_name)")
    parser.add_argument("--stack-name", help="the stack (default: samconfig.toml's stack_name)")
    parser.add_argument("--region", default=None)
    parser.add_argument("--dist", type=Path, default=DIST)
    parser.add_argument("--authorize-url")
    parser.add_argument("--token-url")
    parser.add_argument("--client-id")
    parser.add_argument("--currency", help="ISO 4217 code the console shows amounts in (default: amounts alone)")
    # The created pool's trigger leaves in each token only the scopes the user's groups grant (docs/security.md).
    parser.add_argument("--scopes", default="openid email orderflow/customer orderflow/warehouse orderflow/admin",
                        help="scopes the console asks for (another issuer: e.g. 'openid orderflow/admin')")
    args = parser.parse_args(argv)
    import boto3  # only here: the tests call upload() and console_config() with moto's clients

    session = boto3.session.Session(region_name=args.region)
    stack = session.client("cloudformation").describe_stacks(
        StackName=args.stack_name or stack_name_of(args.config_env))["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    config = console_config(outputs, parameters, args)
    keys = upload(session.client("s3"), outputs["ConsoleBucketName"], args.dist, config)
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 3, "Items": ["/", "/index.html", "/config.json"]},
                           "CallerReference": str(time.time_ns())})
    print(f"console: {len(keys)} files to s3://{outputs['ConsoleBucketName']}; open {outputs['ConsoleSiteUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
