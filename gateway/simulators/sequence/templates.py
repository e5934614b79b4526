"""Workflow templates: what a job receives when it is created.

The Job page documents only that `template` names a workflow template whose
tasks and assets the job receives, and that `due_date` comes from applying
the template's offset to `begins_at` (the seed's "Basic" example has a zero
offset). The template catalogue itself is not public, so these are inferred.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    name: str
    requires_duration: bool = False


@dataclass(frozen=True, slots=True)
class WorkflowTemplate:
    name: str
    # Days between the due date and the begins date: material must be ready
    # this long before the availability window opens.
    lead_days: int
    tasks: tuple[TaskTemplate, ...]
    assets: tuple[str, ...]

    def due_date(self, begins_at: dt.date) -> dt.date:
        return begins_at - dt.timedelta(days=self.lead_days)


TEMPLATES: dict[str, WorkflowTemplate] = {
    template.name: template
    for template in (
        WorkflowTemplate(
            "Basic",
            0,
            (TaskTemplate("Ingest"), TaskTemplate("Quality control"), TaskTemplate("Publish")),
            ("feature_film", "metadata"),
        ),
        WorkflowTemplate(
            "Feature Film",
            14,
            (
                TaskTemplate("Ingest"),
                TaskTemplate("Transcode", requires_duration=True),
                TaskTemplate("Quality control", requires_duration=True),
                TaskTemplate("Subtitling"),
                TaskTemplate("Artwork approval"),
                TaskTemplate("Publish"),
            ),
            ("feature_film", "trailer", "box_art", "subtitles", "metadata"),
        ),
        WorkflowTemplate(
            "Episode",
            7,
            (
                TaskTemplate("Ingest"),
                TaskTemplate("Transcode", requires_duration=True),
                TaskTemplate("Quality control"),
                TaskTemplate("Publish"),
            ),
            ("feature_film", "box_art", "metadata"),
        ),
        WorkflowTemplate(
            "Trailer",
            3,
            (TaskTemplate("Ingest"), TaskTemplate("Quality control"), TaskTemplate("Publish")),
            ("trailer", "metadata"),
        ),
        WorkflowTemplate(
            "Cinema Delivery",
            10,
            (
                TaskTemplate("Order DCP"),
                TaskTemplate("Confirm delivery"),
                TaskTemplate("Ingest"),
                TaskTemplate("Publish"),
            ),
            ("trailer", "box_art", "metadata"),
        ),
    )
}
