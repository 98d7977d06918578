"""Seed a fresh database: an admin (Basic auth), a non-admin user, two
organizations, and a read-scope token of the admin. Prints one JSON line with
what the tests need."""
import datetime
import json
import secrets

from django.utils import timezone

from ansible_base.oauth2_provider.models import OAuth2AccessToken

from .models import Organization, User


def run(password):
    admin = User.objects.create_superuser("admin", "admin@example.com", password)
    User.objects.create_user("plain", "plain@example.com", password)
    orgs = [Organization.objects.create(name=name) for name in ("Default", "Engineering")]
    read_token = secrets.token_urlsafe(30)
    OAuth2AccessToken.objects.create(
        user=admin,
        token=read_token,
        scope="read",
        expires=timezone.now() + datetime.timedelta(days=1),
    )
    return {"admin_password": password, "read_token": read_token, "organizations": {o.name: o.id for o in orgs}}


if __name__ == "__main__":
    print(json.dumps(run(secrets.token_urlsafe(16))))
