from django.urls import include, path
from rest_framework.routers import SimpleRouter

from ansible_base.lib.dynamic_config.dynamic_urls import api_urls, api_version_urls, root_urls

from .views import OrganizationViewSet, UserViewSet

router = SimpleRouter()
router.register(r"organizations", OrganizationViewSet, basename="organization")
router.register(r"users", UserViewSet, basename="user")

# The gateway mounts DAB's API under /api/gateway/v1/ and its OAuth views at /o/.
urlpatterns = [
    path("api/gateway/v1/", include(api_version_urls)),
    path("api/gateway/v1/", include(router.urls)),
    path("api/gateway/", include(api_urls)),
    path("", include(root_urls)),
]
