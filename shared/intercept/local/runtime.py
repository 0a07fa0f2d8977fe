"""The local runtime: the SAM template, run on moto, with handlers invoked as AWS would.

`LocalRuntime.start` reads `template.yaml`, provisions its resources in moto (in-process or
server mode, whichever the caller started), resolves every function's environment from
Globals and its own Environment, imports each handler from its CodeUri and Handler, and then
delivers events the way the AWS services do:

- HTTP requests become API Gateway HTTP API payload-2.0 events on the template's routes;
- SQS event sources receive batches of up to `BatchSize`, honour `ReportBatchItemFailures`
  and leave failed messages to the queue's redrive policy (moto moves them to the DLQ once
  they were received `maxReceiveCount` times);
- DynamoDB stream sources get records in order, filtered by `FilterCriteria`, retried up to
  `MaximumRetryAttempts` from the first failed record, then reported to the `OnFailure`
  destination;
- schedules fire on demand (`run_schedule`).

Handlers run one at a time under a lock, each with exactly its own environment, the way one
Lambda container sees only its own function's variables.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from intercept.aws import client, reset_clients
from intercept.local import lambda_events, moto_speedups
from intercept.local.provision import ACCOUNT_ID, Provisioned, Provisioner
from intercept.local.sinks import Sink
from intercept.local.template import Resolver, TemplateError, load_template
from intercept.observability import logger
from intercept.secrets import secrets_from_env
from intercept.settings import reset_settings

LOCAL_DEFAULTS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class LambdaContext:
    """What a handler can ask of its Lambda context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


@dataclass
class Function:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    layers: list[Path]
    memory: int
    timeout: int
    entry: Callable[[dict[str, Any], Any], Any] | None = None


@dataclass
class Route:
    method: str
    path: str
    api_id: str
    function: str
    pattern: re.Pattern[str]

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class QueueSource:
    function: str
    queue: str
    url: str
    arn: str
    batch_size: int
    report_failures: bool


@dataclass
class StreamSource:
    function: str
    table: str
    stream_arn: str
    batch_size: int
    patterns: list[dict[str, Any]]
    report_failures: bool
    max_retries: int
    on_failure_url: str | None
    iterators: dict[str, str] = field(default_factory=dict)


@dataclass
class Schedule:
    function: str
    name: str
    expression: str


@dataclass
class DrainReport:
    invocations: int = 0
    records: int = 0
    failed_records: int = 0
    rounds: int = 0


