import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEFAULTS = {
    "DJANGO_SUPERUSER_USERNAME": "admin",
    "DJANGO_SUPERUSER_PASSWORD": "admin",
    "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
}


class Command(BaseCommand):
    help = (
        "Create the superuser from DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL unless it exists "
        "(defaults are printed when a variable is unset)."
    )

    def handle(self, *args, **options) -> None:
        values = {}
        for name, default in DEFAULTS.items():
            value = os.environ.get(name)
            if not value:
                self.stdout.write(f"{name} is not set: using {default!r}")
                value = default
            values[name] = value
        User = get_user_model()
        username = values["DJANGO_SUPERUSER_USERNAME"]
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"superuser {username!r} already exists")
            return
        User.objects.create_superuser(
            username=username,
            email=values["DJANGO_SUPERUSER_EMAIL"],
            password=values["DJANGO_SUPERUSER_PASSWORD"],
        )
        self.stdout.write(f"created superuser {username!r}")
