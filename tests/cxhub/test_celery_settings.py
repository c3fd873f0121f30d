"""The Celery and kombu configuration is deliberate: the worker outlives its broker, Redis
never redelivers a task still running, and publishing from the web fails fast."""

from __future__ import annotations

from django.conf import settings

from cxhub.celery import WorkerHeartbeatStep
from cxhub.celery import app as celery_app


def test_the_worker_retries_its_broker_forever() -> None:
    """At start-up and after a lost connection, with no ceiling on the attempts."""
    conf = celery_app.conf
    assert conf.broker_connection_retry_on_startup is True
    assert conf.broker_connection_retry is True
    assert conf.broker_connection_max_retries is None


def test_publishing_still_fails_fast() -> None:
    """The web process's producer retries the connection once, with a 2 s timeout."""
    conf = celery_app.conf
    assert conf.broker_connection_timeout <= 2
    assert conf.broker_transport_options["max_retries"] <= 1


def test_the_visibility_timeout_outlasts_the_longest_task() -> None:
    """Redis redelivers an unacknowledged task only after every task has hit its hard limit,
    and the retry back-off waits less than that."""
    conf = celery_app.conf
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility
    assert visibility > settings.CXHUB_TASK_RETRY_BACKOFF_MAX


def test_running_tasks_are_cancelled_when_the_connection_is_lost() -> None:
    """With late acknowledgement their messages go back to the queue: no second copy runs."""
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_the_heartbeat_step_is_part_of_the_worker() -> None:
    assert WorkerHeartbeatStep in celery_app.steps["worker"]


def test_no_task_is_queued_with_an_eta_or_a_fixed_countdown() -> None:
    """Redis holds a message waiting for its ETA as unacknowledged and redelivers it after the
    visibility timeout; the only countdown is the bounded retry back-off (feedback.tasks)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("cxhub", "feedback", "actions", "analytics", "dashboards", "demo"):
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                for keyword in node.keywords:
                    if keyword.arg not in {"countdown", "eta"}:
                        continue
                    bounded = ast.unparse(keyword.value).startswith("retry_countdown(")
                    if not bounded:
                        found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []


def test_each_workload_has_its_queue_and_one_worker_consumes_them_all() -> None:
    """Processing and tagging go to ingest, analyses and their chord to analyses, roll-up
    refreshes to rollups, notifications and reminders to notifications; a worker started
    without -Q (make worker, compose, the tests) consumes every one of those queues."""
    celery_app.loader.import_default_modules()
    router = celery_app.amqp.router
    routed = {
        name: router.route({}, name)["queue"].name
        for name in celery_app.tasks
        if not name.startswith("celery.")
    }
    assert routed["feedback.tasks.responses_process_task"] == "ingest"
    assert routed["feedback.tasks.responses_sweep_unprocessed_task"] == "ingest"
    assert routed["analytics.tasks.text.responses_tag_task"] == "ingest"
    assert routed["analytics.tasks.insights.analysis_run_execute_task"] == "analyses"
    assert routed["analytics.tasks.insights.drivers_chunk_rows_task"] == "analyses"
    assert routed["analytics.tasks.insights.drivers_run_merge_task"] == "analyses"
    assert routed["analytics.tasks.impact.impact_estimate_due_task"] == "analyses"
    assert routed["actions.tasks.notification_email_send_task"] == "notifications"
    assert router.route({}, "dashboards.tasks.rollups_refresh_task")["queue"].name == "rollups"
    consumed = {queue.name for queue in celery_app.conf.task_queues}
    assert set(routed.values()) | {"rollups"} <= consumed
    assert consumed == set(settings.CXHUB_TASK_QUEUES)
    assert celery_app.conf.task_default_queue in consumed
