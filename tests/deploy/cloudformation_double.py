"""A CloudFormation endpoint on loopback for the stack lifecycle moto does not model.

boto3 and the SAM CLI double reach it through AWS_ENDPOINT_URL_CLOUDFORMATION and speak the real
query protocol; the region is the one the request is signed for, so each region has its own
stacks. It follows the CloudFormation API reference and the errors the service answers:

- DescribeStacks of a name with no live stack: ValidationError "Stack with id NAME does not
  exist" (the text SAM CLI and deploy.py look for).
- CreateChangeSet: a stack name outside `[a-zA-Z][-a-zA-Z0-9]*` or over 128 characters is a
  ValidationError; type CREATE makes the stack in REVIEW_IN_PROGRESS (AlreadyExistsException for
  a stack that exists); type UPDATE of a stack in ROLLBACK_COMPLETE (or in progress, or
  DELETE_FAILED) is refused: "Stack:ARN is in ROLLBACK_COMPLETE state and can not be updated.";
  an update with the same template, parameters and tags fails with "The submitted information
  didn't contain changes. Submit different information to create a change set."
- ExecuteChangeSet runs the create or update at once (no IN_PROGRESS is ever seen). A failed
  create rolls back to ROLLBACK_COMPLETE with "The following resource(s) failed to create:
  [LogicalId]. Rollback requested by user.", or, with OnStackFailure DELETE, deletes the stack;
  a failed update rolls back to UPDATE_ROLLBACK_COMPLETE, which can be updated again.
- UpdateStack is refused in the same states as an update change set, and "No updates are to be
  performed." when nothing changed.
- DeleteStack of a missing stack succeeds; a resource that cannot be deleted leaves the stack in
  DELETE_FAILED with "The following resource(s) failed to delete: [LogicalId]. ".
- ListStackResources names every resource with its physical id.

What a template creates is not read from the template body: the `Resources` given (for this
project, tests/deploy/template_resources.py) make, change and delete the stack's resources and
say which one fails, as CloudFormation's resource handlers would. DisableRollback=true is not
modelled and is refused loudly.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from tests.deploy.http_doubles import LoopbackServer, _Handler

ACCOUNT = "123456789012"
NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create "
    "a change set."
)
# An update is refused in these states (the API reference's "can not be updated").
NOT_UPDATABLE = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "REVIEW_IN_PROGRESS"}


class ResourceFailure(Exception):
    """A resource handler refused: `logical_id` and CloudFormation's reason for it."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.reason = reason


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Stack:
    name: str
    region: str
    stack_id: str
    status: str = "REVIEW_IN_PROGRESS"
    reason: str = ""
    template: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    resources: list[dict[str, str]] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class ChangeSet:
    change_set_id: str
    name: str
    stack: Stack
    kind: str  # CREATE or UPDATE
    template: str
    parameters: dict[str, str]
    tags: dict[str, str]
    on_stack_failure: str = "ROLLBACK"
    status: str = "CREATE_COMPLETE"
    reason: str = ""
    execution_status: str = "AVAILABLE"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


class Resources(Protocol):
    """What a template's resources do when CloudFormation creates, updates or deletes them."""

    def create(self, stack: Stack) -> None:
        """Fill stack.resources and .outputs, or undo what it made and raise ResourceFailure."""

    def update(self, stack: Stack) -> None:
        """Bring the resources in line with stack.parameters (and the outputs with them)."""

    def delete(self, stack: Stack) -> None:
        """Delete stack.resources, or raise ResourceFailure for the one that refuses."""


