"""Create a template's stateful resources in moto and remember their physical ids.

Tables, queues (with redrive), topics, SNS subscriptions (with filter policies), buckets
(with encryption and public-access blocks) and secrets are created the way CloudFormation
would; layers, APIs and functions have no state and are only named. A resource type the
runtime does not know is listed in `skipped`, never silently treated as created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from intercept.aws import client
from intercept.local.template import Resolver, TemplateError

ACCOUNT_ID = "123456789012"

# Types with no local state: named so that Ref / GetAtt resolve, nothing to create.
STATELESS = {
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::HttpApi",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::CloudWatch::Alarm",
}

# Resources are created in this order so that every Ref points at something that exists.
ORDER = (
    "AWS::SecretsManager::Secret",
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
)


@dataclass
class Provisioned:
    """Physical ids and attributes of provisioned resources, by logical id."""

    names: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def attribute(self, logical_id: str, name: str | None) -> str:
        if logical_id not in self.types:
            raise TemplateError(f"template refers to unknown resource {logical_id!r}")
        if name is None:
            return self.names[logical_id]
        try:
            return self.attributes[logical_id][name]
        except KeyError:
            raise TemplateError(
                f"{logical_id} ({self.types[logical_id]}) has no attribute {name!r} locally"
            ) from None


class Provisioner:
    def __init__(self, template: dict[str, Any], stage: str, region: str) -> None:
        self._resources: dict[str, Any] = template["Resources"]
        self._stage = stage
        self._region = region
        self.state = Provisioned()
        for logical_id, resource in self._resources.items():
            self.state.types[logical_id] = resource["Type"]

    def physical_name(self, logical_id: str) -> str:
        return f"intercept-{self._stage}-{logical_id}"

    def provision(self, resolver: Resolver) -> Provisioned:
        self._name_stateless()
        creators = {
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::S3::Bucket": self._bucket,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
        }
        for resource_type in ORDER:
            for logical_id, resource in self._resources.items():
                if resource["Type"] == resource_type:
                    properties = resolver.resolve(resource.get("Properties", {}))
                    creators[resource_type](logical_id, properties)
        known = set(ORDER) | STATELESS
        self.state.skipped = sorted(
            f"{logical_id} ({resource['Type']})"
            for logical_id, resource in self._resources.items()
            if resource["Type"] not in known
        )
        return self.state

    def _name_stateless(self) -> None:
        for logical_id, resource in self._resources.items():
            resource_type = resource["Type"]
            if resource_type not in STATELESS:
                continue
            name = self.physical_name(logical_id)
            prefix = f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}"
            if resource_type == "AWS::Serverless::LayerVersion":
                self.state.names[logical_id] = f"{prefix}:layer:{name}:1"
            elif resource_type == "AWS::Serverless::Function":
                self.state.names[logical_id] = name
                self.state.attributes[logical_id] = {"Arn": f"{prefix}:function:{name}"}
            elif resource_type == "AWS::Serverless::HttpApi":
                api_id = logical_id.lower()[:10]
                self.state.names[logical_id] = api_id
                self.state.attributes[logical_id] = {"ApiEndpoint": "http://127.0.0.1"}
            else:
                self.state.names[logical_id] = name

    def _secret(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = properties.get("Name") or self.physical_name(logical_id)
        created = client("secretsmanager").create_secret(
            Name=name, SecretString=properties.get("SecretString", "{}")
        )
        self.state.names[logical_id] = created["ARN"]
        self.state.attributes[logical_id] = {"Id": created["ARN"]}

    def _bucket(self, logical_id: str, properties: dict[str, Any]) -> None:
        s3 = client("s3")
        name = properties.get("BucketName") or self.physical_name(logical_id).lower()
        s3.create_bucket(Bucket=name)
        encryption = properties.get("BucketEncryption")
        if encryption:
            s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration=_bucket_encryption(encryption)
            )
        public_block = properties.get("PublicAccessBlockConfiguration")
        if public_block:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=_bools(public_block)
            )
        if properties.get("VersioningConfiguration"):
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"]
            )
        self.state.names[logical_id] = name
        self.state.attributes[logical_id] = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
        }

    def _table(self, logical_id: str, properties: dict[str, Any]) -> None:
        ddb = client("dynamodb")
        name = properties.get("TableName") or self.physical_name(logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if properties.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        stream = properties.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        if properties.get("SSESpecification", {}).get("SSEEnabled"):
            request["SSESpecification"] = {"Enabled": True}
        description = ddb.create_table(**request)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        self.state.names[logical_id] = name
        self.state.attributes[logical_id] = {
            "Arn": description["TableArn"],
            "StreamArn": description.get("LatestStreamArn", ""),
        }

    def _queue(self, logical_id: str, properties: dict[str, Any]) -> None:
        sqs = client("sqs")
        name = properties.get("QueueName") or self.physical_name(logical_id)
        attributes: dict[str, str] = {
            key: str(properties[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if key in properties
        }
        if properties.get("SqsManagedSseEnabled"):
            attributes["SqsManagedSseEnabled"] = "true"
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.state.names[logical_id] = url
        self.state.attributes[logical_id] = {
            "Arn": f"arn:aws:sqs:{self._region}:{ACCOUNT_ID}:{name}",
            "QueueName": name,
            "QueueUrl": url,
        }

    def _topic(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = properties.get("TopicName") or self.physical_name(logical_id)
        attributes = {}
        if properties.get("KmsMasterKeyId"):
            attributes["KmsMasterKeyId"] = str(properties["KmsMasterKeyId"])
        arn = client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.state.names[logical_id] = arn
        self.state.attributes[logical_id] = {"TopicName": name, "TopicArn": arn}

    def _subscription(self, logical_id: str, properties: dict[str, Any]) -> None:
        attributes: dict[str, str] = {}
        if "FilterPolicy" in properties:
            attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
            attributes["FilterPolicyScope"] = properties.get(
                "FilterPolicyScope", "MessageAttributes"
            )
        if properties.get("RawMessageDelivery"):
            attributes["RawMessageDelivery"] = "true"
        arn = client("sns").subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self.state.names[logical_id] = arn
        self.state.attributes[logical_id] = {"Arn": arn}


def _bucket_encryption(encryption: dict[str, Any]) -> dict[str, Any]:
    rules = [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
        for rule in encryption["ServerSideEncryptionConfiguration"]
    ]
    return {"Rules": rules}


def _bools(values: dict[str, Any]) -> dict[str, bool]:
    return {key: str(value).lower() == "true" for key, value in values.items()}
