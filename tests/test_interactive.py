"""Interactive tier: `copier copy` typed at an 80x24 terminal, the way a new user runs it.

The other tiers pass answers as data; only a real prompt shows what a user meets:
derived defaults computed before a prompt appears, validation messages cut to one
80-column toolbar line, and questions that `when` skips. A Copier run takes 10-20 s,
so the runs are marked slow; the checks of copier.yml itself are not.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from conftest import REPO_ROOT, load_answers

QUESTIONS: dict[str, Any] = {
    name: spec
    for name, spec in yaml.safe_load((REPO_ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_")
}
COLUMNS, ROWS = 80, 24
STEP_TIMEOUT = 30.0  # one prompt, on a busy 2-core machine
RENDER_TIMEOUT = 120.0  # the whole project, after the last answer
# Escape sequences, carriage returns, backspaces and bells: how prompt_toolkit
# redraws, none of it text the user reads.
NOISE = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Z]|\x1b[=>78]|[\r\b\x07]"
)
# prompt_toolkit asks where the cursor is and shows a checkbox's validation message
# only once told. In a terminal in use the output has scrolled: the cursor is at the bottom.
POSITION_REQUEST = "\x1b[6n"
POSITION_AT_BOTTOM = f"\x1b[{ROWS};1R"

ENTER = "\r"
DOWN = "\x1b[B"
SPACE = " "
YES = "y"  # a confirm prompt takes y or n without Enter
NO = "n"
CLEAR_LINE = "\x01\x0b"  # Ctrl-A, Ctrl-K: to the start of the line, kill to its end
CLEAR_YAML = "\x7f" * 200  # backspaces: a YAML answer may span lines
FINISH_YAML = "\x1b\r"  # Esc then Enter ends a YAML answer, multiline or not


def typed(text: str) -> str:
    """Keys that replace a text prompt's content with ``text`` and submit it."""
    return CLEAR_LINE + text + ENTER


def typed_yaml(text: str) -> str:
    """Keys that replace a YAML prompt's content with ``text`` and submit it."""
    return CLEAR_YAML + text + FINISH_YAML


@dataclass(frozen=True)
class Step:
    """A question, the keys of its accepted answer, and bad attempts before it (keys, message)."""

    question: str
    keys: str = ""  # empty: accept the default
    rejected: tuple[tuple[str, str], ...] = ()

    @property
    def prompt(self) -> str:
        """What the user sees when asked: the start of the help text's first line."""
        return str(QUESTIONS[self.question]["help"]).splitlines()[0][:60]

    @property
    def answer_keys(self) -> str:
        """The keys given, or those that accept the default (Enter; Esc Enter for YAML)."""
        if self.keys:
            return self.keys
        return FINISH_YAML if QUESTIONS[self.question]["type"] == "yaml" else ENTER


def defaults(questions: Sequence[str]) -> list[Step]:
    """Accept the default of each question."""
    return [Step(question) for question in questions]


# What Copier asks after project_name when every answer is the default (Azure DevOps).
DEFAULT_QUESTIONS = (
    "project_slug",
    "project_description",
    "python_version",
    "flow_engine",
    "sample_flows",
    "connections",
    "azure_location",
    "azure_resource_prefix",
    "deploy_targets",
    "deploy_aml_instance_type",
    "deploy_instance_count",
    "deploy_new_traffic_percent",
    "tf_enabled",
    "tf_state_resource_group",
    "tf_state_storage_account",
    "ci_platform",
    "branch_development",
    "branch_main",
    "environments",
    "approval_manual_validation",
    "ado_service_connection_prefix",
    "ado_variable_group_prefix",
    "update_check_cron",
)