class LocalRuntime:
    """A running copy of the template on moto. Create it with `LocalRuntime.start`."""

    def __init__(
        self,
        root: Path,
        template: dict[str, Any],
        provisioned: Provisioned,
        resolver: Resolver,
        base_env: dict[str, str],
        region: str,
    ) -> None:
        self.root = root
        self.template = template
        self.provisioned = provisioned
        self.region = region
        self._resolver = resolver
        self._base_env = base_env
        self._lock = threading.RLock()
        self.functions: dict[str, Function] = {}
        self.routes: list[Route] = []
        self.queue_sources: list[QueueSource] = []
        self.stream_sources: list[StreamSource] = []
        self.schedules: list[Schedule] = []
        self.sinks: dict[str, Sink] = {}
        self.invocations: dict[str, int] = {}

    # ------------------------------------------------------------------ start / stop
    @classmethod
    def start(
        cls,
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        parameters: Mapping[str, str] | None = None,
        template_name: str = "template.yaml",
    ) -> LocalRuntime:
        """Provision the template and wire its functions. moto must already be running.

        Parameters
        ----------
        root : folder holding the template (default: the current directory).
        env : variables every function sees on top of the process environment, e.g. the
            ``INTERCEPT_*`` secrets for local senders.
        parameters : template parameter overrides (``Stage``, ``SenderEmail`` ...).
        """
        root = (root or Path.cwd()).resolve()
        template = load_template(root / template_name)
        base_env = {**LOCAL_DEFAULTS, **os.environ, **(env or {})}
        region = base_env["AWS_DEFAULT_REGION"]
        values = _parameter_values(template, parameters or {})
        provisioner = Provisioner(template, stage=values.get("Stage", "local"), region=region)
        pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": f"intercept-{values.get('Stage', 'local')}",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }
        resolver = Resolver(values, pseudo, lambda lid, att: provisioner.state.attribute(lid, att))
        moto_speedups.install()
        with _environment(base_env):
            reset_clients()
            provisioned = provisioner.provision(resolver)
            runtime = cls(root, template, provisioned, resolver, base_env, region)
            runtime._start_sinks()
            runtime._seed_secrets()
            runtime._verify_sender(values.get("SenderEmail", ""))
            runtime._wire_functions()
            runtime._start_streams()
        if provisioned.skipped:
            logger.info("skipped resources", extra={"resources": provisioned.skipped})
        return runtime

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.stop()

    def __enter__(self) -> LocalRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def physical(self, logical_id: str) -> str:
        """The local physical id of a resource: table name, queue URL, topic ARN ..."""
        return self.provisioned.attribute(logical_id, None)

    # ------------------------------------------------------------------ wiring
    def _start_sinks(self) -> None:
        for name, variable in (
            ("slack", "INTERCEPT_SLACK_WEBHOOK_URL"),
            ("webhook", "INTERCEPT_OUTBOUND_WEBHOOK_URL"),
        ):
            if not self._base_env.get(variable):
                sink = Sink(name)
                sink.start()
                self.sinks[name] = sink
                self._base_env[variable] = sink.url
        self._base_env.setdefault("INTERCEPT_OUTBOUND_WEBHOOK_SECRET", uuid.uuid4().hex)

    def _seed_secrets(self) -> None:
        """Write the INTERCEPT_* variables into every secret, as an operator would in AWS."""
        secrets = secrets_from_env(self._base_env)
        for logical_id, resource_type in self.provisioned.types.items():
            if resource_type == "AWS::SecretsManager::Secret":
                client("secretsmanager").put_secret_value(
                    SecretId=self.physical(logical_id), SecretString=secrets.model_dump_json()
                )

    def _verify_sender(self, sender: str) -> None:
        if sender:
            client("ses").verify_email_identity(EmailAddress=sender)

    def _wire_functions(self) -> None:
        globals_ = self.template.get("Globals", {}).get("Function", {})
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            properties = {**globals_, **resource.get("Properties", {})}
            properties["Layers"] = globals_.get("Layers", []) + resource.get("Properties", {}).get(
                "Layers", []
            )
            variables = {
                **globals_.get("Environment", {}).get("Variables", {}),
                **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
            }
            function = self._function(logical_id, properties, variables)
            self.functions[logical_id] = function
            self._load_handler(function)
            for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
                self._wire_event(logical_id, event_name, event)

    def _function(
        self, logical_id: str, properties: dict[str, Any], variables: dict[str, Any]
    ) -> Function:
        name = self.physical(logical_id)
        arn = self.provisioned.attribute(logical_id, "Arn")
        resolved = {key: str(value) for key, value in self._resolver.resolve(variables).items()}
        environment = {
            **self._base_env,
            **resolved,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", 128)),
            "AWS_REGION": self.region,
            "_HANDLER": properties["Handler"],
        }
        return Function(
            logical_id=logical_id,
            name=name,
            arn=arn,
            code_dir=self.root / properties["CodeUri"],
            handler=properties["Handler"],
            environment=environment,
            layers=[self._layer_dir(layer) for layer in properties["Layers"]],
            memory=int(properties.get("MemorySize", 128)),
            timeout=int(properties.get("Timeout", 3)),
        )

    def _layer_dir(self, layer: Any) -> Path:
        if not (isinstance(layer, dict) and "Ref" in layer):
            raise TemplateError(f"layer {layer!r} is not a !Ref to a layer in this template")
        resource = self.template["Resources"].get(layer["Ref"])
        if resource is None or resource["Type"] != "AWS::Serverless::LayerVersion":
            raise TemplateError(f"layer {layer['Ref']!r} is not an AWS::Serverless::LayerVersion")
        return self.root / resource["Properties"]["ContentUri"]

    def _load_handler(self, function: Function) -> None:
        """Import the handler as Lambda would: code folder and layers on the path."""
        module_name, _, attribute = function.handler.rpartition(".")
        source = function.code_dir / f"{module_name.replace('.', '/')}.py"
        if not source.is_file():
            raise TemplateError(f"{function.logical_id}: handler file {source} does not exist")
        for layer in function.layers:
            if not layer.is_dir():
                raise TemplateError(f"{function.logical_id}: layer folder {layer} does not exist")
            if str(layer) not in sys.path:
                sys.path.append(str(layer))
        unique = f"intercept_fn_{function.logical_id}"
        spec = importlib.util.spec_from_file_location(unique, source)
        if spec is None or spec.loader is None:
            raise TemplateError(f"{function.logical_id}: cannot import {source}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        with self._function_env(function):
            sys.modules[unique] = module
            spec.loader.exec_module(module)
        entry = getattr(module, attribute, None)
        if not callable(entry):
            raise TemplateError(f"{function.logical_id}: {source} has no callable {attribute!r}")
        function.entry = entry

    def _wire_event(self, logical_id: str, event_name: str, event: dict[str, Any]) -> None:
        kind = event["Type"]
        properties = self._resolver.resolve(event.get("Properties", {}))
        if kind == "HttpApi":
            self._add_route(logical_id, properties)
        elif kind == "SQS":
            self.queue_sources.append(self._queue_source(logical_id, event_name, properties))
        elif kind == "DynamoDB":
            self.stream_sources.append(self._stream_source(logical_id, properties))
        elif kind in ("Schedule", "ScheduleV2"):
            expression = properties.get("Schedule") or properties.get("ScheduleExpression")
            self.schedules.append(Schedule(logical_id, event_name, str(expression)))
        else:
            raise TemplateError(f"{logical_id}.{event_name}: event type {kind} is not supported")

    def _add_route(self, logical_id: str, properties: dict[str, Any]) -> None:
        method = str(properties.get("Method", "ANY")).upper()
        path = str(properties["Path"])
        for route in self.routes:
            if route.path == path and route.method in (method, "ANY"):
                raise TemplateError(f"route {method} {path} is declared twice")
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        api_id = str(properties.get("ApiId", "default"))
        self.routes.append(Route(method, path, api_id, logical_id, re.compile(f"^{regex}$")))

    def _queue_source(self, logical_id: str, name: str, properties: dict[str, Any]) -> QueueSource:
        arn = str(properties["Queue"])
        queue = next(
            (lid for lid, att in self.provisioned.attributes.items() if att.get("Arn") == arn),
            None,
        )
        if queue is None:
            raise TemplateError(f"{logical_id}.{name}: queue {arn} is not in the template")
        return QueueSource(
            function=logical_id,
            queue=queue,
            url=self.physical(queue),
            arn=arn,
            batch_size=int(properties.get("BatchSize", 10)),
            report_failures="ReportBatchItemFailures"
            in properties.get("FunctionResponseTypes", []),
        )

    def _stream_source(self, logical_id: str, properties: dict[str, Any]) -> StreamSource:
        stream_arn = str(properties["Stream"])
        table = next(
            (
                lid
                for lid, att in self.provisioned.attributes.items()
                if att.get("StreamArn") == stream_arn
            ),
            None,
        )
        if table is None or not stream_arn:
            raise TemplateError(f"{logical_id}: stream {stream_arn!r} is not a table stream")
        filters = properties.get("FilterCriteria", {}).get("Filters", [])
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {})
        on_failure = None
        if destination.get("Destination"):
            on_failure = next(
                (
                    self.physical(lid)
                    for lid, att in self.provisioned.attributes.items()
                    if att.get("Arn") == destination["Destination"]
                ),
                None,
            )
        return StreamSource(
            function=logical_id,
            table=table,
            stream_arn=stream_arn,
            batch_size=int(properties.get("BatchSize", 100)),
            patterns=[json.loads(item["Pattern"]) for item in filters],
            report_failures="ReportBatchItemFailures"
            in properties.get("FunctionResponseTypes", []),
            max_retries=int(properties.get("MaximumRetryAttempts", 3)),
            on_failure_url=on_failure,
        )

    def _start_streams(self) -> None:
        streams = client("dynamodbstreams")
        for source in self.stream_sources:
            shards = streams.describe_stream(StreamArn=source.stream_arn)["StreamDescription"]
            for shard in shards["Shards"]:
                iterator = streams.get_shard_iterator(
                    StreamArn=source.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]
                source.iterators[shard["ShardId"]] = iterator

    # ------------------------------------------------------------------ invoking
    @contextmanager
    def _function_env(self, function: Function) -> Iterator[None]:
        # Limitation: handlers run one at a time under this lock, each with its own
        # environment; Lambda concurrency, reserved concurrency and throttling are not emulated.
        with self._lock, _environment(function.environment):
            reset_settings()
            try:
                yield
            finally:
                reset_settings()

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function's handler with `event`, in that function's environment."""
        function = self.functions.get(logical_id)
        if function is None or function.entry is None:
            known = ", ".join(sorted(self.functions))
            raise TemplateError(f"no function {logical_id!r} in the template; known: {known}")
        context = LambdaContext(function.name, function.memory, function.timeout, function.arn)
        # Limitation: every handler shares this process's logger, so keys one handler appends
        # can show on another's log lines; in Lambda each function has a logger of its own.
        with self._function_env(function):
            self.invocations[logical_id] = self.invocations.get(logical_id, 0) + 1
            return function.entry(event, context)

    def http(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
        query: str = "",
    ) -> HttpResponse:
        """Send one HTTP request through the template's routes, like API Gateway would."""
        raw = body.encode() if isinstance(body, str) else body
        path, _, inline_query = path.partition("?")
        query = query or inline_query
        match = self._match_route(method.upper(), path)
        if match is None:
            return HttpResponse(
                404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
            )
        route, parameters = match
        headers = {"host": "127.0.0.1", **(headers or {})}
        if raw and not any(name.lower() == "content-length" for name in headers):
            headers["content-length"] = str(len(raw))
        event = lambda_events.http_api_event(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=raw,
            route_key=route.route_key,
            path_parameters=parameters,
            api_id=route.api_id,
        )
        try:
            result = self.invoke(route.function, event)
        except Exception:
            logger.exception("failed invocation", extra={"function": route.function})
            return HttpResponse(
                500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
            )
        return _http_response(result)

    def _match_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    # ------------------------------------------------------------------ delivery
    def drain(self, max_rounds: int = 100_000) -> DrainReport:
        """Deliver queued messages and stream records until every source is quiet."""
        report = DrainReport()
        while True:
            report.rounds += 1
            if report.rounds > max_rounds:
                raise RuntimeError(f"event sources still busy after {max_rounds} rounds")
            if not self._round(report):
                return report

    def pump_once(self) -> int:
        """One round over every source; returns how many messages or records moved."""
        return self._round(DrainReport())

    def _round(self, report: DrainReport) -> int:
        moved = sum(self._pump_queue(source, report) for source in self.queue_sources)
        return moved + sum(self._pump_stream(source, report) for source in self.stream_sources)

    def _pump_queue(self, source: QueueSource, report: DrainReport) -> int:
        sqs = client("sqs")
        messages: list[dict[str, Any]] = []
        while len(messages) < source.batch_size:
            received = sqs.receive_message(
                QueueUrl=source.url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return 0
        records = [lambda_events.sqs_record(m, source.arn, self.region) for m in messages]
        failed = self._deliver(source.function, {"Records": records}, source.report_failures)
        failed_ids = {record["messageId"] for record in records} if failed is None else failed
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]}
                for index, m in enumerate(done[start : start + 10])
            ]
            sqs.delete_message_batch(QueueUrl=source.url, Entries=entries)
        for message in messages:
            if message["MessageId"] in failed_ids:
                sqs.change_message_visibility(
                    QueueUrl=source.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        report.invocations += 1
        report.records += len(messages)
        report.failed_records += len(failed_ids)
        return len(messages)

    def _deliver(
        self, function: str, event: dict[str, Any], report_failures: bool
    ) -> set[str] | None:
        """Invoke a batch handler; the failed item ids, or None when the whole batch failed."""
        try:
            result = self.invoke(function, event)
        except Exception:
            logger.exception("failed batch", extra={"function": function})
            return None
        if not report_failures or not isinstance(result, dict):
            return set()
        return {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}

    def _pump_stream(self, source: StreamSource, report: DrainReport) -> int:
        streams = client("dynamodbstreams")
        moved = 0
        for shard_id, iterator in list(source.iterators.items()):
            result = streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
            source.iterators[shard_id] = result.get("NextShardIterator") or iterator
            raw = result.get("Records", [])
            if not raw:
                continue
            moved += len(raw)
            shaped = [lambda_events.stream_record(r, source.stream_arn, self.region) for r in raw]
            records = [r for r in shaped if lambda_events.matches_filters(r, source.patterns)]
            if records:
                self._deliver_stream_batch(source, records, report)
            if sum(1 for other in self.stream_sources if other.table == source.table) == 1:
                self._trim(source, raw[-1]["dynamodb"]["SequenceNumber"])
        return moved

    def _trim(self, source: StreamSource, sequence: str) -> None:
        """Forget delivered records of a stream that has one consumer (moto keeps them all)."""
        moto_speedups.trim_stream(self.physical(source.table), sequence, self.region, ACCOUNT_ID)

    def _deliver_stream_batch(
        self, source: StreamSource, records: list[dict[str, Any]], report: DrainReport
    ) -> None:
        # Limitation: BisectBatchOnFunctionError is not emulated; a failing batch is retried from
        # its first failed record, then reported to the OnFailure destination.
        attempts = 0
        while records:
            report.invocations += 1
            report.records += len(records)
            failed = self._deliver(source.function, {"Records": records}, source.report_failures)
            if failed == set():
                return
            sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
            first = 0 if failed is None else min(sequence.index(s) for s in failed if s in sequence)
            records = records[first:]
            attempts += 1
            if attempts > source.max_retries:
                report.failed_records += len(records)
                self._stream_failure(source, records)
                return

    def _stream_failure(self, source: StreamSource, records: list[dict[str, Any]]) -> None:
        """Report records that exhausted their retries to the OnFailure destination."""
        logger.warning(
            "discarded stream records", extra={"function": source.function, "count": len(records)}
        )
        if source.on_failure_url is None:
            return
        body = {
            "requestContext": {"functionArn": self.functions[source.function].arn},
            "DDBStreamBatchInfo": {
                "streamArn": source.stream_arn,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
            },
        }
        client("sqs").send_message(QueueUrl=source.on_failure_url, MessageBody=json.dumps(body))

    def run_schedule(self, logical_id: str) -> Any:
        """Fire a function's schedule now, with the event EventBridge would send."""
        schedule = next((s for s in self.schedules if s.function == logical_id), None)
        if schedule is None:
            raise TemplateError(f"{logical_id} has no Schedule event in the template")
        rule_arn = f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{schedule.name}"
        return self.invoke(logical_id, lambda_events.scheduled_event(rule_arn, self.region))

    def queue_depth(self, logical_id: str) -> int:
        """Visible plus in-flight messages of a queue (e.g. a DLQ) by logical id."""
        attributes = client("sqs").get_queue_attributes(
            QueueUrl=self.physical(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def _parameter_values(template: dict[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    declared = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown template parameters {unknown}; declared: {sorted(declared)}")
    values = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    values.update({name: str(value) for name, value in overrides.items()})
    missing = sorted(set(declared) - set(values))
    if missing:
        raise TemplateError(f"template parameters {missing} have no default; pass a value")
    return values


def _http_response(result: Any) -> HttpResponse:
    """Interpret a handler's result the way an HTTP API (payload 2.0) does."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            raw = base64.b64decode(body)
        else:
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return HttpResponse(int(result["statusCode"]), headers, raw)
    payload = result if isinstance(result, str) else json.dumps(result)
    return HttpResponse(200, {"content-type": "application/json"}, payload.encode())


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
