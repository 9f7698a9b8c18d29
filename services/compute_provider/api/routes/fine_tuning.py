"""GET /v1/fine-tuning/tasks[/{id}]: what the provider is doing with its fine-tuning tasks (stage, training step,
loss, tokens, the delivered root, or why it refused), for `zg compute finetune status`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.compute_provider.api.deps import ReadyRuntimeDep
from services.compute_provider.errors import OpenAIError
from services.compute_provider.finetune.tasks import task_view

router = APIRouter(prefix="/v1/fine-tuning", tags=["fine-tuning"])


def _tasks(runtime: ReadyRuntimeDep) -> Any:
    if runtime.tasks is None:
        raise OpenAIError(404, "not_found", "this provider does not fine-tune (ZG_COMPUTE_FINE_TUNING)")
    return runtime.tasks


@router.get("/tasks")
def tasks(runtime: ReadyRuntimeDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    return [task_view(row) for row in _tasks(runtime).all(limit)]


@router.get("/tasks/{task_id}")
def task(task_id: int, runtime: ReadyRuntimeDep) -> dict[str, Any]:
    row = _tasks(runtime).get(task_id)
    if row is None:
        raise OpenAIError(404, "not_found", f"no fine-tuning task {task_id} for this provider", "task_id")
    return task_view(row)
