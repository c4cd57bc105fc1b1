"""The env file is derived from template.yaml: a variable added there is picked up unedited."""

import copy

import pytest

from localdev.local_stack import local_environment
from localdev.stack import declared_variables, environment_file, load_template

TEMPLATE = load_template()
LOCAL = local_environment("http://127.0.0.1:5050", "http://127.0.0.1:8787/v1")


def test_globals_come_first_and_a_functions_own_variables_override_them() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Globals"]["Function"]["Environment"]["Variables"]["SHARED"] = "global"
    own = template["Resources"]["HealthFunction"]["Properties"].setdefault(
        "Environment", {"Variables": {}}
    )
    own["Variables"]["SHARED"] = "health's own"
    declared = declared_variables(template)
    assert declared["HealthFunction"]["SHARED"] == "health's own"
    assert declared["CreateRoomFunction"]["SHARED"] == "global"


def test_a_new_variable_with_a_new_parameter_gets_the_parameters_default() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Parameters"]["Ipv6PrefixLength"] = {"Type": "Number", "Default": 64}
    variables = template["Resources"]["CreateRoomFunction"]["Properties"]["Environment"]
    variables["Variables"]["IPV6_PREFIX_LENGTH"] = {"Ref": "Ipv6PrefixLength"}
    variables["Variables"]["FEATURE_ON"] = True
    create = environment_file(template, LOCAL)["CreateRoomFunction"]
    assert (create["IPV6_PREFIX_LENGTH"], create["FEATURE_ON"]) == ("64", "true")


def test_variables_the_local_stack_knows_point_at_it() -> None:
    document = environment_file(TEMPLATE, LOCAL)
    for function, env in document.items():
        for name in set(env) & set(LOCAL):
            assert env[name] == LOCAL[name], (function, name)
    assert document["CreateRoomFunction"]["DAILY_API_URL"] == "http://127.0.0.1:8787/v1"
    assert document["HealthFunction"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5050"


def test_a_resource_the_local_stack_lacks_is_named_in_the_error() -> None:
    template = copy.deepcopy(TEMPLATE)
    own = template["Resources"]["HealthFunction"]["Properties"]
    own["Environment"] = {"Variables": {"QUEUE_URL": {"Ref": "SomeQueue"}}}
    with pytest.raises(ValueError, match=r"QUEUE_URL is \{\"Ref\": \"SomeQueue\"\}"):
        environment_file(template, LOCAL)
