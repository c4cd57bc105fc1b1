"""Hosting: a private bucket, CloudFront with OAC, /api/* to the HttpApi, strict headers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy.policy_eval import allows
from tests.template.conftest import only_resource

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Every host daily-js may frame (its base domains), and its error reports to Daily's Sentry.
DAILY = ["https://*.daily.co", "https://*.dailywebrtc.com", "https://*.dailywebrtc.net"]
DAILY_SENTRY = "https://o77906.ingest.sentry.io"
# The one daily-js file the page loads (site/index.html), not the rest of unpkg.
DAILY_JS = "https://unpkg.com/@daily-co/daily-js@0.92.2/dist/daily.js"
ACCOUNT = "123456789012"
SITE_BUCKET = "daily-rooms-staging-sitebucket-1a2b3c4d5e6f"
DISTRIBUTION_ID = "E2EXAMPLE0DIST"


@pytest.fixture(scope="module")
def distribution(deployed: dict[str, Any]) -> dict[str, Any]:
    return only_resource(deployed, "AWS::CloudFront::Distribution")[1]["DistributionConfig"]


@pytest.fixture(scope="module")
def origins(distribution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {origin["Id"]: origin for origin in distribution["Origins"]}


@pytest.fixture(scope="module")
def api_behaviour(distribution: dict[str, Any]) -> dict[str, Any]:
    [behaviour] = distribution["CacheBehaviors"]
    assert behaviour["PathPattern"] == "/api/*"
    return behaviour


@pytest.fixture(scope="module")
def security_headers(deployed: dict[str, Any]) -> dict[str, Any]:
    policy = only_resource(deployed, "AWS::CloudFront::ResponseHeadersPolicy")[1]
    return policy["ResponseHeadersPolicyConfig"]


def ref_name(value: dict[str, Any]) -> str:
    """The logical id a {"Ref": ...} or {"Fn::GetAtt": [...]} points at."""
    if "Ref" in value:
        return value["Ref"]
    return value["Fn::GetAtt"][0]


def test_bucket_is_private_encrypted_and_owner_enforced(deployed: dict[str, Any]) -> None:
    _, bucket = only_resource(deployed, "AWS::S3::Bucket")

    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "WebsiteConfiguration" not in bucket
    assert "AccessControl" not in bucket


def test_only_this_distribution_may_read_the_bucket(deployed: dict[str, Any]) -> None:
    bucket_name, _ = only_resource(deployed, "AWS::S3::Bucket")
    distribution_name, _ = only_resource(deployed, "AWS::CloudFront::Distribution")
    _, policy = only_resource(deployed, "AWS::S3::BucketPolicy")
    assert policy["Bucket"] == {"Ref": bucket_name}
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]

    assert {(allow["Action"], json.dumps(allow["Resource"])) for allow in allows} == {
        ("s3:GetObject", json.dumps({"Fn::Sub": f"${{{bucket_name}.Arn}}/*"})),
        ("s3:ListBucket", json.dumps({"Fn::GetAtt": [bucket_name, "Arn"]})),
    }
    for allow in allows:
        assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert allow["Condition"] == {
            "StringEquals": {
                "AWS:SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                    f"${{{distribution_name}}}"
                }
            }
        }


def installed_bucket_policy(deployed: dict[str, Any]) -> dict[str, Any]:
    """The bucket policy with its Sub and GetAtt filled in as CloudFormation would."""
    bucket_name, _ = only_resource(deployed, "AWS::S3::Bucket")
    distribution_name, _ = only_resource(deployed, "AWS::CloudFront::Distribution")
    _, policy = only_resource(deployed, "AWS::S3::BucketPolicy")
    values = {
        f"{bucket_name}.Arn": f"arn:aws:s3:::{SITE_BUCKET}",
        distribution_name: DISTRIBUTION_ID,
        "AWS::Partition": "aws",
        "AWS::AccountId": ACCOUNT,
    }

    def fill(node: Any) -> Any:
        if isinstance(node, list):
            return [fill(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "Fn::Sub" in node:
            return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            return values[".".join(node["Fn::GetAtt"])]
        return {key: fill(value) for key, value in node.items()}

    return fill(policy["PolicyDocument"])


def as_seen_by_cloudfront(policy: dict[str, Any]) -> dict[str, Any]:
    """The bucket policy's Allow statements for CloudFront's service principal, without the
    Principal element: the identity-style policy the evaluator takes (the TLS-only Deny, which
    CloudFront's HTTPS requests pass, is tested on its own below)."""

    def names_cloudfront(principal: Any) -> bool:
        return principal == "*" or "cloudfront.amazonaws.com" in json.dumps(principal)

    statements = [
        {key: value for key, value in statement.items() if key != "Principal"}
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow" and names_cloudfront(statement.get("Principal"))
    ]
    return {**policy, "Statement": statements}


def s3_status_of_a_missing_key(policy: dict[str, Any], source_arn: str) -> int:
    """What S3 answers a GetObject of a key that does not exist: 404 NoSuchKey to a caller
    allowed s3:ListBucket on the bucket, else 403 AccessDenied (S3's GetObject documentation)."""
    context = {"AWS:SourceArn": source_arn}
    policy = as_seen_by_cloudfront(policy)
    if not allows(policy, "s3:GetObject", f"arn:aws:s3:::{SITE_BUCKET}/missing.html", context):
        return 403
    return 404 if allows(policy, "s3:ListBucket", f"arn:aws:s3:::{SITE_BUCKET}", context) else 403


def test_a_missing_page_answers_404_to_this_distribution_only(deployed: dict[str, Any]) -> None:
    policy = installed_bucket_policy(deployed)
    this = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION_ID}"
    other = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EOTHERDISTRIB"

    assert s3_status_of_a_missing_key(policy, this) == 404
    assert s3_status_of_a_missing_key(policy, other) == 403
    assert not allows(
        as_seen_by_cloudfront(policy), "s3:ListBucket", f"arn:aws:s3:::{SITE_BUCKET}", {}
    )


