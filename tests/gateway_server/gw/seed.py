"""Seed a fresh database: an admin (Basic auth), a non-admin user, two
organizations, and a read-scope and a write-scope token of the admin.
Returns what the tests need to know."""
import datetime
import secrets

from django.utils import timezone

from ansible_base.oauth2_provider.models import OAuth2AccessToken

from .models import Organization, User


def run(password):
    admin = User.objects.create_superuser("admin", "admin@example.com", password)
    User.objects.create_user("plain", "plain@example.com", password)
    orgs = [Organization.objects.create(name=name) for name in ("Default", "Engineering")]
    tokens = {}
    for scope in ("read", "read write"):
        tokens[scope] = secrets.token_urlsafe(30)
        OAuth2AccessToken.objects.create(
            user=admin,
            token=tokens[scope],
            scope=scope,
            expires=timezone.now() + datetime.timedelta(days=1),
        )
    return {
        "admin_password": password,
        "read_token": tokens["read"],
        "write_token": tokens["read write"],
        "organizations": {o.name: o.id for o in orgs},
    }

