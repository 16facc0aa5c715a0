"""The built-in dashboard pages at /analytics/ (login required) and their two JSON endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization
from accounts.visibility import visible_org_ids
from analytics.errors import AnalyticsAPIView, not_found
from dashboards.catalog import dashboard, dashboards
from dashboards.runner import (
    ORGANIZATION_VARIABLE,
    read_selection,
    read_timezone,
    restriction_for,
    run_panel,
    variable_options,
)

API_BASE = "analytics/api/d"


@login_required
def index(request: HttpRequest) -> HttpResponse:
    listed = [
        {"uid": uid, "title": model["title"], "description": model.get("description", "")}
        for uid, model in dashboards().items()
    ]
    return render(request, "dashboards/index.html", {"dashboards": listed})


@login_required
def dashboard_page(request: HttpRequest, uid: str) -> HttpResponse:
    model = dashboard(uid)
    if model is None:
        raise Http404("No such dashboard.")
    org_ids = visible_org_ids(request.user)
    visible = Organization.objects.all() if org_ids is None else Organization.objects.filter(id__in=org_ids)
    context = {
        "uid": uid,
        "title": model["title"],
        "dashboard": model,
        "api_base": f"/{API_BASE}/{uid}",
        "default_timezone": read_timezone(settings.DASHBOARD_DEFAULT_TIMEZONE),
        # None: every organization (superusers); an empty list: the viewer is in none.
        "no_organization": org_ids is not None and not org_ids,
        # id -> slug: the raw-events export names its organization by slug.
        "organizations": {str(pk): slug for pk, slug in visible.values_list("id", "slug")[:1000]},
    }
    return render(request, "dashboards/dashboard.html", context)


class LoginView(auth_views.LoginView):
    template_name = "dashboards/login.html"
    redirect_authenticated_user = True


class _DashboardAPI(AnalyticsAPIView):
    # The pages' own endpoints: session (with CSRF) only, as the browser calls them.
    authentication_classes = [SessionAuthentication]

    def model(self, uid: str) -> dict[str, Any]:
        model = dashboard(uid)
        if model is None:
            raise not_found(f"No dashboard {uid!r}.", field="uid")
        return model


class PanelDataView(_DashboardAPI):
    @extend_schema(exclude=True)
    def post(self, request: Request, uid: str, panel_id: int) -> Response:
        model = self.model(uid)
        selection = read_selection(model, request.data)
        return Response(run_panel(model, panel_id, selection, restriction_for(request.user, selection)))


class VariableOptionsView(_DashboardAPI):
    @extend_schema(exclude=True)
    def post(self, request: Request, uid: str, name: str) -> Response:
        model = self.model(uid)
        selection = read_selection(model, request.data)
        if name == ORGANIZATION_VARIABLE:  # its options are every visible organization, not the chosen
            selection = replace(
                selection, variables={k: v for k, v in selection.variables.items() if k != name}
            )
        restriction = restriction_for(request.user, selection)
        return Response({"options": variable_options(model, name, selection, restriction)})
