from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_ACCOUNTS, demo_password, seed_accounts
from billing.demo import seed_billing
from generation.demo import seed_review_items


class Command(BaseCommand):
    help = "Create the demo plans and accounts of SPEC §10 (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = demo_password()
        users = seed_accounts(password=password)
        seed_billing(users=users)
        seed_review_items(user=users["pro@example.com"])
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in with:"))
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.email:<26} {account.role}")
        self.stdout.write(f"  password: {password}")
