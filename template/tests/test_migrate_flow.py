"""Managed by the LLMOps template. ``llmops migrate-flow``: prompt flow to Agent Framework.

The conversion tests need neither engine: they build a use case file by file (a DAG
flow with python nodes, a prompt node, an LLM node with variants, an LLM node with an
activate condition, the embedding tool, and a python node that calls a Prompty and
prompt flow's embedding function with its connection; an evaluation flow whose
aggregation only calls ``log_metric``), migrate it in a throwaway git repository and
read what was written.

The run tests prove the migration keeps behaviour. Prompt flow and Agent Framework
cannot share a virtual environment, so each engine's test checks the same recorded
figures: ``*_before_migration`` runs the prompt flow use case (marked ``promptflow``, and
``e2e`` as prompt flow batches are slow), ``*_after_migration`` the migrated one (marked
``agent_framework``). Each is skipped, with the reason, where its engine is missing; the
two together show equal metrics and outputs.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import write

from llmops import cli
from llmops.migrate_code import rewrite
from llmops.paths import SAMPLES_DIR

FLOW = """\
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
# Support routing: label a message, answer it unless it must be escalated.
inputs:
  message:
    type: string
  customer:
    type: string
    default: there
outputs:
  label:
    type: string
    reference: ${route.output.label}
  action:
    type: string
    reference: ${route.output.action}
  reply:
    type: string
    reference: ${reply.output}
  final:
    type: string
    reference: ${followup.output}
  greeting:
    type: string
    reference: ${greeting.output}
  vector_size:
    type: int
    reference: ${measure.output}
  summary:
    type: string
    reference: ${digest.output.summary}
  dimensions:
    type: int
    reference: ${digest.output.dimensions}
nodes:
  - name: clean
    type: python
    source:
      type: code
      path: clean.py
    inputs:
      text: ${inputs.message}
  - name: classify
    use_variants: true
  - name: route
    type: python
    source:
      type: code
      path: route.py
    inputs:
      answer: ${classify.output}
      urgent: ${clean.output.urgent}
  - name: reply
    type: llm
    source:
      type: code
      path: reply.jinja2
    inputs:
      deployment_name: gpt-4o-mini
      max_tokens: 20
      customer: ${inputs.customer}
      message: ${clean.output.text}
    connection: aoai
    api: chat
    activate:
      when: ${route.output.action}
      is: answer
  - name: followup
    type: python
    source:
      type: code
      path: followup.py
    inputs:
      reply: ${reply.output}
  - name: greeting
    type: prompt
    source:
      type: code
      path: greeting.jinja2
    inputs:
      customer: ${inputs.customer}
  - name: embed
    type: python
    source:
      type: package
      tool: promptflow.tools.embedding.embedding
    inputs:
      connection: aoai
      deployment_name: text-embedding-3-small
      input: ${clean.output.text}
  - name: measure
    type: python
    source:
      type: code
      path: measure.py
    inputs:
      vector: ${embed.output}
  - name: digest
    type: python
    source:
      type: code
      path: digest.py
    inputs:
      text: ${clean.output.text}
      connection: aoai
node_variants:
  classify:
    default_variant_id: wordy
    variants:
      wordy:
        node:
          type: llm
          source:
            type: code
            path: classify.jinja2
          inputs:
            deployment_name: gpt-4o-mini
            temperature: 0
            max_tokens: 5
            message: ${clean.output.text}
          connection: aoai
          api: chat
      terse:
        node:
          type: llm
          source:
            type: code
            path: classify_terse.jinja2
          inputs:
            deployment_name: gpt-4o
            temperature: 0.3
            max_tokens: 5
            message: ${clean.output.text}
          connection: aoai
          api: chat
environment:
  python_requirements_txt: requirements.txt
"""

CLEAN = """\
from promptflow.core import tool


@tool
def clean_text(text: str) -> dict:
    return {"text": " ".join(text.split()).lower(), "urgent": "!" in text}
"""

ROUTE = """\
from promptflow import tool
from labels import normalise


@tool()
def route(answer: str, urgent: bool = False) -> dict:
    label = normalise(answer)
    escalate = urgent or label == "outage"
    return {"label": label, "action": "escalate" if escalate else "answer"}
"""

LABELS = """\
LABELS = ("billing", "outage", "other")


def normalise(answer: str) -> str:
    word = answer.strip().strip(".").lower()
    return word if word in LABELS else "other"
