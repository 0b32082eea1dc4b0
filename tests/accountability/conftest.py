from tests.accountability.fixtures import (  # noqa: F401
    billing_admin,
    client_for,
    moderation_stand_in,
    moderator,
    moderator2,
    other_user,
    senior,
    senior2,
    subscriber,
    superuser,
)
