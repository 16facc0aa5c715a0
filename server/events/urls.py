from django.urls import path

from events.views import ClientEventsView

urlpatterns = [
    path("api/events", ClientEventsView.as_view(), name="events"),
]
