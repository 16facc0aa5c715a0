from django.db import transaction
from django.urls import path

from events.views import ClientEventsView

urlpatterns = [
    # Not one transaction per request: ingest writes only the spool (and, with an
    # Idempotency-Key, one record in its own transaction), and a request-long SQLite write lock
    # would serialize every client batch.
    path("api/events", transaction.non_atomic_requests(ClientEventsView.as_view()), name="events"),
]
