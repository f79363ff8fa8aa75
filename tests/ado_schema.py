"""The Azure Pipelines schema of an organisation that has the Terraform extension installed.

check-jsonschema vendors the schema Azure DevOps serves for built-in tasks only. An
organisation serves a schema that also lists the tasks of its installed extensions; the
infrastructure pipeline needs Microsoft's Terraform extension (TerraformInstaller@1,
TerraformTaskV4@4). This module adds those two tasks to the vendored schema, described
the way Azure DevOps describes built-in ones (input names, types, choices), plus the
conditional requirements the tasks enforce when they run: `init` needs the backend
inputs, every other Azure command needs the environment's service connection.
Deprecated versions (TerraformTaskV1-V3, TerraformInstaller@0) stay unknown, so using
them fails validation.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

STRING: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}

TERRAFORM_COMMANDS = ["init", "validate", "plan", "show", "apply", "output", "destroy", "custom"]

TERRAFORM_INSTALLER_INPUTS: dict[str, Any] = {"terraformVersion": STRING}

TERRAFORM_TASK_INPUTS: dict[str, Any] = {
    "provider": {"enum": ["azurerm", "aws", "gcp", "oci"]},
    "command": {"enum": TERRAFORM_COMMANDS},
    "workingDirectory": STRING,
    "commandOptions": STRING,
    "outputTo": {"enum": ["file", "console"]},
    "customCommand": STRING,
    "outputFormat": {"enum": ["json", "default"]},
    "fileName": STRING,
    "publishPlan": STRING,
    "environmentServiceNameAzureRM": STRING,
    "environmentServiceNameAWS": STRING,
    "environmentServiceNameGCP": STRING,
    "environmentServiceNameOCI": STRING,
    "backendAzureRmUseEnvironmentVariablesForAuthentication": BOOLEAN,
    "backendAzureRmUseEntraIdForAuthentication": BOOLEAN,
    "backendServiceArm": STRING,
    "backendAzureRmResourceGroupName": STRING,
    "backendAzureRmStorageAccountName": STRING,
    "backendAzureRmContainerName": STRING,
    "backendAzureRmKey": STRING,
    "backendServiceAWS": STRING,
    "backendAWSBucketName": STRING,
    "backendAWSKey": STRING,
    "backendServiceGCP": STRING,
    "backendGCPBucketName": STRING,
    "backendGCPPrefix": STRING,
    "backendServiceOCI": STRING,
    "backendOCIPar": STRING,
    "backendOCIConfigGenerate": {"enum": ["yes", "no"]},
}

AZURERM_BACKEND = [
    "backendServiceArm",
    "backendAzureRmResourceGroupName",
    "backendAzureRmStorageAccountName",
    "backendAzureRmContainerName",
    "backendAzureRmKey",
]


def _task(name: str, inputs: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "description": f"{name} inputs",
        "properties": inputs,
        "additionalProperties": False,
        "required": [],
    }
    if rules:
        schema["allOf"] = rules
    return {
        "properties": {"task": {"pattern": f"^{name}$"}, "inputs": schema},
        "firstProperty": ["task"],
        "required": ["task"],
    }


def _azurerm_rules() -> list[dict[str, Any]]:
    """What TerraformTaskV4 checks at run time for the azurerm provider (the default)."""
    azurerm = {
        "not": {"required": ["provider"], "properties": {"provider": {"not": {"const": "azurerm"}}}}
    }
    init = {
        "anyOf": [
            {"not": {"required": ["command"]}},
            {"properties": {"command": {"const": "init"}}},
        ]
    }
    needs_connection = {
        "not": {
            "anyOf": [
                {"not": {"required": ["command"]}},
                {"properties": {"command": {"enum": ["init", "validate"]}}},
            ]
        }
    }
    return [
        {"if": {"allOf": [azurerm, init]}, "then": {"required": AZURERM_BACKEND}},
        {
            "if": {"allOf": [azurerm, needs_connection]},
            "then": {"required": ["environmentServiceNameAzureRM"]},
        },
        {
            "if": {"properties": {"command": {"const": "custom"}}, "required": ["command"]},
            "then": {"required": ["customCommand"]},
        },
    ]


EXTENSION_TASK_NAMES = ("TerraformInstaller@1", "TerraformTaskV4@4")


def extension_tasks() -> list[dict[str, Any]]:
    """Schema entries for the Terraform extension's current tasks."""
    installer, task = EXTENSION_TASK_NAMES
    return [
        _task(installer, TERRAFORM_INSTALLER_INPUTS, []),
        _task(task, TERRAFORM_TASK_INPUTS, _azurerm_rules()),
    ]


def vendored_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    return json.loads((vendor / "azure-pipelines.json").read_text(encoding="utf-8"))


def write_org_schema(path: Path) -> Path:
    """Write the vendored schema plus the extension's tasks to ``path``."""
    schema = vendored_schema()
    task = schema["definitions"]["task"]
    task["anyOf"].extend(extension_tasks())
    for name in EXTENSION_TASK_NAMES:
        task["properties"]["task"]["anyOf"].append(
            {"description": f"{name} (Terraform extension)", "enum": [name]}
        )
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def check_command(check_jsonschema: Path, schema: Path, files: list[str]) -> list[str]:
    """The check-jsonschema command line for pipeline files against ``schema``."""
    return [
        str(check_jsonschema),
        *("--schemafile", str(schema)),
        *("--data-transform", "azure-pipelines", "--regex-variant", "nonunicode"),
        *files,
    ]