def xml(value: Any) -> str:
    """A value as the query protocol's XML: dicts as elements, lists as <member>s."""
    if isinstance(value, dict):
        return "".join(f"<{key}>{xml(item)}</{key}>" for key, item in value.items())
    if isinstance(value, list):
        return "".join(f"<member>{xml(item)}</member>" for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return escape(str(value))


def members(form: dict[str, str], name: str, *fields: str) -> list[dict[str, str]]:
    """`Name.member.N.Field` request values, in order."""
    found = []
    for number in range(1, 10_000):
        prefix = f"{name}.member.{number}"
        if not any(key.startswith(f"{prefix}.") or key == prefix for key in form):
            return found
        if not fields:
            found.append({"": form[prefix]})
        else:
            found.append({f: form[f"{prefix}.{f}"] for f in fields if f"{prefix}.{f}" in form})
    return found


def signed_region(authorization: str) -> str:
    """The region of a SigV4 `Authorization` header's credential scope."""
    found = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/cloudformation/", authorization)
    if not found:
        raise ApiError("IncompleteSignature", "Authorization header is missing or malformed")
    return found.group(1)


class CloudFormationDouble(LoopbackServer):
    """Stacks by region and name, and the change sets that make them."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.stacks: dict[tuple[str, str], Stack] = {}
        self.change_sets: dict[str, ChangeSet] = {}
        self.calls: list[tuple[str, str]] = []  # (region, action) of every request, in order
        self.lock = threading.Lock()
        super().__init__(_Handler)

    def reset(self) -> None:
        with self.lock:
            self.stacks.clear()
            self.change_sets.clear()
            self.calls.clear()

    def stack(self, region: str, name: str) -> Stack | None:
        return self.stacks.get((region, name))

    # ---- HTTP ----

    def answer(self, request: _Handler) -> None:
        form = {
            k: v[0] for k, v in parse_qs(request.body().decode(), keep_blank_values=True).items()
        }
        action = form.get("Action", "")
        request_id = str(uuid.uuid4())
        try:
            region = signed_region(request.headers.get("Authorization", ""))
            handler = getattr(self, f"action_{action}", None)
            if handler is None:
                raise ApiError(
                    "InvalidAction", f"The action {action} is not valid for this web service."
                )
            with self.lock:
                self.calls.append((region, action))
                result = handler(region, form)
            body = (
                f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{xml(result)}'
                f"</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId>"
                f"</ResponseMetadata></{action}Response>"
            )
            status = 200
        except ApiError as error:
            body = (
                f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
                f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            status = error.status
        request.reply(status, [("Content-Type", "text/xml")], body.encode())

    # ---- the API ----

    def live_stack(self, region: str, name: str) -> Stack:
        stack = self.stacks.get((region, name)) or next(
            (s for s in self.stacks.values() if s.stack_id == name), None
        )
        if stack is None:
            raise ApiError("ValidationError", f"Stack with id {name} does not exist")
        return stack

    def action_DescribeStacks(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        if "StackName" in form:
            stacks = [self.live_stack(region, form["StackName"])]
        else:
            stacks = [s for (r, _), s in self.stacks.items() if r == region]
        return {"Stacks": [self.described(stack) for stack in stacks]}

    def described(self, stack: Stack) -> dict[str, Any]:
        described: dict[str, Any] = {
            "StackId": stack.stack_id,
            "StackName": stack.name,
            "CreationTime": stack.created,
            "StackStatus": stack.status,
            "DisableRollback": False,
        }
        if stack.reason:
            described["StackStatusReason"] = stack.reason
        described["Parameters"] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in stack.parameters.items()
        ]
        if stack.outputs:
            described["Outputs"] = [
                {"OutputKey": k, "OutputValue": v} for k, v in stack.outputs.items()
            ]
        described["Tags"] = [{"Key": k, "Value": v} for k, v in stack.tags.items()]
        return described

    @staticmethod
    def check_stack_name(name: str) -> None:
        if len(name) > 128:
            raise ApiError(
                "ValidationError",
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                "constraint: Member must have length less than or equal to 128",
            )
        if not STACK_NAME.fullmatch(name):
            raise ApiError(
                "ValidationError",
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*",
            )

    @staticmethod
    def refuse_update(stack: Stack) -> None:
        if stack.status in NOT_UPDATABLE or stack.status.endswith("_IN_PROGRESS"):
            raise ApiError(
                "ValidationError",
                f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.",
            )

    @staticmethod
    def submitted(form: dict[str, str], previous: dict[str, str]) -> dict[str, str]:
        """The Parameters of a request, UsePreviousValue taken from `previous`."""
        values = {}
        for parameter in members(
            form, "Parameters", "ParameterKey", "ParameterValue", "UsePreviousValue"
        ):
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue") == "true":
                if key in previous:
                    values[key] = previous[key]
            else:
                values[key] = parameter.get("ParameterValue", "")
        return values

    @staticmethod
    def template_of(form: dict[str, str]) -> str:
        template = form.get("TemplateURL") or form.get("TemplateBody")
        if not template:
            raise ApiError(
                "ValidationError", "Either Template URL or Template Body must be specified."
            )
        return template

    def new_stack(self, region: str, name: str) -> Stack:
        stack_id = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/{uuid.uuid4()}"
        stack = Stack(name, region, stack_id)
        self.stacks[(region, name)] = stack
        return stack

    def action_CreateChangeSet(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        name = form["StackName"]
        self.check_stack_name(name)
        kind = form.get("ChangeSetType", "UPDATE")
        existing = self.stacks.get((region, name))
        if kind == "CREATE":
            if existing and existing.status != "REVIEW_IN_PROGRESS":
                raise ApiError("AlreadyExistsException", f"Stack [{name}] already exists")
            stack = existing or self.new_stack(region, name)
        elif kind == "UPDATE":
            if existing is None:
                raise ApiError("ValidationError", f"Stack [{name}] does not exist")
            self.refuse_update(existing)
            stack = existing
        else:
            raise ApiError("ValidationError", f"ChangeSetType {kind} is not supported here")
        tags = {t["Key"]: t["Value"] for t in members(form, "Tags", "Key", "Value")}
        change_set = ChangeSet(
            change_set_id=(
                f"arn:aws:cloudformation:{region}:{ACCOUNT}:changeSet/"
                f"{form['ChangeSetName']}/{uuid.uuid4()}"
            ),
            name=form["ChangeSetName"],
            stack=stack,
            kind=kind,
            template=self.template_of(form),
            parameters=self.submitted(form, stack.parameters),
            tags=tags,
            on_stack_failure=form.get("OnStackFailure", "ROLLBACK"),
        )
        if kind == "UPDATE" and self.unchanged(stack, change_set):
            change_set.status, change_set.reason = "FAILED", NO_CHANGES
            change_set.execution_status = "UNAVAILABLE"
        self.change_sets[change_set.change_set_id] = change_set
        return {"Id": change_set.change_set_id, "StackId": stack.stack_id}

    @staticmethod
    def unchanged(stack: Stack, change_set: ChangeSet) -> bool:
        merged = {**stack.parameters, **change_set.parameters}
        return (stack.template, stack.parameters, stack.tags) == (
            change_set.template,
            merged,
            change_set.tags,
        )

    def find_change_set(self, region: str, form: dict[str, str]) -> ChangeSet:
        wanted = form["ChangeSetName"]
        for change_set in self.change_sets.values():
            if change_set.change_set_id == wanted or (
                change_set.name == wanted
                and change_set.stack.region == region
                and form.get("StackName") in (change_set.stack.name, change_set.stack.stack_id)
            ):
                return change_set
        raise ApiError("ChangeSetNotFound", f"ChangeSet [{wanted}] does not exist", 404)

    def action_DescribeChangeSet(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        change_set = self.find_change_set(region, form)
        described: dict[str, Any] = {
            "ChangeSetName": change_set.name,
            "ChangeSetId": change_set.change_set_id,
            "StackId": change_set.stack.stack_id,
            "StackName": change_set.stack.name,
            "CreationTime": change_set.created,
            "ExecutionStatus": change_set.execution_status,
            "Status": change_set.status,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v} for k, v in change_set.parameters.items()
            ],
            "Changes": [],
        }
        if change_set.reason:
            described["StatusReason"] = change_set.reason
        return described

    def action_ExecuteChangeSet(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        change_set = self.find_change_set(region, form)
        if form.get("DisableRollback") == "true":
            raise ApiError("ValidationError", "DisableRollback=true is not modelled by this double")
        if change_set.status != "CREATE_COMPLETE" or change_set.execution_status != "AVAILABLE":
            raise ApiError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"status of [{change_set.status}]",
            )
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack = change_set.stack
        if change_set.kind == "UPDATE":
            self.refuse_update(stack)
            self.apply_update(stack, change_set.template, change_set.parameters, change_set.tags)
        else:
            self.apply_create(stack, change_set)
        return {}

    def apply_create(self, stack: Stack, change_set: ChangeSet) -> None:
        stack.template, stack.parameters, stack.tags = (
            change_set.template,
            dict(change_set.parameters),
            dict(change_set.tags),
        )
        try:
            self.resources.create(stack)
        except ResourceFailure as failure:
            stack.resources, stack.outputs = [], {}
            if change_set.on_stack_failure == "DELETE":
                del self.stacks[(stack.region, stack.name)]
                return
            stack.status = "ROLLBACK_COMPLETE"
            stack.reason = (
                f"The following resource(s) failed to create: [{failure.logical_id}]. "
                "Rollback requested by user."
            )
            return
        stack.status, stack.reason = "CREATE_COMPLETE", ""

    def apply_update(
        self, stack: Stack, template: str, parameters: dict[str, str], tags: dict[str, str]
    ) -> None:
        before = (stack.template, dict(stack.parameters), dict(stack.tags))
        stack.template, stack.tags = template, dict(tags)
        stack.parameters = {**stack.parameters, **parameters}
        try:
            self.resources.update(stack)
        except ResourceFailure as failure:
            stack.template, stack.parameters, stack.tags = before
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack.reason = f"The following resource(s) failed to update: [{failure.logical_id}]. "
            return
        stack.status, stack.reason = "UPDATE_COMPLETE", ""

    def action_UpdateStack(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        stack = self.live_stack(region, form["StackName"])
        self.refuse_update(stack)
        tags = {t["Key"]: t["Value"] for t in members(form, "Tags", "Key", "Value")}
        template, parameters = self.template_of(form), self.submitted(form, stack.parameters)
        if (template, {**stack.parameters, **parameters}, tags) == (
            stack.template,
            stack.parameters,
            stack.tags,
        ):
            raise ApiError("ValidationError", "No updates are to be performed.")
        self.apply_update(stack, template, parameters, tags)
        return {"StackId": stack.stack_id}

    def action_DeleteStack(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        stack = self.stacks.get((region, form["StackName"]))
        if stack is None:
            return {}  # deleting a stack that is not there succeeds
        try:
            self.resources.delete(stack)
        except ResourceFailure as failure:
            stack.status = "DELETE_FAILED"
            stack.reason = f"The following resource(s) failed to delete: [{failure.logical_id}]. "
            return {}
        del self.stacks[(region, stack.name)]
        return {}

    def action_ListStackResources(self, region: str, form: dict[str, str]) -> dict[str, Any]:
        stack = self.live_stack(region, form["StackName"])
        now = datetime.now(UTC)
        return {
            "StackResourceSummaries": [
                {**resource, "LastUpdatedTimestamp": now, "ResourceStatus": "CREATE_COMPLETE"}
                for resource in stack.resources
            ]
        }
