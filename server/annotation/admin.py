from django.contrib import admin

from annotation.models import Comment, Issue, Job, Label, Project, Task


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "organization", "owner", "assignee", "created_date"]
    search_fields = ["name"]
    raw_id_fields = ["organization", "owner", "assignee"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "organization", "owner", "assignee", "created_date"]
    search_fields = ["name"]
    raw_id_fields = ["project", "organization", "owner", "assignee"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "project", "organization", "assignee", "stage", "state", "type"]
    list_filter = ["stage", "state", "type"]
    raw_id_fields = ["task", "assignee"]
    readonly_fields = ["project", "organization", "annotations_version"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "type", "color", "project", "task"]
    search_fields = ["name"]
    raw_id_fields = ["project", "task"]
    readonly_fields = ["organization"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "frame", "owner", "assignee", "resolved", "created_date"]
    list_filter = ["resolved"]
    raw_id_fields = ["job", "owner", "assignee"]
    readonly_fields = ["task", "project", "organization"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "issue", "owner", "created_date"]
    raw_id_fields = ["issue", "owner"]
    readonly_fields = ["job", "task", "project", "organization"]
