"""The catalogue: every measure of the query API by name, the Dataloop measures that do not map
onto our events (and why), and the lookup of a measureType."""

from __future__ import annotations

from typing import Any

from analytics.errors import AnalyticsError
from analytics.query.measures.base import (
    Col,
    Measure,
    MetricList,
    MetricSingle,
    MetricTimeline,
)
from analytics.query.measures.bespoke import (
    DEFAULT_EDGES_MS,
    MAX_EDGE_MS,
    STATE_FIELDS,
    ActivityByField,
    ActivityByRole,
    DurationStats,
    ExceptionsByStatus,
    IssueCorrections,
    IssueResolveTime,
    IssuesPerAssignee,
    JobDurationHistogram,
    JobLatestState,
)
from analytics.registry import STATE_METRICS

# --- the measures -----------------------------------------------------------------------------------

WT = "working_time_ms"
_WT_LIST = {"include": WT}

_MEASURES: list[Measure] = [
    MetricList(
        "activeUsers",
        "Users with at least one event in range (registry `active_users`): their events, working time "
        "and first / last active bucket.",
        dims=("user_id",),
        cols=(Col("events", "events"), Col("workingTime", WT)),
        include="active_users",
        require_ids=("user_id",),
        first_last=("firstActivity", "lastActivity"),
        user_name=True,
        sort_field="lastActivity",
        ties=("userId",),
    ),
    MetricTimeline(
        "annotationTimeline",
        "Per bucket: objects drawn, pasted and deleted, object edits, annotations saved through the "
        "server, and drawing time (registry metrics).",
        cols=(
            Col("objectsDrawn", "objects_drawn"),
            Col("objectsPasted", "objects_pasted"),
            Col("objectsDeleted", "objects_deleted"),
            Col("objectEdits", "object_edits"),
            Col("annotationsSaved", "annotations_saved_server"),
            Col("drawDuration", "draw_duration_ms"),
        ),
    ),
    MetricTimeline(
        "itemStatusTimeline",
        "Per bucket: jobs moved to each state (new, in progress, rejected, completed): the job state "
        "changes of the registry's JOB_STATE_KEYS.",
        cols=tuple(Col(STATE_FIELDS[state], name) for state, name in STATE_METRICS.items()),
    ),
    MetricList(
        "itemAnnotationDuration",
        "Per job with working time in range (registry `jobs_worked`): its working time.",
        dims=("job_id", "task_id", "project_id"),
        cols=(Col("duration", WT),),
        include="jobs_worked",
        aliases={"itemId": "job_id"},
        sort_field="duration",
    ),
    JobDurationHistogram(
        "countItemInAnnotationTimeBucket",
        "Jobs with working time in range by their working time in range (bins of `params.edgesMs`), "
        "each counted once, in the bucket of its last working time.",
        params_doc={
            "edgesMs": f"bin edges in ms, increasing, at most {MAX_EDGE_MS} "
            f"(default {list(DEFAULT_EDGES_MS)})"
        },
    ),
    MetricList(
        "avgItemAnnotationTimePerAnnotator",
        "Per user with working time: KPI `working_time_per_job_ms` over the user's working time "
        "and the jobs they worked on.",
        dims=("user_id",),
        read_dims=("job_id",),
        cols=(
            Col("avgTime", kpi="working_time_per_job_ms"),
            Col("totalTime", WT),
            Col("jobs", "jobs_worked"),
        ),
        user_name=True,
        sort_field="avgTime",
        **_WT_LIST,
    ),
    JobLatestState(
        "assignmentStatsCompletedStatus",
        "Per job with a state change in range: its latest state, when and by whom, and how many times "
        "it moved to each state.",
    ),
    DurationStats(
        "assignmentStatsItemActiveTimeStats",
        "Per job: count, total, average, min, p50, p90 and max of its working-time events' durations "
        "(the total is its working time).",
        actions=(WT,),
    ),
    MetricList(
        "assignmentStatsItemTotalTime",
        "Per job with working time: its working time.",
        dims=("job_id", "task_id", "project_id"),
        cols=(Col("totalTime", WT),),
        include="jobs_worked",
        aliases={"itemId": "job_id"},
        sort_field="totalTime",
    ),
    DurationStats(
        "assignmentStatsAnnotationActionTimeStats",
        "Per job and annotation action (registry `objects_drawn`, `objects_pasted`, `objects_deleted`, "
        "`object_edits`): events, objects, total and average time per object, and single events' "
        "min / p50 / p90 / max duration.",
        actions=("objects_drawn", "objects_pasted", "objects_deleted", "object_edits"),
        with_action=True,
    ),
    MetricList(
        "assignmentStatsActiveTime",
        "Per job and user: the user's working time on the job.",
        dims=("job_id", "user_id"),
        cols=(Col("activeTime", WT),),
        require_ids=("job_id",),
        sort_field="activeTime",
        **_WT_LIST,
    ),
    MetricList(
        "assignmentStatsStudioActiveTime",
        "Same as assignmentStatsActiveTime: the annotation UI is the studio, and working time is "
        "only counted there.",
        dims=("job_id", "user_id"),
        cols=(Col("activeTime", WT),),
        require_ids=("job_id",),
        sort_field="activeTime",
        **_WT_LIST,
    ),
    MetricList(
        "assignmentStartTime",
        "Per job and user who opened it in range (registry `jobs_opened`): the first bucket they opened "
        "it in, and how many times.",
        dims=("job_id", "task_id", "project_id", "user_id"),
        cols=(Col("opens", "jobs_opened"),),
        include="jobs_opened",
        require_ids=("job_id",),
        first_last=("startTime", "lastOpenTime"),
        sort_field="startTime",
        ties=("jobId", "userId"),
    ),
    MetricSingle(
        "labelingCounters",
        "Objects drawn, pasted, deleted and edited, annotations saved through the server, frame "
        "changes, drawing time and KPI `avg_draw_time_ms`, over the range.",
        cols=(
            Col("objectsDrawn", "objects_drawn"),
            Col("objectsPasted", "objects_pasted"),
            Col("objectsDeleted", "objects_deleted"),
            Col("objectEdits", "object_edits"),
            Col("annotationsSaved", "annotations_saved_server"),
            Col("framesChanged", "frames_changed"),
            Col("drawDuration", "draw_duration_ms"),
            Col("avgDrawTime", kpi="avg_draw_time_ms"),
        ),
    ),
    MetricList(
        "userStatsTaskActivityTime",
        "Per user and task: working time.",
        dims=("user_id", "task_id", "project_id"),
        cols=(Col("duration", WT),),
        sort_field="duration",
        ties=("userId", "taskId", "projectId"),
        **_WT_LIST,
    ),
    MetricList(
        "userStatsActivityTime",
        "Per user with working time: working time (always `active`: working time leaves idle gaps out).",
        dims=("user_id",),
        cols=(Col("activityDuration", WT),),
        constants={"activityStatus": "active"},
        user_name=True,
        sort_field="activityDuration",
        **_WT_LIST,
    ),
    ActivityByField(
        "userStatsActivityTimeByField",
        "Working time grouped by `params.groupByFields` (orgId, projectId, taskId / datasetId, jobId / "
        "itemId / assignmentId, userId, time), one record per group with working time.",
        params_doc={"groupByFields": "required: the fields to group by, in record order"},
    ),
    ActivityByRole(
        "userStatsActivityTimeByRole",
        "Working time by the role (owner, maintainer, supervisor, worker) the user holds now in the "
        "organization the time was spent in; null role: not a member (any more) or no organization.",
    ),
    MetricSingle(
        "userStatsTotalActivityTime",
        "Working time over the range (registry `working_time_ms`).",
        cols=(Col("activityDuration", WT),),
    ),
    MetricSingle(
        "userStatsStudioTime",
        "Same number as userStatsTotalActivityTime (working time is only counted in the annotation UI).",
        cols=(Col("activityDuration", WT),),
    ),
    MetricSingle(
        "annotationCounters",
        "Working time, jobs worked on, KPI `working_time_per_job_ms`, objects drawn and KPI "
        "`avg_draw_time_ms`, over the range.",
        cols=(
            Col("totalTime", WT),
            Col("jobs", "jobs_worked"),
            Col("avgItemAnnotationTime", kpi="working_time_per_job_ms"),
            Col("objectsDrawn", "objects_drawn"),
            Col("avgAnnotationTime", kpi="avg_draw_time_ms"),
        ),
        dims=("job_id",),
    ),
    MetricSingle(
        "annotationWholeTime",
        "Working time over the range, as `totalTime`.",
        cols=(Col("totalTime", WT),),
    ),
    MetricSingle(
        "issueCounters",
        "Issues opened, resolved and reopened, and KPI `issue_resolution_rate`, over the range.",
        cols=(
            Col("created", "issues_created"),
            Col("resolved", "issues_resolved"),
            Col("reopened", "issues_reopened"),
            Col("resolutionRate", kpi="issue_resolution_rate"),
        ),
    ),
    MetricTimeline(
        "issueTimeline",
        "Per bucket: issues opened, resolved and reopened.",
        cols=(
            Col("created", "issues_created"),
            Col("resolved", "issues_resolved"),
            Col("reopened", "issues_reopened"),
        ),
    ),
    IssueResolveTime(
        "issueResolveTime",
        "Per bucket: issue resolutions (registry `issues_resolved`) and, for those whose issue's "
        "creation is recorded, the total, average and longest time from creation to resolution.",
    ),
    IssueCorrections(
        "issueCorrectionTime",
        "Per issue opened in range: time from its creation to the first save of its job after it (the "
        "correction) and to its first resolution, null when not (yet) in range.",
    ),
    IssuesPerAssignee(
        "issuePerAnnotator",
        "Issues opened in range (registry `issues_created`) by the current assignee of their job.",
    ),
    MetricTimeline(
        "executionOverTime",
        "Per bucket: function calls (registry `function_calls`).",
        cols=(Col("executions", "function_calls"),),
    ),
    MetricTimeline(
        "exceptionsOverTime",
        "Per bucket: client and server exceptions, KPI `exceptions` and KPI `exceptions_per_1k_events`.",
        cols=(
            Col("client", "exceptions_client"),
            Col("server", "exceptions_server"),
            Col("total", kpi="exceptions"),
            Col("perThousandEvents", kpi="exceptions_per_1k_events"),
        ),
    ),
    ExceptionsByStatus(
        "exceptionsByStatusCode",
        "Exceptions (KPI `exceptions`) by source and HTTP status code (server errors; null for client "
        "exceptions).",
    ),
    MetricList(
        "jobsCompletedPerUser",
        "Per user who moved jobs to `completed` in range: how many times (registry `jobs_completed`).",
        dims=("user_id",),
        cols=(Col("jobsCompleted", "jobs_completed"),),
        include="jobs_completed",
        user_name=True,
        sort_field="jobsCompleted",
    ),
    MetricTimeline(
        "objectsPerWorkingHour",
        "Per bucket: objects drawn, working time and KPI `objects_per_working_hour`.",
        cols=(
            Col("objectsDrawn", "objects_drawn"),
            Col("workingTime", WT),
            Col("objectsPerWorkingHour", kpi="objects_per_working_hour"),
        ),
    ),
]

