"""The questionnaire itself: derived defaults pass their own validators, every answer check
stops Copier cleanly, and messages and help texts are readable in an 80-column terminal."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import copier
import jinja2
import pytest
import yaml
from copier.errors import UserMessageError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from answer_cases import BAD_ANSWERS
from conftest import REPO_ROOT, load_answers, load_extension

QUESTIONS: dict[str, dict[str, Any]] = {
    name: spec
    for name, spec in yaml.safe_load((REPO_ROOT / "copier.yml").read_text()).items()
    if not name.startswith("_")
}
VALIDATED = sorted(name for name, spec in QUESTIONS.items() if "validator" in spec)
CHOICES = sorted(name for name, spec in QUESTIONS.items() if "choices" in spec)
EVERY_QUESTION_SHOWN = {
    "ci_platform": "azure_devops",
    "approval_manual_validation": True,
    "tf_enabled": True,
    "deploy_targets": ["aml_managed", "kubernetes", "app_service", "docker"],
}
TERMINAL = 80
PREFIX = "Validation error for question '{}': "
"""What Copier puts before every validation message (one toolbar line, cut at the width)."""
MIN_RULE_ROOM = 28
HELP_WIDTH = 76
"""Copier's prompt line starts with a two-column microphone emoji and a space."""


def jinja() -> jinja2.Environment:
    """A Jinja environment with the template's extensions, strict like Copier's."""
    naming, answers = load_extension("naming"), load_extension("answers")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    naming.AzureNaming(env)
    answers.AnswerChecks(env)
    return env


ENV = jinja()


@functools.cache
def compiled(text: str) -> jinja2.Template:
    return ENV.from_string(text)


def render(text: Any, context: dict[str, Any]) -> Any:
    return compiled(text).render(context) if isinstance(text, str) else text


def with_defaults(given: dict[str, Any]) -> dict[str, Any]:
    """The answers of `copier copy --defaults --data ...`: given ones, the rest derived."""
    context: dict[str, Any] = {}
    for name, spec in QUESTIONS.items():
        if name in given:
            context[name] = given[name]
            continue
        value = render(spec.get("default"), context)
        if spec.get("type") == "yaml" and isinstance(value, str):
            value = yaml.safe_load(value)
        if spec.get("type") == "int":
            value = int(value)
        context[name] = value
    return context


def validation_errors(context: dict[str, Any]) -> dict[str, str]:
    """Every validated question's message for these answers ('' when valid)."""
    return {name: render(QUESTIONS[name]["validator"], context).strip() for name in VALIDATED}


def test_every_checked_question_has_a_bad_answer_case() -> None:
    """A question whose check no case drives could print a traceback unnoticed."""
    covered = {question for _, question, _ in BAD_ANSWERS.values()}
    assert set(VALIDATED) | set(CHOICES) <= covered


@pytest.mark.parametrize("name", sorted(set(VALIDATED) | set(CHOICES)))
def test_checked_questions_refuse_bad_data_in_their_when_guard(name: str) -> None:
    """`when` runs before Copier's own check of --data answers; only it can exit cleanly."""
    assert f"refuse_answer('{name}')" in QUESTIONS[name].get("when", ""), (
        f"{name}: add `... | refuse_answer('{name}')` to its when (see copier.yml's header)"
    )


@pytest.mark.parametrize("name", sorted(VALIDATED))
def test_the_when_guard_checks_what_the_validator_checks(name: str) -> None:
    """A guard that drifts from its validator would accept data the prompt refuses."""
    check = re.search(r"\{\{ *(.*?) *\}\}", QUESTIONS[name]["validator"])
    assert check, name
    assert check.group(1).removeprefix(f"{name} | ") in QUESTIONS[name]["when"]


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_when_guard_refuses_each_bad_answer_in_one_line(case: str) -> None:
    """The guard Copier evaluates before its own (traceback-printing) check of --data."""
    given, question, fragment = BAD_ANSWERS[case]
    context = with_defaults({"project_name": "Contoso NER", **EVERY_QUESTION_SHOWN, **given})
    with pytest.raises(UserMessageError) as raised:
        render(QUESTIONS[question]["when"], context)
    message = str(raised.value)
    assert message.startswith(PREFIX.format(question)), message
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize("name", CHOICES)
def test_the_when_guard_lists_the_questions_choices(name: str) -> None:
    """A choice added to a question but not to its guard would refuse a valid --data answer."""
    choices = QUESTIONS[name]["choices"]
    values = list(choices.values()) if isinstance(choices, dict) else list(choices)
    listed = re.search(r"one_of_error\((\[.*?\])\)", QUESTIONS[name]["when"])
    assert listed, name
    assert yaml.safe_load(listed.group(1)) == values


