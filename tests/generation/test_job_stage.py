"""The job page's stage label: one badge and one label that agree, stage by stage."""

from __future__ import annotations

import pytest

from generation.models import JobStatus
from generation.views import job_stage


@pytest.mark.parametrize(
    ("step", "after_steps", "label"),
    [
        (0, "", "Loading the model…"),
        (3, "", "Generating: step 3 of 8"),
        (8, "", "Checking the image against the content policy…"),
        (8, "checking", "Checking the image against the content policy…"),
        (8, "storing", "Storing the image (watermark and provenance)…"),
    ],
)
def test_a_running_job_names_its_stage(step: int, after_steps: str, label: str) -> None:
    stage = job_stage(
        status=JobStatus.RUNNING, step=step, total=8, queue_position=None, after_steps=after_steps
    )
    assert stage == {"badge": "Running", "tone": "info", "label": label}


def test_a_queued_job_says_where_it_waits() -> None:
    stage = job_stage(status=JobStatus.QUEUED, step=0, total=8, queue_position=3)
    assert stage == {
        "badge": "Queued",
        "tone": "warn",
        "label": "Waiting for a worker — position 3 in the queue.",
    }


def test_a_queued_job_waiting_for_the_deep_check_says_it_checks_the_prompt() -> None:
    stage = job_stage(status=JobStatus.QUEUED, step=0, total=8, queue_position=3, checking=True)
    assert stage == {"badge": "Queued", "tone": "warn", "label": "Checking the prompt…"}
