from tests.accountability.fixtures import (  # noqa: F401
    billing_admin,
    client_for,
    moderator,
    moderator2,
    other_user,
    senior,
    senior2,
    subscriber,
    superuser,
)