class Terminal:
    """Copier in a pseudo-terminal; its output read as text, without redraw escapes."""

    def __init__(self, child: pexpect.spawn, project: Path) -> None:
        self.child = child
        self.project = project
        self.raw = ""
        self.seen = 0  # the screen text up to here has been matched already
        self.positions_reported = 0

    @property
    def screen(self) -> str:
        """Everything printed so far, as text."""
        return NOISE.sub("", self.raw)

    def _read(self) -> bool:
        """Read what is pending and answer position requests; False once Copier exited."""
        try:
            self.raw += self.child.read_nonblocking(65536, timeout=0.1)
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            return False
        while self.positions_reported < self.raw.count(POSITION_REQUEST):
            self.child.send(POSITION_AT_BOTTOM)
            self.positions_reported += 1
        return True

    def fail(self, problem: str) -> None:
        """Fail with the end of the transcript, which shows where Copier stood."""
        pytest.fail(f"{problem}\n--- last screen output ---\n{self.screen[-2500:]}")

    def wait_for(self, text: str, timeout: float = STEP_TIMEOUT) -> None:
        """Wait until ``text`` is printed after what was matched last."""
        deadline = time.monotonic() + timeout
        while (found := self.screen.find(text, self.seen)) < 0:
            if not self._read():
                self.fail(f"Copier exited while we waited for {text!r}")
            if time.monotonic() > deadline:
                self.fail(f"waited {timeout:.0f}s for {text!r}")
        self.seen = found + len(text)

    def answer(self, steps: Sequence[Step]) -> None:
        """Answer each question once its prompt shows; a bad answer must keep it showing."""
        for index, step in enumerate(steps):
            self.wait_for(step.prompt)
            following = steps[index + 1].prompt if index + 1 < len(steps) else "LLMOps project"
            for keys, message in step.rejected:
                self.child.send(keys)
                self.wait_for(f"Validation error for question '{step.question}': {message}")
                if following in self.screen[self.seen :]:
                    self.fail(f"{step.question}: the bad answer was accepted")
            self.child.send(step.answer_keys)

    def finish(self) -> str:
        """Wait for Copier to exit; return the transcript."""
        deadline = time.monotonic() + RENDER_TIMEOUT
        while self._read():
            if time.monotonic() > deadline:
                self.fail(f"Copier still running {RENDER_TIMEOUT:.0f}s after the last answer")
        self.child.close()
        return self.screen


@pytest.fixture
def terminal(tools_bin: Path, tmp_path: Path) -> Iterator[Terminal]:
    """`copier copy` of this template (working tree) into a new project, in an 80x24 xterm."""
    project = tmp_path / "project"
    child = pexpect.spawn(
        str(tools_bin / "copier"),
        ["copy", "--trust", "--vcs-ref", "HEAD", str(REPO_ROOT), str(project)],
        env={**os.environ, "TERM": "xterm"},  # with the isolation of conftest.py
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        codec_errors="replace",
    )
    try:
        yield Terminal(child, project)
    finally:
        child.close(force=True)


def run(terminal: Terminal, steps: Sequence[Step], project_name: str) -> dict[str, Any]:
    """Answer ``steps``, check that Copier ended well, and return the recorded answers."""
    terminal.answer(steps)
    transcript = terminal.finish()
    assert terminal.child.exitstatus == 0, transcript[-2500:]
    assert "Traceback" not in transcript, transcript
    assert f'Your LLMOps project "{project_name}" is ready' in transcript
    return load_answers(terminal.project)


@pytest.mark.slow
def test_enter_through_every_default(terminal: Terminal) -> None:
    """A long name: its derived slug default once crashed Copier before the prompt showed."""
    name = "Northwind Insurance Claims Bot"
    steps = [Step("project_name", typed(name)), *defaults(DEFAULT_QUESTIONS)]
    answers = run(terminal, steps, name)
    assert answers["project_name"] == name
    assert answers["project_slug"] == "northwind-insurance"
    assert answers["azure_resource_prefix"] == "northwindi"
    assert answers["tf_state_storage_account"] == "stnorthwinditfstate"
    assert answers["ado_service_connection_prefix"] == "sc-northwind-insurance"
    assert answers["ci_platform"] == "azure_devops"
    assert answers["flow_engine"] == "promptflow"
    assert answers["sample_flows"] == ["named_entity_recognition"]
    assert answers["deploy_targets"] == ["aml_managed"]
    assert [connection["name"] for connection in answers["connections"]] == ["aoai"]
    assert answers["environments"] == [
        {"name": "dev", "branch": "development"},
        {"name": "prod", "branch": "main"},
    ]
    assert answers["approval_manual_validation"] is False


