"""Managed by the LLMOps template. Plan stage: which runs an experiment makes.

The plan is computed from the config and the flows' signatures alone, so
``llmops validate`` can check it (unknown variants, a grid above the cap) and show
its size before any LLM call.

Variant selection (``variants`` in experiment.yaml, DAG flows with ``node_variants``):

* ``defaults``: one run per dataset, every node at its default variant;
* ``one_factor``: the defaults run, plus one run per non-default variant of each node
  with the other nodes at their default (the same combination is never run twice);
* ``grid``: every combination of every node's variants (the cartesian product),
  refused above ``runtime.max_variants``;
* a list: exactly these runs; an item is ``node.variant`` or ``{node: variant, ...}``.

Many-to-many evaluation: every standard dataset runs once per variant; every
evaluator dataset binds all standard runs of the dataset it names (or references).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmops.config import Evaluator, EvaluatorDataset, ExperimentConfig
from llmops.engine.base import FlowSignature, NodeVariants

DEFAULT_LABEL = "default"


@dataclass(frozen=True)
class Variant:
    """One combination of node variants; ``overrides`` lists the non-default nodes only."""

    label: str
    overrides: Mapping[str, str] = field(default_factory=dict)
    combination: Mapping[str, str] = field(default_factory=dict)
    """Every variant node -> the variant it runs (defaults included), for reports."""

    @property
    def slug(self) -> str:
        """The label as a run-name part: ``classify.variant_1`` -> ``classify-variant_1``."""
        return self.label.replace(".", "-").replace("+", "_")

    @property
    def name_parts(self) -> list[str]:
        """What the variant adds to run names: nothing for the defaults."""
        return [] if not self.overrides else [self.slug]


class VariantError(ValueError):
    """A variant selection that cannot be planned; the message says how to fix it."""


def select_variants(
    mode: str | list[str | dict[str, str]],
    nodes: Mapping[str, NodeVariants],
    max_variants: int,
) -> list[Variant]:
    """The variant combinations to run, in a stable order, without duplicates."""
    defaults = {node: spec.default for node, spec in nodes.items()}
    if isinstance(mode, list):
        wanted = [_explicit(item, nodes) for item in mode]
    elif mode == "defaults" or not nodes:
        if mode not in ("defaults", "one_factor", "grid"):
            raise VariantError(f"unknown variants mode '{mode}'")
        wanted = [{}]
    elif mode == "one_factor":
        wanted = [{}] + [
            {node: variant}
            for node, spec in nodes.items()
            for variant in spec.ids
            if variant != spec.default
        ]
    elif mode == "grid":
        names = list(nodes)
        count = 1
        for spec in nodes.values():
            count *= len(spec.ids)
        if count > max_variants:
            sizes = " x ".join(f"{len(nodes[name].ids)} ({name})" for name in names)
            raise VariantError(
                f"grid makes {count} variant combinations ({sizes}), more than "
                f"runtime.max_variants = {max_variants}: raise runtime.max_variants, use "
                "one_factor, or list the combinations you want"
            )
        wanted = [
            dict(zip(names, choice, strict=True))
            for choice in itertools.product(*(nodes[name].ids for name in names))
        ]
    else:
        raise VariantError(f"unknown variants mode '{mode}'")
    result: list[Variant] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for choice in wanted:
        combination = {**defaults, **choice}
        key = tuple(sorted(combination.items()))
        if key in seen:
            continue
        seen.add(key)
        overrides = {node: v for node, v in combination.items() if v != defaults[node]}
        label = "+".join(f"{node}.{v}" for node, v in overrides.items()) or DEFAULT_LABEL
        result.append(Variant(label=label, overrides=overrides, combination=combination))
    if len(result) > max_variants:
        raise VariantError(
            f"{len(result)} variant combinations, more than runtime.max_variants = "
            f"{max_variants}: raise runtime.max_variants or select fewer variants"
        )
    return result


def _explicit(item: str | dict[str, str], nodes: Mapping[str, NodeVariants]) -> dict[str, str]:
    pairs = item.items() if isinstance(item, dict) else [tuple(item.split(".", 1))]
    choice: dict[str, str] = {}
    for node, variant in pairs:
        spec = nodes.get(node)
        if spec is None:
            known = ", ".join(nodes) or "none: the flow has no node_variants"
            raise VariantError(f"'{node}.{variant}': no node '{node}' has variants ({known})")
        if variant not in spec.ids:
            raise VariantError(
                f"'{node}.{variant}': node '{node}' has no variant '{variant}' "
                f"(variants: {', '.join(spec.ids)})"
            )
        choice[node] = variant
    return choice


@dataclass(frozen=True)
class StandardStep:
    """The standard flow over one dataset with one variant combination."""

    dataset: str
    variant: Variant

    def run_name(self, experiment: str, stamp: str) -> str:
        """``<experiment>[_<variant>]_<dataset>_<stamp>`` (no variant part for the defaults)."""
        return "_".join([experiment, *self.variant.name_parts, self.dataset, stamp])


@dataclass(frozen=True)
class EvaluationStep:
    """One evaluator over one of its datasets, bound to one standard step."""

    evaluator: Evaluator
    item: EvaluatorDataset
    standard: StandardStep

    def run_name(self, experiment: str, stamp: str) -> str:
        """``<experiment>_<evaluator>[_<variant>]_<evaluator dataset>_<stamp>``."""
        parts = [experiment, self.evaluator.name, *self.standard.variant.name_parts]
        return "_".join([*parts, self.item.name, stamp])


@dataclass(frozen=True)
class Plan:
    """Every run of an experiment: standard runs first, then evaluation runs."""

    variants: list[Variant]
    standard: list[StandardStep]
    evaluations: list[EvaluationStep]


def make_plan(config: ExperimentConfig, flow: FlowSignature) -> Plan:
    """Plan the runs of an experiment whose config has already been validated."""
    variants = select_variants(config.variants, flow.variants, config.runtime.max_variants)
    standard = [
        StandardStep(dataset=dataset.name, variant=variant)
        for dataset in config.datasets
        for variant in variants
    ]
    evaluations = [
        EvaluationStep(evaluator=evaluator, item=item, standard=step)
        for evaluator in config.evaluators
        for item in evaluator.datasets
        for step in standard
        if step.dataset == item.standard_dataset
    ]
    return Plan(variants=variants, standard=standard, evaluations=evaluations)