MEASURES: dict[str, Measure] = {m.name: m for m in _MEASURES}

# Dataloop measures that do not map onto our events, and why (400 measure_not_supported).
_NO_LABEL = "events carry no label (CVAT's client does not record one on object actions)"
_NO_FAAS = "there are no FaaS services, models or pipelines"
NOT_SUPPORTED: dict[str, str] = {
    "avgAnnotationTimePerLabel": _NO_LABEL,
    "labelingActionsPerLabel": _NO_LABEL,
    "labelingTimePerLabel": _NO_LABEL,
    "labelingAvgTimePerLabel": _NO_LABEL,
    "issuePerLabel": "issues are not tied to a label",
    "issueRaiseTime": "there is no reviewer timing of raising an issue",
    "issueApprovalTime": "corrections have no approval step",
    "assignmentStatsAnnotationClassifyBulkStats": "there is no bulk classification",
    "annotationClassifyBulkTime": "there is no bulk classification",
    "serviceReplicaStatus": _NO_FAAS,
    "serviceQueueSize": _NO_FAAS,
    "serviceNumberOfReplicas": _NO_FAAS,
    "serviceUsage": _NO_FAAS,
    "serviceUsageProjects": _NO_FAAS,
    "snapshotData": _NO_FAAS,
    "executionDuration": "function calls carry no duration",
    "executionCountByFunction": "function calls do not record which function",
    "executionAvgDurationByNode": _NO_FAAS,
    "pipelineExecutionAvgDuration": _NO_FAAS,
}
assert not set(NOT_SUPPORTED) & set(MEASURES)


def lookup(measure_type: str, path: str) -> Measure:
    found = MEASURES.get(measure_type)
    if found is not None:
        return found
    if measure_type in NOT_SUPPORTED:
        raise AnalyticsError(
            f"{measure_type} is not supported: {NOT_SUPPORTED[measure_type]}.",
            code="measure_not_supported",
            field=path,
        )
    raise AnalyticsError(
        f"Unknown measureType {measure_type!r}; see docs/query-api.md for the measures.",
        code="unknown_measure",
        field=path,
    )


def sort_ties(measure: Measure, params: dict[str, Any]) -> tuple[str, ...]:
    ties = getattr(measure, "sort_ties", None)
    return ties(params) if callable(ties) else measure.ties
