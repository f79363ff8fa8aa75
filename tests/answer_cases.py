"""Bad answers, one or more per question that checks its answer: shared by the tiers that
reject them through Copier (tests/test_validation.py) and that read their messages
(tests/test_questions.py)."""

from __future__ import annotations

from typing import Any

AOAI = {
    "name": "aoai",
    "type": "azure_openai",
    "api_version": "2024-10-21",
    "deployment": "gpt-4o-mini",
}

BAD_ANSWERS: dict[str, tuple[dict[str, Any], str, str]] = {
    "empty project name": ({"project_name": ""}, "project_name", "Name the project"),
    "project name with slash": (
        {"project_name": "Bad/Name"},
        "project_name",
        "Use letters, digits",
    ),
    "project name starting with digit": (
        {"project_name": "9lives"},
        "project_name",
        "Start with a letter",
    ),
    "slug with underscore": (
        {"project_slug": "bad_slug"},
        "project_slug",
        "Use a-z, 0-9 and single dashes",
    ),
    "slug too long": ({"project_slug": "a" * 25}, "project_slug", "3-24 characters"),
    "connection name not identifier": (
        {"connections": [{**AOAI, "name": "my-conn"}]},
        "connections",
        "Name: a letter",
    ),
    "duplicated connection": (
        {"connections": [AOAI, {**AOAI, "deployment": "gpt-4o"}]},
        "connections",
        "repeats 'aoai'",
    ),
    "unknown connection type": (
        {"connections": [{**AOAI, "type": "anthropic"}]},
        "connections",
        "type 'anthropic' is unknown",
    ),
    "malformed api version": (
        {"connections": [{**AOAI, "api_version": "2024-1-1"}]},
        "connections",
        "is malformed",
    ),
    "secret in connection answer": (
        {"connections": [{**AOAI, "api_key": "sk-live"}]},
        "connections",
        "Secrets go in .env",
    ),
    "connections not a list": ({"connections": "aoai"}, "connections", "non-empty YAML list"),
    "same branch twice": (
        {"branch_main": "development"},
        "branch_main",
        "Use another branch",
    ),
    "invalid branch": (
        {"branch_development": "feat..x"},
        "branch_development",
        "No '..' in a branch name",
    ),
    "branch feeds two environments": (
        {"environments": [{"name": "dev", "branch": "main"}, {"name": "prod", "branch": "main"}]},
        "environments",
        "deploys to both",
    ),
    "environment name too long": (
        {"environments": [{"name": "production", "branch": "main"}]},
        "environments",
        "Name: 2-8 a-z/0-9",
    ),
    "no sample flow": ({"sample_flows": []}, "sample_flows", "at least one sample"),
    "zero instances": ({"deploy_instance_count": 0}, "deploy_instance_count", "Use 1-20 instances"),
    "traffic above 100": (
        {"deploy_new_traffic_percent": 101},
        "deploy_new_traffic_percent",
        "Use 1-100 percent",
    ),
    "not a VM size": (
        {"deploy_aml_instance_type": "DS3"},
        "deploy_aml_instance_type",
        "Use Standard_<size>",
    ),
    "k8s compute name": (
        {"deploy_targets": ["kubernetes"], "deploy_k8s_compute_name": "1compute"},
        "deploy_k8s_compute_name",
        "start with a letter",
    ),
    "no deploy target": ({"deploy_targets": []}, "deploy_targets", "at least one"),
    "bad region": ({"azure_location": "West Europe"}, "azure_location", "Use a region id"),
    "prefix too long": (
        {"azure_resource_prefix": "contosoengineering"},
        "azure_resource_prefix",
        "Use 2-10 a-z or 0-9",
    ),
    "state account name": (
        {"tf_state_storage_account": "st-contoso"},
        "tf_state_storage_account",
        "Only a-z and 0-9",
    ),
    "placeholder approver": (
        {"approval_manual_validation": True, "approval_notify": "replace@youremail.com"},
        "approval_notify",
        "placeholder",
    ),
    "approval timeout": (
        {
            "approval_manual_validation": True,
            "approval_notify": "ana@fabrikam.io",
            "approval_timeout_minutes": 0,
        },
        "approval_timeout_minutes",
        "1-43200",
    ),
    "cron with six fields": (
        {"update_check_cron": "0 0 6 * * 1"},
        "update_check_cron",
        "Use 5 fields",
    ),
    "k8s instance type": (
        {"deploy_targets": ["kubernetes"], "deploy_k8s_instance_type": "Big_GPU"},
        "deploy_k8s_instance_type",
        "Use a-z, 0-9 and -",
    ),
    "state resource group ends with a dot": (
        {"tf_state_resource_group": "rg-state."},
        "tf_state_resource_group",
        "No '.' at the end",
    ),
    "service connection prefix": (
        {"ado_service_connection_prefix": "-sc"},
        "ado_service_connection_prefix",
        "Start with a letter or digit",
    ),
    "variable group prefix too long": (
        {"ado_variable_group_prefix": "v" * 64},
        "ado_variable_group_prefix",
        "1-63 characters",
    ),
    "branch with a space": ({"branch_development": "a b"}, "branch_development", "Use A-Z"),
    "branch with a leading dot": ({"branch_main": ".hidden"}, "branch_main", "start with '.'"),
    "branch ending in .lock": ({"branch_main": "main.lock"}, "branch_main", "'.lock' at the end"),
    "notify entry neither email nor group": (
        {"approval_manual_validation": True, "approval_notify": "ana"},
        "approval_notify",
        "Use emails or [Project]\\Group",
    ),
    "service connection prefix too long": (
        {"ado_service_connection_prefix": "s" * 64},
        "ado_service_connection_prefix",
        "1-63 characters",
    ),
    "variable group prefix with a space": (
        {"ado_variable_group_prefix": "vg x"},
        "ado_variable_group_prefix",
        "Only A-Za-z0-9._-",
    ),
    "branch name of 300 characters": (
        {"branch_development": "b" * 300},
        "branch_development",
        "Use at most 100 characters",
    ),
    "empty notify list": (
        {"approval_manual_validation": True, "approval_notify": " , "},
        "approval_notify",
        "Name someone to notify",
    ),
    "python version given as a YAML number": (
        {"python_version": 3.1},
        "python_version",
        "Use one of 3.10, 3.11, 3.12",
    ),
    "unknown CI platform": ({"ci_platform": "gitlab"}, "ci_platform", "'gitlab' is not one"),
    "unknown flow engine": ({"flow_engine": "langchain"}, "flow_engine", "'langchain' is not one"),
    "unknown sample": (
        {"sample_flows": ["named_entity_recognition", "chat"]},
        "sample_flows",
        "'chat' is not one",
    ),
    "unknown deploy target": ({"deploy_targets": ["aks"]}, "deploy_targets", "'aks' is not one"),
    "unknown App Service SKU": (
        {"deploy_targets": ["app_service"], "deploy_app_service_sku": "F1"},
        "deploy_app_service_sku",
        "'F1' is not one",
    ),
    "instance count not a number": (
        {"deploy_instance_count": "two"},
        "deploy_instance_count",
        "Use 1-20 instances",
    ),
}