@pytest.mark.slow
def test_github_three_environments_two_connections(terminal: Terminal) -> None:
    """Select, checkbox and YAML prompts off their defaults; GitHub skips the ADO questions."""
    name = "Fabrikam Claims"
    connections = (
        "[{name: aoai, type: azure_openai, api_version: '2024-10-21', deployment: gpt-4o-mini},"
        " {name: oai, type: openai, deployment: gpt-4o}]"
    )
    environments = (
        "[{name: dev, branch: development}, {name: test, branch: 'release/*'},"
        " {name: prod, branch: main}]"
    )
    steps = [
        Step("project_name", typed(name)),
        *defaults(("project_slug", "project_description")),
        Step("python_version", DOWN + ENTER),
        Step("flow_engine", DOWN + ENTER),
        Step("sample_flows"),
        Step("connections", typed_yaml(connections)),
        *defaults(("azure_location", "azure_resource_prefix")),
        Step("deploy_targets", DOWN + SPACE + DOWN + SPACE + ENTER),
        *defaults(
            (
                "deploy_aml_instance_type",
                "deploy_k8s_compute_name",
                "deploy_k8s_instance_type",
                "deploy_app_service_sku",
            )
        ),
        Step("deploy_instance_count", typed("2")),
        Step("deploy_new_traffic_percent"),
        Step("tf_enabled", NO),
        Step("ci_platform", DOWN + ENTER),
        *defaults(("branch_development", "branch_main")),
        Step("environments", typed_yaml(environments)),
        Step("update_check_cron"),
    ]
    answers = run(terminal, steps, name)
    assert answers["ci_platform"] == "github"
    assert answers["python_version"] == "3.12"
    assert answers["flow_engine"] == "agent_framework"
    assert "agent-framework-core" in (terminal.project / "pyproject.toml").read_text()
    assert answers["deploy_targets"] == ["aml_managed", "kubernetes", "app_service"]
    assert answers["deploy_app_service_sku"] == "P1v3"
    assert answers["deploy_instance_count"] == 2
    assert answers["tf_enabled"] is False
    assert [connection["name"] for connection in answers["connections"]] == ["aoai", "oai"]
    assert answers["environments"] == [
        {"name": "dev", "branch": "development"},
        {"name": "test", "branch": "release/*"},
        {"name": "prod", "branch": "main"},
    ]
    assert not [key for key in answers if key.startswith(("approval_", "ado_", "tf_state_"))]
    assert (terminal.project / ".github" / "workflows").is_dir()


@pytest.mark.slow
def test_manual_validation_with_the_default_notify_list(terminal: Terminal) -> None:
    """Saying yes once crashed Copier: the notify default failed its own validator."""
    name = "Contoso NER"
    split = DEFAULT_QUESTIONS.index("approval_manual_validation")
    steps = [
        Step("project_name", typed(name)),
        *defaults(DEFAULT_QUESTIONS[:split]),
        Step("approval_manual_validation", YES),
        *defaults(("approval_notify", "approval_timeout_minutes")),
        *defaults(DEFAULT_QUESTIONS[split + 1 :]),
    ]
    answers = run(terminal, steps, name)
    assert answers["approval_manual_validation"] is True
    assert answers["approval_notify"] == "[$(System.TeamProject)]\\Project Administrators"
    assert answers["approval_timeout_minutes"] == 1440


def rejecting(question: str, bad: str, message: str, good: str) -> Step:
    """Type ``bad``, expect ``message`` (the start of the rule), then type ``good``."""
    if QUESTIONS[question]["type"] == "yaml":
        return Step(question, typed_yaml(good), ((typed_yaml(bad), message),))
    return Step(question, typed(good), ((typed(bad), message),))


