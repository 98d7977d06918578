"""Add COUNT public applications named PREFIX0000... to organization ORG
(created if missing) of the test gateway in GATEWAY_STATE_DIR, straight into
its database: creating them through the API would hash 1,000 secrets
(about a second each). Usage: bulk.py COUNT PREFIX ORG"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gw.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from oauth2_provider.generators import generate_client_id  # noqa: E402

from ansible_base.oauth2_provider.models import OAuth2Application  # noqa: E402
from gw.models import Organization, User  # noqa: E402


def main(count, prefix, org_name):
    org, _ = Organization.objects.get_or_create(name=org_name)
    admin = User.objects.get(username="admin")
    # One hash for all: an already hashed value is stored as it is.
    hashed = make_password("bulk-secret-not-used")
    OAuth2Application.objects.bulk_create(
        OAuth2Application(
            name=f"{prefix}{i:04d}",
            organization=org,
            client_id=generate_client_id(),
            client_secret=hashed,
            client_type="public",
            authorization_grant_type="password",
            created_by=admin,
            modified_by=admin,
        )
        for i in range(count)
    )
    print(org.id)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
