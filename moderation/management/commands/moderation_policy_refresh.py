"""``python manage.py moderation_policy_refresh``: publish the shipped rules if untouched.

After an upgrade that ships new term lists or a retrained text head, this publishes the
built-in policy as the next version, but only while the newest version is itself an
untouched built-in default (see ``moderation.policy.policy_refresh_builtin``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from moderation.policy import BUILTIN_REASON, policy_current, policy_refresh_builtin


class Command(BaseCommand):
    help = "Publish the shipped moderation rules and thresholds over an untouched policy."

    def handle(self, *args: Any, **options: Any) -> None:
        version = policy_refresh_builtin()
        if version is not None:
            self.stdout.write(f"published policy version {version.number}: {version.reason}")
            return
        current = policy_current()
        if current.reason.startswith(BUILTIN_REASON):
            self.stdout.write(f"policy version {current.number} is already the shipped default")
        else:
            self.stdout.write(
                f"policy version {current.number} was edited by moderators; left as it is "
                "(publish the shipped rules from the policy editor if wanted)"
            )