def test_bucket_refuses_requests_without_tls(deployed: dict[str, Any]) -> None:
    bucket_name, _ = only_resource(deployed, "AWS::S3::Bucket")
    _, policy = only_resource(deployed, "AWS::S3::BucketPolicy")

    [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [
        {"Fn::GetAtt": [bucket_name, "Arn"]},
        {"Fn::Sub": f"${{{bucket_name}.Arn}}/*"},
    ]


def test_site_origin_goes_through_origin_access_control(
    deployed: dict[str, Any], origins: dict[str, dict[str, Any]]
) -> None:
    bucket_name, _ = only_resource(deployed, "AWS::S3::Bucket")
    oac_name, oac = only_resource(deployed, "AWS::CloudFront::OriginAccessControl")
    site = origins["site"]

    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert oac["OriginAccessControlConfig"]["SigningProtocol"] == "sigv4"
    assert site["DomainName"] == {"Fn::GetAtt": [bucket_name, "RegionalDomainName"]}
    assert site["OriginAccessControlId"] == {"Fn::GetAtt": [oac_name, "Id"]}
    assert site["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI


def test_distribution_settings(distribution: dict[str, Any]) -> None:
    assert distribution["Enabled"] is True
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["PriceClass"] == "PriceClass_100"
    assert distribution["HttpVersion"] == "http2and3"
    assert distribution["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}


def test_default_behaviour_serves_the_bucket_cached_over_https(
    distribution: dict[str, Any], security_headers: dict[str, Any], deployed: dict[str, Any]
) -> None:
    behaviour = distribution["DefaultCacheBehavior"]
    headers_policy_name, _ = only_resource(deployed, "AWS::CloudFront::ResponseHeadersPolicy")

    assert behaviour["TargetOriginId"] == "site"
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["Compress"] is True
    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": headers_policy_name}


def test_api_behaviour_reaches_the_http_api_uncached(
    api_behaviour: dict[str, Any], origins: dict[str, dict[str, Any]], deployed: dict[str, Any]
) -> None:
    headers_policy_name, _ = only_resource(deployed, "AWS::CloudFront::ResponseHeadersPolicy")
    api = origins[api_behaviour["TargetOriginId"]]

    assert api["DomainName"] == {
        "Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert api_behaviour["CachePolicyId"] == CACHING_DISABLED
    assert {"GET", "POST", "OPTIONS"} <= set(api_behaviour["AllowedMethods"])
    assert len(api_behaviour["AllowedMethods"]) == 7  # CloudFront's "all methods" set
    assert api_behaviour["ViewerProtocolPolicy"] == "https-only"  # a redirect would drop a POST
    assert api_behaviour["ResponseHeadersPolicyId"] == {"Ref": headers_policy_name}


def test_api_behaviour_does_not_claim_compression(api_behaviour: dict[str, Any]) -> None:
    """CloudFront compresses only where the cache policy accepts gzip or Brotli, which the
    managed CachingDisabled policy does not: `Compress` there would promise what never happens."""
    assert api_behaviour["CachePolicyId"] == CACHING_DISABLED
    assert "Compress" not in api_behaviour


def test_api_origin_request_policy_forwards_what_the_functions_read_but_not_host(
    api_behaviour: dict[str, Any], deployed: dict[str, Any]
) -> None:
    policy_name, policy = only_resource(deployed, "AWS::CloudFront::OriginRequestPolicy")
    config = policy["OriginRequestPolicyConfig"]
    headers = {h.lower() for h in config["HeadersConfig"]["Headers"]}

    assert api_behaviour["OriginRequestPolicyId"] == {"Ref": policy_name}
    assert config["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert {"cloudfront-viewer-address", "idempotency-key", "content-type"} <= headers
    assert {"sec-fetch-site", "origin"} <= headers  # the create refuses other sites
    assert "host" not in headers
    assert "x-origin-verify" not in headers  # set by CloudFront itself, never by the viewer
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert config["CookiesConfig"] == {"CookieBehavior": "none"}


def test_api_origin_carries_the_generated_origin_verify_secret(
    origins: dict[str, dict[str, Any]], deployed: dict[str, Any]
) -> None:
    secret = deployed["Resources"]["OriginVerifySecret"]
    [header] = origins["api"]["OriginCustomHeaders"]

    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"] == {
        "PasswordLength": 48,
        "ExcludePunctuation": True,
    }
    assert "SecretString" not in secret["Properties"]
    assert header == {
        "HeaderName": "X-Origin-Verify",
        "HeaderValue": {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}}}"},
    }
    assert "OriginCustomHeaders" not in origins["site"]


def parse_csp(policy: str) -> dict[str, list[str]]:
    """'a x y; b z' -> {"a": ["x", "y"], "b": ["z"]}, failing on a repeated directive."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} given twice"
        directives[name] = sources
    return directives


def test_content_security_policy_is_strict(security_headers: dict[str, Any]) -> None:
    csp = security_headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]

    assert csp["Override"] is True
    assert parse_csp(csp["ContentSecurityPolicy"]) == {
        "default-src": ["'none'"],
        "script-src": ["'self'", DAILY_JS],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", DAILY_SENTRY],
        "frame-src": DAILY,
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
    }


def test_transport_and_framing_headers(security_headers: dict[str, Any]) -> None:
    config = security_headers["SecurityHeadersConfig"]

    assert config["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000,
        "IncludeSubdomains": True,
        "Preload": True,
        "Override": True,
    }
    assert config["ContentTypeOptions"] == {"Override": True}
    assert config["ReferrerPolicy"] == {
        "ReferrerPolicy": "strict-origin-when-cross-origin",
        "Override": True,
    }
    assert config["FrameOptions"] == {"FrameOption": "DENY", "Override": True}


def test_permissions_policy_lets_only_the_page_and_daily_use_devices(
    security_headers: dict[str, Any],
) -> None:
    [header] = security_headers["CustomHeadersConfig"]["Items"]
    assert header["Header"] == "Permissions-Policy"
    assert header["Override"] is True

    features = {}
    for item in header["Value"].split(","):
        feature, allowlist = item.strip().split("=", 1)
        features[feature] = allowlist
    allowlist = " ".join(["self", *(f'"{host}"' for host in DAILY)])
    assert features == {
        name: f"({allowlist})" for name in ("camera", "microphone", "display-capture", "fullscreen")
    }


def test_outputs_name_what_deploy_py_needs(raw_template: dict[str, Any]) -> None:
    outputs = {name: output["Value"] for name, output in raw_template["Outputs"].items()}

    assert outputs["SiteUrl"] == {"Fn::Sub": "https://${Distribution.DomainName}"}
    assert outputs["SiteBucketName"] == {"Ref": "SiteBucket"}
    assert outputs["DistributionId"] == {"Ref": "Distribution"}
    assert outputs["DailyApiKeySecretArn"] == {"Ref": "DailyApiKeySecret"}
    assert "ApiUrl" in outputs
