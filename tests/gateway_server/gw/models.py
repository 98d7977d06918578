from django.db import models

from ansible_base.lib.abstract_models import AbstractDABUser, AbstractOrganization, AbstractTeam


class Organization(AbstractOrganization):
    pass


class Team(AbstractTeam):
    pass


class User(AbstractDABUser):
    pass