def test_default_answers_pass_every_validator() -> None:
    context = with_defaults({"project_name": "Contoso NER", **EVERY_QUESTION_SHOWN})
    assert {name: error for name, error in validation_errors(context).items() if error} == {}


VALID_PROJECT_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9 _-]{0,59}", fullmatch=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALID_PROJECT_NAMES)
def test_derived_defaults_pass_their_validators_for_any_valid_name(name: str) -> None:
    """Every default computed from the project name satisfies its own validator."""
    context = with_defaults({"project_name": name, **EVERY_QUESTION_SHOWN})
    if validation_errors(context)["project_name"]:
        return  # not a valid name (e.g. only spaces after the first letter are trimmed)
    errors = {question: error for question, error in validation_errors(context).items() if error}
    assert errors == {}, f"project_name {name!r}"
    slug = context["project_slug"]
    assert len(slug) <= 24 and not slug.endswith("-")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Northwind Insurance Claims Bot", "northwind-insurance"),
        ("Fabrikam Claims Assistant", "fabrikam-claims"),
        ("AI", "ai-llm"),
        ("Pneumonoultramicroscopicsilicovolcanoconiosis Bot", "pneumonoultramicroscopic"),
    ],
)
def test_long_and_short_names_render_with_defaults(name: str, slug: str, tmp_path: Path) -> None:
    """These names used to end in a traceback before the slug question was even shown."""
    destination = tmp_path / "project"
    copier.run_copy(
        str(REPO_ROOT),
        destination,
        data={"project_name": name},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    answers = load_answers(destination)
    assert answers["project_slug"] == slug
    assert f'name = "{slug}"' in (destination / "pyproject.toml").read_text()


def test_manual_validation_with_the_default_notify_list_renders(tmp_path: Path) -> None:
    """Answering yes to ManualValidation used to fail on the notify question's own default."""
    destination = tmp_path / "project"
    copier.run_copy(
        str(REPO_ROOT),
        destination,
        data={"project_name": "Contoso NER", "approval_manual_validation": True},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    cd = (destination / ".azure-pipelines" / "cd.yml").read_text()
    assert 'notifyUsers: "[$(System.TeamProject)]\\\\Project Administrators"' in cd


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_message_starts_with_the_rule_within_80_columns(case: str) -> None:
    """Copier shows the message on one toolbar line, cut at the terminal's width."""
    given, question, fragment = BAD_ANSWERS[case]
    if question not in VALIDATED or "is not one" in fragment:
        pytest.skip("a choice: the prompt offers only valid ones")
    message = validation_errors(with_defaults({"project_name": "Contoso NER", **given}))[question]
    assert message
    rule = re.split(r";| \(", message, maxsplit=1)[0]
    # The ADO prefix questions' names leave 17 columns: there the rule may run to 28.
    room = max(TERMINAL - len(PREFIX.format(question)), MIN_RULE_ROOM)
    assert len(rule) <= room, f"{len(rule)} > {room} columns: {PREFIX.format(question)}{rule}"


CHOICE_LABEL_WIDTH = 75
"""A select or checkbox line starts with a pointer and a tick box (five columns)."""


@pytest.mark.parametrize("name", [n for n in CHOICES if isinstance(QUESTIONS[n]["choices"], dict)])
def test_choice_labels_fit_an_80_column_terminal(name: str) -> None:
    """Two sample labels used to be cut ("...calling a Prompty promp")."""
    for label in QUESTIONS[name]["choices"]:
        assert len(label) <= CHOICE_LABEL_WIDTH, f"{name}: {len(label)} columns: {label!r}"


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_help_text_fits_an_80_column_terminal(name: str) -> None:
    help_text = QUESTIONS[name]["help"]
    for line in help_text.splitlines():
        assert len(line) <= HELP_WIDTH, f"{name}: {len(line)} columns: {line!r}"


@pytest.mark.parametrize(
    "name", [n for n in VALIDATED if "number_error(" in QUESTIONS[n]["validator"]]
)
def test_number_questions_say_the_range_their_validator_enforces(name: str) -> None:
    """The instance count's help once said "1 or more" while 1-20 was enforced."""
    low, high = re.findall(r"number_error\((\d+), (\d+)", QUESTIONS[name]["validator"])[0]
    assert f"{low}-{high}" in QUESTIONS[name]["help"]