"""

FOLLOWUP = """\
from promptflow.core import tool


@tool
async def followup(reply: str) -> str:
    return reply + " Thanks."
"""

MEASURE = """\
from promptflow.core import tool


@tool
def measure(vector: list) -> int:
    return len(vector)
"""

DIGEST = """\
\"\"\"Summarise the message with a Prompty and embed it, on the node's connection.\"\"\"

from pathlib import Path

from promptflow.connections import AzureOpenAIConnection
from promptflow.core import AzureOpenAIModelConfiguration, Prompty, tool
from promptflow.tools.embedding import embedding

PROMPT = Path(__file__).parent / "digest.prompty"


# The Prompty's deployment: the connection's own.
def configuration(connection: AzureOpenAIConnection) -> AzureOpenAIModelConfiguration:
    deployment = "gpt-4o-mini"
    return AzureOpenAIModelConfiguration.from_connection(connection, azure_deployment=deployment)


@tool
def digest(text: str, connection: AzureOpenAIConnection) -> dict:
    summarise = Prompty.load(source=PROMPT, model={"configuration": configuration(connection)})
    vector = embedding(connection, text, deployment_name="text-embedding-3-small")
    summary = summarise(text=text)
    return {"summary": summary.strip(), "dimensions": len(vector)}
"""

DIGEST_MIGRATED = """\
\"\"\"Summarise the message with a Prompty and embed it, on the node's connection.\"\"\"

from llmops.workflow import LineContext


async def digest(line: LineContext, text: str) -> dict:
    vector = (await line.embed("embed", [text]))[0]
    summary = await line.complete("digest_prompt", text=text, style="plain")
    return {"summary": summary.strip(), "dimensions": len(vector)}
"""

DIGEST_PROMPTY = """\
---
name: Digest
model:
  api: chat
  parameters:
    max_tokens: 30
inputs:
  text:
    type: string
  style:
    type: string
    default: plain
---
system:
Summarise in a {{style}} style.

user:
Digest: {{text}}
"""

PROMPTS = {
    "classify.jinja2": "# system:\nLabel the message: billing, outage or other.\n\n"
    "# user:\nMessage: {{message}}\n",
    "classify_terse.jinja2": "# system:\nLabel it.\n\n# user:\nCustomer wrote: {{message}}\n",
    "reply.jinja2": "# system:\nYou answer customers.{{signature}}\n\n"
    "# user:\nReply to {{customer}} about: {{message}}\n",
    "greeting.jinja2": "Hello {{customer}}!\n{% if customer == 'Ann' %}\nWelcome back.\n"
    "{% endif %}\n",
}

EVALUATION = """\
inputs:
  label:
    type: string
  expected:
    type: string
outputs:
  correct:
    type: int
    reference: ${score.output.correct}
nodes:
  - name: score
    type: python
    source:
      type: code
      path: score.py
    inputs:
      label: ${inputs.label}
      expected: ${inputs.expected}
  - name: summary
    type: python
    source:
      type: code
      path: summary.py
    inputs:
      scores: ${score.output}
    aggregation: true
"""

SCORE = """\
from promptflow.core import tool


@tool
def score(label: str, expected: str) -> dict:
    return {"correct": int(label == expected)}
"""

SUMMARY = """\
from promptflow.core import log_metric, tool


@tool
def summarise(scores: list) -> None:
    \"\"\"Log the accuracy.\"\"\"
    total = len(scores)
    log_metric(key="accuracy", value=round(sum(s["correct"] for s in scores) / total, 4))
    log_metric("lines", total)
"""

SUMMARY_MIGRATED = """\
def summarise(scores: list) -> None:
    \"\"\"Log the accuracy.\"\"\"
    metrics = {}
    total = len(scores)
    metrics["accuracy"] = round(sum(s["correct"] for s in scores) / total, 4)
    metrics["lines"] = total
    return metrics
"""

EXPERIMENT = """\
name: support
flow: flows/standard
connections:
  - aoai
variants: one_factor
runtime:
  workers: 2
datasets:
  - name: tickets
    source: data/tickets.jsonl
    mappings:
      message: ${data.message}
      customer: ${data.customer}
evaluators:
  - name: routing
    flow: flows/evaluation
    datasets:
      - name: tickets
        mappings:
          label: ${run.outputs.label}
          expected: ${data.expected}
gates:
  routing.accuracy: ">= 0.6"
