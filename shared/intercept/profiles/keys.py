"""Keys of the profiles table, in one place (the design is written up in docs/data-model.md).

Every item has a string partition key ``PK`` and sort key ``SK``. The two global secondary
indexes are shared with the scoring stage; the items written here use prefixes of their own:

- ``GSI1PK=ACCOUNTS#{shard}``, ``GSI1SK={account_id}`` on live account profiles: a sparse
  listing of every account, spread over ``ACCOUNT_SHARDS`` partitions;
- ``GSI1PK=MERGES#{survivor}`` / ``GSI2PK=MERGES#{loser}`` on merge-log entries;
- ``GSI2PK=EMAILDOMAIN#{domain}`` on e-mail identifiers: who has an address at a domain.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import NamedTuple

PROFILE = "PROFILE"
ACCOUNT_SHARDS = 8


class Identifier(NamedTuple):
    """One identifier of a person or an account, e.g. ``Identifier("email", "ana@acme.io")``."""

    kind: str
    value: str

    @property
    def token(self) -> str:
        """The ``kind:value`` form used in profiles, the API and the CLI."""
        return f"{self.kind}:{self.value}"

    @classmethod
    def parse(cls, token: str) -> Identifier:
        kind, sep, value = token.partition(":")
        if not sep or not kind or not value:
            raise ValueError("identifier must look like kind:value, e.g. email:ana@acme.io")
        return cls(kind, value)


Key = dict[str, dict[str, str]]


def key(pk: str, sk: str) -> Key:
    """A key in DynamoDB's typed form."""
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def person_pk(person_id: str) -> str:
    return f"PERSON#{person_id}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def person_key(person_id: str) -> Key:
    return key(person_pk(person_id), PROFILE)


def account_key(account_id: str) -> Key:
    return key(account_pk(account_id), PROFILE)


def identifier_key(identifier: Identifier) -> Key:
    """Where a person identifier points to its person."""
    return key(f"ID#{identifier.kind}#{identifier.value}", "ID")


def account_identifier_key(identifier: Identifier) -> Key:
    """Where an account identifier points to its account."""
    return key(f"AID#{identifier.kind}#{identifier.value}", "AID")


def membership_sk(person_id: str) -> str:
    return f"PERSON#{person_id}"


def membership_key(account_id: str, person_id: str) -> Key:
    return key(account_pk(account_id), membership_sk(person_id))


def day_sk(day: date | str) -> str:
    return f"DAY#{day if isinstance(day, str) else day.isoformat()}"


def day_key(account_id: str, day: date | str) -> Key:
    return key(account_pk(account_id), day_sk(day))


def merge_key(merge_id: str) -> Key:
    return key(f"MERGE#{merge_id}", "LOG")


def unmerge_key(merge_id: str) -> Key:
    return key(f"MERGE#{merge_id}", "UNMERGE")


def account_shard(account_id: str) -> str:
    """The listing partition of an account: a stable hash, so writes spread evenly."""
    digest = int(hashlib.sha256(account_id.encode()).hexdigest()[:8], 16)
    return f"ACCOUNTS#{digest % ACCOUNT_SHARDS:02d}"


def account_shards() -> list[str]:
    return [f"ACCOUNTS#{n:02d}" for n in range(ACCOUNT_SHARDS)]


def dedupe_id(event_id: str) -> str:
    """The idempotency-table key that records one folded event."""
    return f"merge#{event_id}"


def short_hash(*parts: str, length: int = 24) -> str:
    """A stable hex digest of the parts, for generated ids."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]