# One bad answer per validated question, with the part of the message a user must
# see at 80 columns: the rule, before any detail the toolbar cuts off.
BAD_ANSWER_PATH = [
    rejecting("project_name", "9lives", "Start with a letter", "Northwind Claims"),
    rejecting("project_slug", "Bad_Slug", "Use a-z, 0-9 and single dashes", "nw-claims"),
    Step("project_description"),
    Step("python_version"),
    Step("flow_engine"),
    # Space unticks the only ticked sample, Enter submits none; space ticks it again.
    Step("sample_flows", SPACE + ENTER, ((SPACE + ENTER, "Pick at least one sample use case"),)),
    rejecting(
        "connections",
        "[{name: my-conn, type: azure_openai, api_version: '2024-10-21', deployment: gpt-4o}]",
        "Name: a letter, then a-z 0-9 _",
        "[{name: aoai, type: azure_openai, api_version: '2024-10-21', deployment: gpt-4o}]",
    ),
    rejecting("azure_location", "West Europe", "Use a region id like westeurope", "westeurope"),
    rejecting("azure_resource_prefix", "Contoso", "Use 2-10 a-z or 0-9", "nwclaims"),
    Step(
        "deploy_targets",
        SPACE + DOWN + SPACE + ENTER,
        ((SPACE + ENTER, "Pick at least one target"),),
    ),
    rejecting("deploy_aml_instance_type", "DS3", "Use Standard_<size>", "Standard_DS3_v2"),
    rejecting("deploy_k8s_compute_name", "1compute", "Use letters, digits, -", "k8s-compute"),
    rejecting("deploy_k8s_instance_type", "Default_Type", "Use a-z, 0-9 and -", "default"),
    rejecting("deploy_instance_count", "0", "Use 1-20 instances", "1"),
    rejecting("deploy_new_traffic_percent", "101", "Use 1-100 percent", "20"),
    Step("tf_enabled"),
    rejecting("tf_state_resource_group", "rg nw tfstate", "Only A-Za-z0-9._()-", "rg-nw-tfstate"),
    rejecting("tf_state_storage_account", "st-nw-tfstate", "Only a-z and 0-9", "stnwtfstate"),
    Step("ci_platform"),
    rejecting("branch_development", "feat..x", "No '..' in a branch name", "development"),
    rejecting("branch_main", "development", "Use another branch", "main"),
    rejecting(
        "environments",
        "[{name: production, branch: main}]",
        "Name: 2-8 a-z/0-9, letter first",
        "[{name: dev, branch: development}, {name: prod, branch: main}]",
    ),
    Step("approval_manual_validation", YES),
    rejecting("approval_notify", "replace@youremail.com", "Use real approvers", "ana@fabrikam.io"),
    rejecting("approval_timeout_minutes", "0", "Use 1-43200 minutes", "60"),
    rejecting("ado_service_connection_prefix", "sc nw", "Only A-Za-z0-9._-", "sc-nw"),
    rejecting("ado_variable_group_prefix", "vg nw", "Only A-Za-z0-9._-", "vg-nw"),
    rejecting("update_check_cron", "0 0 6 * * 1", "Use 5 fields: m h dom mon dow", "0 6 * * 1"),
]


def test_bad_answer_path_covers_every_validated_question() -> None:
    """A question that gains a validator must gain a bad answer below."""
    validated = {name for name, spec in QUESTIONS.items() if "validator" in spec}
    assert {step.question for step in BAD_ANSWER_PATH if step.rejected} == validated


@pytest.mark.slow
def test_bad_answers_are_refused_and_the_prompt_stays(terminal: Terminal) -> None:
    """Each bad answer shows its question's rule on screen; the corrected one is recorded."""
    answers = run(terminal, BAD_ANSWER_PATH, "Northwind Claims")
    assert answers["project_slug"] == "nw-claims"
    assert answers["sample_flows"] == ["named_entity_recognition"]
    assert [connection["name"] for connection in answers["connections"]] == ["aoai"]
    assert answers["deploy_targets"] == ["aml_managed", "kubernetes"]
    assert answers["deploy_k8s_instance_type"] == "default"
    assert answers["tf_state_storage_account"] == "stnwtfstate"
    assert answers["branch_main"] == "main"
    assert answers["approval_notify"] == "ana@fabrikam.io"
    assert answers["approval_timeout_minutes"] == 60
    assert answers["update_check_cron"] == "0 6 * * 1"
