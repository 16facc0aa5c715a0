from django.urls import re_path

from exports.views import DownloadView, ExportEventsView, RequestListView, RequestView

# No trailing slash, as CVAT's API; one is tolerated. `GET /api/events` (the classic flow) is
# served by events.views.ClientEventsView.get, which delegates to exports.classic.
urlpatterns = [
    re_path(r"^api/events/export/?$", ExportEventsView.as_view(), name="events-export"),
    re_path(r"^api/events/download/?$", DownloadView.as_view(), name="events-download"),
    re_path(r"^api/requests/?$", RequestListView.as_view(), name="request-list"),
    re_path(r"^api/requests/(?P<rq_id>[^/]+)/?$", RequestView.as_view(), name="request-detail"),
]
