"""Settings of the smallest Django project that serves django-ansible-base's
OAuth2 applications the way the AAP platform gateway mounts them
(`/api/gateway/v1/applications/`). Used only by appform's tests."""
import os

from ansible_base.lib.dynamic_config.settings_logic import get_dab_settings

BASE_DIR = os.environ.get("GATEWAY_STATE_DIR", os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "appform-test-gateway-not-a-secret-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "gw.urls"
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE_DIR, "gateway.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AUTH_USER_MODEL = "gw.User"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "ansible_base.api_documentation",
    "ansible_base.rest_filters",
    "ansible_base.authentication",
    "ansible_base.oauth2_provider",
    "gw",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crum.CurrentRequestUserMiddleware",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["ansible_base.oauth2_provider.permissions.OAuth2ScopePermission"],
    "DEFAULT_PAGINATION_CLASS": "ansible_base.rest_pagination.DefaultPaginator",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]
STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]

globals().update(
    get_dab_settings(
        installed_apps=INSTALLED_APPS,
        rest_framework=REST_FRAMEWORK,
        middleware=MIDDLEWARE,
        authentication_backends=["django.contrib.auth.backends.ModelBackend"],
        templates=TEMPLATES,
    )
)
# get_dab_settings points these at auth.Group when they are not in the dict
# it was given: every application create would then fail "Invalid pk".
ANSIBLE_BASE_ORGANIZATION_MODEL = "gw.Organization"
ANSIBLE_BASE_TEAM_MODEL = "gw.Team"