"""

TICKETS = """\
{"message": "  My invoice is WRONG ", "customer": "there", "expected": "billing"}
{"message": "The site is down!", "customer": "Bo", "expected": "outage"}
{"message": "hello", "customer": "Ann", "expected": "other"}
"""

FIXTURES = """\
{"match": "Message: my invoice is wrong", "reply": "Billing"}
{"match": "Customer wrote: my invoice is wrong", "reply": "billing."}
{"match": "Message: the site is down", "reply": "outage"}
{"match": "Customer wrote: the site is down", "reply": "Other"}
{"match": "Reply to", "reply": "We are on it"}
{"match": "Digest: ", "reply": " In short. "}
"""

EXPECTED_METRICS = {
    ("default", "accuracy"): 1.0,
    ("default", "lines"): 3.0,
    ("classify.terse", "accuracy"): 0.6667,
    ("classify.terse", "lines"): 3.0,
}
"""What both engines give for the literal use case (the terse variant mislabels line 1)."""
EXPECTED_LINES = [
    {
        "label": "billing",
        "action": "answer",
        "reply": "We are on it",
        "final": "We are on it Thanks.",
        "greeting": "Hello there!\n",
        "vector_size": 256,
        "summary": "In short.",
        "dimensions": 256,
    },
    {
        "label": "outage",
        "action": "escalate",
        "reply": None,
        "final": None,
        "greeting": "Hello Bo!\n",
        "vector_size": 256,
        "summary": "In short.",
        "dimensions": 256,
    },
    {
        "label": "other",
        "action": "answer",
        "reply": "We are on it",
        "final": "We are on it Thanks.",
        "greeting": "Hello Ann!\nWelcome back.\n",
        "vector_size": 256,
        "summary": "In short.",
        "dimensions": 256,
    },
]

SAMPLE_METRICS = {
    "docs_chat": {
        ("default", "questions", "answer_keyword_recall"): 1.0,
        ("default", "questions", "retrieval_hit_rate"): 1.0,
    },
    "named_entity_recognition": {
        ("default", "ner_train", "exact_match_rate"): 0.75,
        ("default", "ner_train", "f1"): 0.9278,
    },
    "web_classification": {
        ("default", "page_labels", "accuracy"): 0.9167,
        ("default", "page_labels", "valid_label_rate"): 1.0,
        ("classify.variant_1", "page_labels", "accuracy"): 0.8333,
        ("classify.variant_1", "page_labels", "valid_label_rate"): 1.0,
        ("default", "news", "accuracy"): 0.8333,
        ("default", "news", "valid_label_rate"): 1.0,
        ("classify.variant_1", "news", "accuracy"): 0.8333,
        ("classify.variant_1", "news", "valid_label_rate"): 1.0,
    },
    "ticket_triage": {
        ("default", "tickets", "keyword_recall"): 0.875,
        ("default", "tickets", "priority_accuracy"): 0.875,
    },
}
"""`llmops experiment --offline` of the prompt flow samples (prompt flow 1.18.5): the
migrated samples must give exactly these (their Agent Framework twins do too)."""
ISOLATE = ("PF_HOME_DIRECTORY", "PYTHON_KEYRING_BACKEND", "KEYRING_PROPERTY_FILE_PATH", "ENV_NAME")


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return result.stdout


def commit(root: Path) -> None:
    if not (root / ".git").is_dir():
        git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x")


@pytest.fixture
def support(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``use_cases/support`` (prompt flow), committed in a git repository of its own."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(project / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    shutil.rmtree(project / "use_cases" / "demo")
    case = project / "use_cases" / "support"
    standard = case / "flows" / "standard"
    write(case / "experiment.yaml", EXPERIMENT)
    write(case / "data" / "tickets.jsonl", TICKETS)
    write(case / "mock" / "responses.jsonl", FIXTURES)
    write(standard / "flow.dag.yaml", FLOW)
    for name, text in {
        "clean.py": CLEAN,
        "route.py": ROUTE,
        "labels.py": LABELS,
        "followup.py": FOLLOWUP,
        "measure.py": MEASURE,
        "digest.py": DIGEST,
        "digest.prompty": DIGEST_PROMPTY,
        **PROMPTS,
    }.items():
        write(standard / name, text)
    write(standard / "requirements.txt", "promptflow-tools>=1.6\n")
    write(standard / ".promptflow" / "flow.tools.json", "{}\n")
    write(case / "flows" / "evaluation" / "flow.dag.yaml", EVALUATION)
    write(case / "flows" / "evaluation" / "score.py", SCORE)
    write(case / "flows" / "evaluation" / "summary.py", SUMMARY)
    write(project / ".gitignore", ".llmops/\nreports/\n__pycache__/\n.promptflow/\n")
    commit(project)
    return case


def migrate(*args: str) -> int:
    return cli.main(["migrate-flow", *args])


def changed(root: Path) -> str:
    return git(root, "status", "--porcelain", "--untracked-files=all")


# --- conversion (no engine needed) ---------------------------------------------------


def test_the_flow_becomes_a_workflow_manifest_and_code(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate("support") == 0, capsys.readouterr().err
    output = capsys.readouterr().out
    standard = support / "flows" / "standard"
    manifest = yaml.safe_load((standard / "workflow.yaml").read_text())
    assert manifest["workflow"] == "workflow.py:build_workflow"
    assert manifest["inputs"] == {
        "message": {"type": "string"},
        "customer": {"type": "string", "default": "there"},
    }
    assert list(manifest["outputs"]) == [
        "label",
        "action",
        "reply",
        "final",
        "greeting",
        "vector_size",
        "summary",
        "dimensions",
    ]
    classify = manifest["nodes"]["classify"]
    assert classify["connection"] == "aoai" and classify["default_variant"] == "wordy"
    assert classify["options"] == {"max_tokens": 5}
    assert classify["variants"] == {
        "wordy": {"prompt": "classify.jinja2", "options": {"temperature": 0}},
        "terse": {
            "prompt": "classify_terse.jinja2",
            "deployment": "gpt-4o",
            "options": {"temperature": 0.3},
        },
    }
    assert manifest["nodes"]["embed"] == {
        "kind": "embedding",
        "connection": "aoai",
        "deployment": "text-embedding-3-small",
    }
    assert manifest["nodes"]["reply"] == {
        "connection": "aoai",
        "prompt": "reply.jinja2",
        "options": {"max_tokens": 20},
    }
    assert manifest["nodes"]["digest_prompt"] == {"connection": "aoai", "prompt": "digest.prompty"}
    assert len(manifest["nodes"]) == 4  # digest.py's embeddings reuse the `embed` node
    code = (standard / "workflow.py").read_text()
    assert "from .route import route" in code and "from .clean import clean_text" in code
    assert 'if state["route"]["action"] == "answer":' in code
    assert 'if "reply" in state:' in code  # followup: bypassed when reply was
    assert '"reply": state.get("reply")' in code
    assert 'signature=""' in code  # prompt flow rendered the unset variable empty
    assert 'await followup(reply=state["reply"])' in code
    assert 'state["embed"] = (await line.embed("embed", [state["clean"]["text"]]))[0]' in code
    assert 'state["digest"] = await digest(line, text=state["clean"]["text"])' in code
    assert (standard / "digest.py").read_text() == DIGEST_MIGRATED
    assert "promptflow" not in "".join(p.read_text() for p in standard.glob("*.py"))
    assert (standard / "route.py").read_text().startswith("from .labels import normalise\n\n\n")
    assert (standard / "clean.py").read_text() == CLEAN.replace(
        "from promptflow.core import tool\n\n\n@tool\n", ""
    )
    for gone in ("flow.dag.yaml", "requirements.txt", ".promptflow"):
        assert not (standard / gone).exists()
    assert "reply.jinja2: uses signature, which node 'reply' does not give" in output
    assert "classify: llm node with variants wordy (default), terse" in output
    assert "digest.py:digest: now async, takes `line` instead of `connection`" in output
    assert "digest.py:20: Prompty digest.prompty -> workflow.yaml nodes.digest_prompt" in output
    assert "digest.py:21: embedding(...) -> workflow.yaml nodes.embed (aoai" in output


def test_the_evaluation_flow_becomes_an_evaluator_with_the_logged_metrics(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate("support") == 0, capsys.readouterr().err
    evaluation = support / "flows" / "evaluation"
    assert yaml.safe_load((evaluation / "evaluator.yaml").read_text()) == {
        "function": "score.py:score",
        "inputs": {"label": {"type": "string"}, "expected": {"type": "string"}},
        "outputs": ["correct"],
        "aggregate": {"function": "summary.py:summarise", "metrics": ["accuracy", "lines"]},
    }
    assert (evaluation / "summary.py").read_text() == SUMMARY_MIGRATED
    assert not (evaluation / "flow.dag.yaml").exists()


def test_log_metric_calls_are_dropped_when_the_function_returns_them(tmp_path: Path) -> None:
    source = write(
        tmp_path / "aggregate.py",
        """\
        from promptflow.core import log_metric, tool


        @tool
        def aggregate(rows: list) -> dict:
            rate = sum(rows) / len(rows)
            log_metric("rate", rate)
            return {"rate": rate}
        """,
    )
    text, changes = rewrite(source, "aggregate.py", frozenset({"aggregate"}), "aggregate")
    assert text == (
        "def aggregate(rows: list) -> dict:\n"
        "    rate = sum(rows) / len(rows)\n"
        '    return {"rate": rate}\n'
    )
    assert "log_metric calls dropped (aggregate already returns them)" in changes


def test_a_dry_run_prints_the_plan_and_writes_nothing(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate("support", "--dry-run") == 0
    output = capsys.readouterr().out
    assert "flows/standard: flow.dag.yaml (standard flow) -> workflow.yaml, workflow.py" in output
    assert "summary: aggregation node -> aggregate: summary.py:summarise" in output
    assert changed(support.parent.parent) == ""


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (
            "    type: prompt\n    source:\n      type: code\n      path: greeting.jinja2",
            "    type: custom_llm\n    source:\n      type: code\n      path: greeting.jinja2",
            "node 'greeting': type 'custom_llm' has no Agent Framework counterpart",
        ),
        (
            "    type: prompt\n    source:\n      type: code\n      path: greeting.jinja2",
            "    type: python\n    source:\n      type: package\n"
            "      tool: promptflow.tools.serpapi.SerpAPI.search",
            "node 'greeting': uses the package tool `promptflow.tools.serpapi.SerpAPI.search`",
        ),
        (
            "    connection: aoai\n    api: chat\n    activate:",
            "    connection: my_search\n    api: chat\n    activate:",
            "node 'reply': connection 'my_search' is not an azure_openai or openai connection",
        ),
    ],
    ids=["unknown-type", "package-tool", "custom-connection"],
)
def test_a_node_that_does_not_convert_is_refused_and_nothing_is_written(
    support: Path, capsys: pytest.CaptureFixture[str], before: str, after: str, message: str
) -> None:
    flow = support / "flows" / "standard" / "flow.dag.yaml"
    assert before in flow.read_text()
    flow.write_text(flow.read_text().replace(before, after))
    commit(support.parent.parent)
    assert migrate("support") == 2
    assert f"error: use_cases/support/flows/standard/flow.dag.yaml: {message}" in (
        capsys.readouterr().err
    )
    assert changed(support.parent.parent) == ""


def test_code_that_needs_prompt_flow_is_refused_naming_file_and_line(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    route = support / "flows" / "standard" / "route.py"
    route.write_text("from promptflow.core import Prompty\n" + ROUTE)
    commit(support.parent.parent)
    assert migrate("support") == 2
    error = capsys.readouterr().err
    assert "use_cases/support/flows/standard/route.py:1: imports Prompty from promptflow.core" in (
        error
    )
    assert "load it (`p = Prompty.load(source=..., model=...)`) in the function the flow" in error
    assert changed(support.parent.parent) == ""


def test_a_dirty_tree_is_refused(support: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (support / "data" / "tickets.jsonl").write_text(TICKETS + TICKETS)
    assert migrate("support") == 2
    assert "uncommitted changes (use_cases/support/data/tickets.jsonl)" in capsys.readouterr().err
    assert (support / "flows" / "standard" / "flow.dag.yaml").is_file()
    assert not (support / "flows" / "standard" / "workflow.yaml").exists()


def test_a_project_outside_git_is_refused(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(support.parent.parent / ".git")
    assert migrate("support") == 2
    assert "is not in a git repository" in capsys.readouterr().err
    assert not (support / "flows" / "standard" / "workflow.yaml").exists()


def test_all_migrates_each_use_case_and_reports_each(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.parent.parent
    broken = shutil.copytree(support, root / "use_cases" / "broken")
    (broken / "experiment.yaml").write_text(EXPERIMENT.replace("name: support", "name: broken"))
    (broken / "flows" / "standard" / "labels.py").write_text("import promptflow\n" + LABELS)
    commit(root)
    assert migrate("--all") == 2
    output = capsys.readouterr()
    assert "use_cases/broken/flows/standard/labels.py:1: imports promptflow" in output.err
    assert "[migrate-flow] 2 use cases: broken ERROR, support ok" in output.err
    assert (support / "flows" / "standard" / "workflow.yaml").is_file()
    assert (broken / "flows" / "standard" / "flow.dag.yaml").is_file()
    assert migrate("--all", "--dry-run") == 2  # support is done; broken still refused
    assert "support" not in capsys.readouterr().out


def test_a_flex_flow_becomes_one_executor(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standard = support / "flows" / "standard"
    shutil.rmtree(standard)
    write(
        standard / "flow.flex.yaml",
        "# Echo the message, shouting.\nentry: shout:shout\n"
        "environment:\n  python_requirements_txt: requirements.txt\n",
    )
    write(
        standard / "shout.py",
        """\
        from typing import TypedDict

        from helpers import louder


        class Shouted(TypedDict):
            label: str


        def shout(message: str, customer: str = "there") -> Shouted:
            return Shouted(label=louder(message))
        """,
    )
    write(standard / "helpers.py", "def louder(text):\n    return text.upper()\n")
    write(standard / "requirements.txt", "promptflow-core\nrequests>=2\n")
    commit(support.parent.parent)
    assert migrate("support") == 0, capsys.readouterr().err
    output = capsys.readouterr().out
    manifest = yaml.safe_load((standard / "workflow.yaml").read_text())
    assert manifest["inputs"] == {
        "message": {"type": "string"},
        "customer": {"type": "string", "default": "there"},
    }
    assert manifest["outputs"] == {"label": ""}
    code = (standard / "workflow.py").read_text()
    assert "from .shout import shout" in code
    assert "result = await asyncio.to_thread(\n            shout,\n" in code
    assert 'message=inputs["message"],\n            customer=inputs["customer"],\n' in code
    assert "from .helpers import louder" in (standard / "shout.py").read_text()
    assert "requirements.txt also listed requests>=2" in output


JOKE = """\
from pathlib import Path

