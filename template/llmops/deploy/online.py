"""Managed by the LLMOps template. Safe rollout to Azure ML managed or Kubernetes endpoints.

1. Create the endpoint only when it does not exist; an existing endpoint is never
   re-created or re-submitted (that is what zeroes traffic on redeploys).
2. Give a system-assigned endpoint identity its read roles (never Owner/Contributor).
3. Create the new deployment next to the serving one and wait until it is healthy.
4. Smoke-test it directly (it has no traffic yet).
5. Shift traffic: ``traffic.new`` percent to the new deployment, the rest stays on the
   previous one (100 = full rollout; the first deployment always gets 100).
6. Smoke-test again; on failure restore the exact previous traffic split.

Invariant, checked before every traffic update: once an endpoint serves traffic, every
update keeps it at exactly 100 %; no update ever leaves it at 0 %. (A first deployment
that fails its smoke test after the shift keeps its 100 %: there is nothing to go back to.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmops.azure.az import RoleService
from llmops.azure.ml import EndpointState, MLService
from llmops.deployment_config import TrafficSplit
from llmops.errors import LLMOpsError
from llmops.smoke import SmokeResult

Echo = Callable[[str], None]
Smoke = Callable[[str], SmokeResult]
"""Smoke-test one deployment of the endpoint by name."""


@dataclass
class OnlinePlan:
    """Everything one online rollout needs, built and validated before any Azure call."""

    target: str
    endpoint_name: str
    endpoint: Any
    """The endpoint entity, used only when the endpoint does not exist yet."""
    deployment_name: str
    deployment: Any
    traffic: TrafficSplit
    roles: list[tuple[str, str]] = field(default_factory=list)
    """``(role, scope)`` for a system-assigned identity; empty for a user-assigned one."""
    delete_idle: bool = True


@dataclass
class RolloutResult:
    """How a rollout ended; ``traffic`` is the endpoint's split afterwards."""

    ok: bool
    traffic: dict[str, int]
    message: str


class TrafficInvariantError(LLMOpsError):
    """A traffic update that would leave a serving endpoint without 100 %."""


def plan_traffic(before: dict[str, int], new: str, split: TrafficSplit) -> dict[str, int]:
    """The split after a rollout: ``split.new`` to ``new``, the rest to the previous one.

    The previous deployment is the one with the most traffic (other than ``new``);
    every other deployment that served traffic goes to 0.
    """
    serving = {name: share for name, share in before.items() if share > 0 and name != new}
    if not serving:
        return {new: 100}
    previous = max(serving, key=lambda name: (serving[name], name))
    after = dict.fromkeys(serving, 0)
    after[previous] = split.previous
    after[new] = split.new
    return after


def check_traffic(before: dict[str, int], after: dict[str, int]) -> None:
    """Refuse any split that does not add up, or that takes a serving endpoint to 0 %."""
    if any(not 0 <= share <= 100 for share in after.values()):
        raise TrafficInvariantError(f"traffic shares must be 0-100 %: {after}")
    if sum(before.values()) > 0 and sum(after.values()) != 100:
        raise TrafficInvariantError(
            f"refusing traffic update {after}: the endpoint serves traffic "
            f"({before}) and must keep 100 %"
        )
    if sum(after.values()) not in (0, 100):
        raise TrafficInvariantError(f"traffic must add up to 100 % (got {after})")


def shown(traffic: dict[str, int]) -> str:
    """``rev-a 80 %, rev-b 20 %`` (or ``no traffic``)."""
    parts = [f"{name} {share} %" for name, share in sorted(traffic.items()) if share]
    return ", ".join(parts) or "no traffic"


def _set_traffic(
    ml: MLService, endpoint: str, before: dict[str, int], after: dict[str, int], echo: Echo
) -> EndpointState:
    check_traffic(before, after)
    echo(f"[deploy] {endpoint}: traffic {shown(before)} -> {shown(after)}")
    return ml.set_traffic(endpoint, after)


def rollout(
    ml: MLService, roles: RoleService, plan: OnlinePlan, smoke: Smoke, echo: Echo = print
) -> RolloutResult:
    """Run the six steps; any failure leaves (or puts) the previous split in place."""
    name = plan.endpoint_name
    endpoint = ml.get_endpoint(name)
    if endpoint is None:
        echo(f"[deploy] {name}: creating {plan.target} endpoint")
        endpoint = ml.create_endpoint(plan.endpoint)
    else:
        echo(f"[deploy] {name}: exists ({shown(endpoint.traffic)}); it is not re-created")
    _grant_roles(roles, plan, endpoint, echo)
    before = dict(endpoint.traffic)
    new = plan.deployment_name
    current = {item.name: item for item in ml.list_deployments(name)}
    if new in current and current[new].healthy:
        echo(f"[deploy] {name}/{new}: already deployed with this content; reusing it")
    else:
        echo(f"[deploy] {name}/{new}: creating deployment (this takes several minutes)")
        state = ml.create_deployment(plan.deployment)
        if not state.healthy:
            detail = f": {state.error}" if state.error else ""
            message = (
                f"deployment {new} is {state.provisioning_state}{detail}; traffic unchanged "
                f"({shown(before)})"
            )
            echo(f"[deploy] {name}/{new}: FAILED: {message}")
            return RolloutResult(False, before, message)
        echo(f"[deploy] {name}/{new}: healthy")
    check = smoke(new)
    if not check.passed:
        message = f"smoke test of {new} failed before any traffic moved ({shown(before)})"
        return RolloutResult(False, before, message)
    after = plan_traffic(before, new, plan.traffic)
    if after != before:
        _set_traffic(ml, name, before, after, echo)
    check = smoke(new)
    if not check.passed:
        if sum(before.values()) == 0:
            message = (
                f"smoke test of {new} failed after the traffic shift; the endpoint served no "
                "traffic before, so there is nothing to roll back to (it keeps 100 % on "
                f"{new}, the only deployment, until a fixed one is deployed)"
            )
            return RolloutResult(False, after, message)
        restore = {**dict.fromkeys(after, 0), **before}
        _set_traffic(ml, name, after, restore, echo)
        message = f"smoke test of {new} failed after the traffic shift; restored {shown(restore)}"
        return RolloutResult(False, restore, message)
    if plan.delete_idle:
        keep = {new} | {deployment for deployment, share in after.items() if share > 0}
        keep |= {deployment for deployment, share in before.items() if share > 0}
        for idle in sorted(set(current) - keep):
            echo(f"[deploy] {name}/{idle}: deleting (0 % traffic, superseded)")
            ml.delete_deployment(name, idle)
    return RolloutResult(True, after, f"{name}: {shown(after)}")


def _grant_roles(roles: RoleService, plan: OnlinePlan, endpoint: EndpointState, echo: Echo) -> None:
    if not plan.roles:
        echo(f"[deploy] {endpoint.name}: user-assigned identity; its roles come from infra/")
        return
    if not endpoint.principal_id:
        raise LLMOpsError(
            f"endpoint {endpoint.name} has no managed identity principal: cannot grant "
            "it the roles that read workspace connections"
        )
    for role, scope in plan.roles:
        created = roles.ensure_role(endpoint.principal_id, role, scope)
        state = "granted" if created else "already granted"
        echo(f"[deploy] {endpoint.name}: role '{role}' {state} on {scope.rsplit('/', 1)[-1]}")
