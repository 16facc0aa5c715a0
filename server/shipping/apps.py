from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Event shipping"

    def ready(self) -> None:
        from shipping import schema  # noqa: F401  (registers the OpenAPI extension)