from promptflow.core import Prompty

BASE = Path(__file__).parent
joke = Prompty.load(source=BASE / "joke.prompty")


def tell(message: str, customer: str = "there") -> dict:
    return {"label": joke(topic=message).upper()}
"""

JOKE_MIGRATED = """\
from llmops.workflow import LineContext


async def tell(line: LineContext, message: str, customer: str = "there") -> dict:
    return {"label": (await line.complete("joke", topic=message)).upper()}
"""

JOKE_PROMPTY = """\
---
name: Joke
model:
  api: chat
  configuration:
    type: azure_openai
    connection: aoai
    azure_deployment: gpt-4o
  parameters:
    temperature: 0.5
---
system:
You tell short jokes.

user:
A joke about {{topic}}
"""


def _joke(support: Path, code: str = JOKE, prompty: str = JOKE_PROMPTY) -> Path:
    """The support use case with a flex flow whose entry calls a Prompty, committed."""
    standard = support / "flows" / "standard"
    shutil.rmtree(standard)
    write(
        standard / "flow.flex.yaml",
        "# Joke about the message.\nentry: joke:tell\noutputs:\n  label:\n    type: string\n",
    )
    write(standard / "joke.py", code)
    write(standard / "joke.prompty", prompty)
    commit(support.parent.parent)
    return standard


def test_a_prompty_the_entry_calls_becomes_a_node_called_through_line(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standard = _joke(support)
    assert migrate("support") == 0, capsys.readouterr().err
    output = capsys.readouterr().out
    assert (standard / "joke.py").read_text() == JOKE_MIGRATED
    manifest = yaml.safe_load((standard / "workflow.yaml").read_text())
    assert manifest["nodes"] == {
        "joke": {"connection": "aoai", "prompt": "joke.prompty", "deployment": "gpt-4o"}
    }
    assert (standard / "joke.prompty").read_text() == JOKE_PROMPTY  # its options apply as is
    code = (standard / "workflow.py").read_text()
    assert 'await tell(line, message=inputs["message"], customer=inputs["customer"])' in code
    assert "joke.py:6: Prompty joke.prompty -> workflow.yaml nodes.joke (aoai)" in output
    assert "joke.py:tell: now async, takes `line`" in output
    assert "removed: BASE, Path, Prompty" in output


JOKE_IN_A_HELPER = JOKE.replace(
    'joke = Prompty.load(source=BASE / "joke.prompty")\n\n\n',
    'def ask(topic: str) -> str:\n    joke = Prompty.load(source=BASE / "joke.prompty")\n'
    "    return joke(topic=topic)\n\n\n",
).replace("joke(topic=message).upper()", "ask(message)")


@pytest.mark.parametrize(
    ("code", "prompty", "two_connections", "message"),
    [
        (
            JOKE_IN_A_HELPER,
            JOKE_PROMPTY,
            False,
            "joke.py:7: Prompty.load is outside the function the flow calls (`tell`)",
        ),
        (
            JOKE.replace("joke(topic=message).upper()", "str(joke)"),
            JOKE_PROMPTY,
            False,
            "joke.py:10: the Prompty `joke` is used other than called",
        ),
        (
            JOKE,
            JOKE_PROMPTY.replace("temperature: 0.5", "response_format: {type: json_object}"),
            False,
            "joke.py:6: this Prompty's a json_object response_format returns a parsed dict",
        ),
        (
            JOKE,
            JOKE_PROMPTY.replace("    connection: aoai\n", ""),
            True,
            "joke.py:6: the Prompty's connection is not written in the code or the front matter",
        ),
    ],
    ids=["loaded-in-a-helper", "handed-on", "json-reply", "no-connection"],
)
def test_a_prompty_that_does_not_convert_is_refused_by_line(
    support: Path,
    capsys: pytest.CaptureFixture[str],
    code: str,
    prompty: str,
    two_connections: bool,
    message: str,
) -> None:
    if two_connections:  # nothing tells which of the project's connections the code used
        experiment = support / "experiment.yaml"
        experiment.write_text(experiment.read_text().replace("  - aoai\n", "  - aoai\n  - oai\n"))
    _joke(support, code, prompty)
    assert migrate("support") == 2
    assert f"error: use_cases/support/flows/standard/{message}" in capsys.readouterr().err
    assert changed(support.parent.parent) == ""


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (
            "    summary = summarise(text=text)\n",
            "    summary = summarise(text=text) + connection.api_base\n",
            "flow.dag.yaml: node 'digest': input 'connection' takes a prompt flow connection "
            "(AzureOpenAIConnection) and digest.py:22 uses it other than as the connection of "
            "prompt flow's embedding tool function or of a Prompty's model configuration",
        ),
        (
            'deployment_name="text-embedding-3-small")',
            "deployment_name=text)",
            "digest.py:21: embedding(...)'s deployment_name is not fixed",
        ),
    ],
    ids=["connection-used-otherwise", "deployment-not-fixed"],
)
def test_a_python_node_whose_connection_does_not_convert_is_refused(
    support: Path, capsys: pytest.CaptureFixture[str], before: str, after: str, message: str
) -> None:
    digest = support / "flows" / "standard" / "digest.py"
    assert before in digest.read_text()
    digest.write_text(digest.read_text().replace(before, after))
    commit(support.parent.parent)
    assert migrate("support") == 2
    assert f"error: use_cases/support/flows/standard/{message}" in capsys.readouterr().err
    assert changed(support.parent.parent) == ""


def test_every_shipped_sample_converts(
    project: Path, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    samples = _prompt_flow_samples()
    assert set(samples) <= set(SAMPLE_METRICS)
    root = _sample_project(project, monkeypatch, pytestconfig, samples)
    for name in samples:
        assert migrate(name) == 0, name
        for folder in (root / "use_cases" / name / "flows").iterdir():
            assert not (folder / "flow.dag.yaml").exists()
            assert not (folder / "flow.flex.yaml").exists()
            code = "".join(path.read_text() for path in folder.rglob("*.py"))
            assert "promptflow" not in code, f"{name}/{folder.name}"
        commit(root)


# --- runs: the same figures before (prompt flow) and after (Agent Framework) ----------


def experiment(root: Path, use_case: str) -> int:
    """Agent Framework runs in this process (each run has its own loop and state)."""
    return cli.main(["experiment", "--offline", "--use-case", use_case])


def prompt_flow_experiment(root: Path, use_case: str, pytestconfig: pytest.Config) -> None:
    """Prompt flow in a child process with the project's pf.yaml, as test_e2e runs it:
    its settings are process-wide and read at import time."""
    if (pytestconfig.rootpath / "pf.yaml").is_file():
        shutil.copy(pytestconfig.rootpath / "pf.yaml", root / "pf.yaml")
    env = {key: value for key, value in os.environ.items() if key not in ISOLATE}
    result = subprocess.run(
        [sys.executable, "-m", "llmops", "experiment", "--offline", "--use-case", use_case],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def metrics(root: Path, use_case: str) -> dict[tuple[str, ...], float]:
    path = root / "reports" / use_case / "metrics.csv"
    rows = csv.DictReader(path.open(encoding="utf-8"))
    return {(row["variant"], row["metric"]): float(row["value"]) for row in rows}


@pytest.mark.e2e
@pytest.mark.promptflow
def test_the_literal_flow_before_migration(support: Path, pytestconfig: pytest.Config) -> None:
    root = support.parent.parent
    prompt_flow_experiment(root, "support", pytestconfig)
    assert metrics(root, "support") == EXPECTED_METRICS
    assert _line_outputs(root, "support", "default") == EXPECTED_LINES


@pytest.mark.agent_framework
def test_the_literal_flow_after_migration(
    support: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = support.parent.parent
    assert migrate("support") == 0, capsys.readouterr().err
    assert experiment(root, "support") == 0, capsys.readouterr()
    assert metrics(root, "support") == EXPECTED_METRICS
    assert _line_outputs(root, "support", "default") == EXPECTED_LINES


@pytest.mark.e2e
@pytest.mark.promptflow
@pytest.mark.parametrize("sample", sorted(SAMPLE_METRICS))
def test_a_sample_before_migration(
    project: Path, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config, sample: str
) -> None:
    if sample not in _prompt_flow_samples():
        pytest.skip(f"the {sample} sample is not a prompt flow in this project")
    root = _sample_project(project, monkeypatch, pytestconfig, [sample])
    prompt_flow_experiment(root, sample, pytestconfig)
    assert _sample_metrics(root, sample) == SAMPLE_METRICS[sample]


@pytest.mark.agent_framework
@pytest.mark.parametrize("sample", sorted(SAMPLE_METRICS))
def test_a_sample_after_migration(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    pytestconfig: pytest.Config,
    capsys: pytest.CaptureFixture[str],
    sample: str,
) -> None:
    if sample not in _prompt_flow_samples():
        pytest.skip(f"the {sample} sample is not a prompt flow in this project")
    root = _sample_project(project, monkeypatch, pytestconfig, [sample])
    assert migrate(sample) == 0, capsys.readouterr().err
    assert experiment(root, sample) == 0, capsys.readouterr()
    assert _sample_metrics(root, sample) == SAMPLE_METRICS[sample]


def _prompt_flow_samples() -> list[str]:
    """Shipped samples whose flows are prompt flows here (the project's flow_engine)."""
    found = sorted(
        path.parent.parent.parent.name
        for pattern in ("*/flows/*/flow.dag.yaml", "*/flows/*/flow.flex.yaml")
        for path in SAMPLES_DIR.glob(pattern)
    )
    if not found:
        pytest.skip("the shipped samples are Agent Framework flows in this project")
    return list(dict.fromkeys(found))


def _sample_project(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    pytestconfig: pytest.Config,
    samples: list[str],
) -> Path:
    """``project`` with the samples as use cases and this project's connections."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(project / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    shutil.rmtree(project / "use_cases" / "demo")
    connections = pytestconfig.rootpath / "config" / "connections.yaml"
    if connections.is_file():
        shutil.copyfile(connections, project / "config" / "connections.yaml")
    for name in samples:
        assert cli.main(["new-flow", name, "--from", name]) == 0
    write(project / ".gitignore", ".llmops/\nreports/\n__pycache__/\n.promptflow/\n")
    commit(project)
    return project


def _sample_metrics(root: Path, use_case: str) -> dict[tuple[str, ...], float]:
    path = root / "reports" / use_case / "metrics.csv"
    rows = csv.DictReader(path.open(encoding="utf-8"))
    return {
        (row["variant"], row["evaluator_dataset"], row["metric"]): float(row["value"])
        for row in rows
    }


def _line_outputs(root: Path, use_case: str, variant: str) -> list[dict[str, Any]]:
    """The standard run's outputs per line, from the report's per-line CSV."""
    path = root / "reports" / use_case / f"lines_tickets__{variant}.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows.sort(key=lambda row: int(row["line_number"]))
    return [{key: _cell(row[f"outputs.{key}"]) for key in EXPECTED_LINES[0]} for row in rows]


def _cell(value: str | None) -> Any:
    """A CSV cell as the value it shows. Prompt flow's run details show a ``None`` output
    (a bypassed node's) as ``(Failed)`` (pandas ``fillna``); both mean no value."""
    if value in (None, "", "(Failed)"):
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
