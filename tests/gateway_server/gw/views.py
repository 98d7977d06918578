"""DAB ships no viewsets for organizations and users; the gateway has them."""
from rest_framework import serializers
from rest_framework.viewsets import ModelViewSet

from ansible_base.lib.utils.views.django_app_api import AnsibleBaseDjangoAppApiView

from .models import Organization, User


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "description"]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "is_superuser"]


class OrganizationViewSet(AnsibleBaseDjangoAppApiView, ModelViewSet):
    queryset = Organization.objects.order_by("id")
    serializer_class = OrganizationSerializer


class UserViewSet(AnsibleBaseDjangoAppApiView, ModelViewSet):
    queryset = User.objects.order_by("id")
    serializer_class = UserSerializer
